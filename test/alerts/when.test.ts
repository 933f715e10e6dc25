import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {AlertEngine} from '../../source/core/alert-engine.js';
import {type AlertNotice} from '../../source/core/alert-notice.js';
import {type AlertRule} from '../../source/core/alert-rules.js';
import {Whens} from '../../source/core/alert-when.js';
import {type LogEvent} from '../../source/core/event.js';
import {compileFilter, emptySpec, parseFilterExpression} from '../../source/core/filter.js';
import {eventFromLine} from '../../source/core/record.js';
import {root} from '../support/logmon.js';

// The rules' `when`s are tested together, cheap checks first, patterns behind a literal
// prefilter. Whatever the order and the shortcuts, each must pass exactly the events the
// same expression passes as a filter: checked on every line of the loghub fixtures.

/** Every fixture line as an event, with services, hosts, types and sources that vary. */
function fixtureEvents(): LogEvent[] {
	const dir = path.join(root, 'test', 'fixtures', 'loghub');
	const events: LogEvent[] = [];
	for (const file of readdirSync(dir).filter(f => f.endsWith('.log')).sort()) {
		for (const line of readFileSync(path.join(dir, file), 'utf8').split(/\r?\n/).filter(Boolean)) {
			const n = events.length;
			const init = eventFromLine(line, {
				sourceId: n % 3 === 0 ? 'kafka' : 'logio',
				sourceKind: 'logio-listen',
				service: file.replace(/_2k\.log$/, '').toLowerCase(),
				host: `web-${n % 4}`,
				type: n % 5 === 0 ? 'apache-error' : 'app',
				receivedAt: n,
			});
			events.push({seq: n, ...init});
		}
	}

	return events;
}

const whens = [
	'',
	'level>=error',
	'level>=warn service=apache',
	'level>=info service=openssh host=web-1',
	'type=apache-error',
	'source=kafka level>=notice',
	// Plain text, a choice of texts, case ignored, excluded.
	'error',
	'"timeout|refused"',
	'"Connection broken"',
	'(?i)error',
	'(?i)ERROR|(?i)fail',
	'error !debug',
	'!INFO',
	'level>=error "connection"',
	'service=hdfs "PacketResponder|Receiving"',
	// Patterns the RE2 engine runs, with text to require and without.
	String.raw`"conn.*(?:reset|abort)"`,
	String.raw`"(?i)conn\w* timed"`,
	String.raw`"\berror\b"`,
	'(?i)fail(ed|ure)',
	String.raw`"user \w+ from \d+\.\d+"`,
	String.raw`"[Ee]rror"`,
	String.raw`"\d{3}"`,
	String.raw`"blk_-?\d+"`,
	String.raw`"(?i)session (opened|closed)"`,
	String.raw`"colou?r|Invalid user \S+"`,
	String.raw`"a|b*"`,
	String.raw`"\x41uthentication"`,
	String.raw`"\pLword|authentication failure"`,
	String.raw`!"\d{2}:\d{2}"`,
	String.raw`"(?i)kerberos|pam_unix" !"(?i)session"`,
	String.raw`"[]x]+ok|jk2_init\(\)"`,
];

describe('whens', () => {
	const events = fixtureEvents();

	test('pass exactly the events their filters pass, on every fixture line', () => {
		const filters = whens.map(w => compileFilter(parseFilterExpression(w, emptySpec())));
		for (const options of [{}, {prefilter: false}]) {
			const set = new Whens(whens, options);
			const passed = whens.map(() => 0);
			for (const e of events) {
				const hits = set.test(e);
				// The same answers by level and text, as the engine asks for a run of one scope.
				const rank = set.rank(e);
				const text = set.textPass(rank, e.message);
				let expectedAny = false;
				for (const [i, f] of filters.entries()) {
					const expected = f.test(e);
					expectedAny ||= expected;
					if ((hits?.[i] === 1) !== expected) {
						expect.fail(`${JSON.stringify(whens[i])} on ${JSON.stringify(e.message)} (${e.level} ${e.service} ${e.host} ${e.type} ${e.sourceId}): ${hits?.[i] === 1} but the filter says ${expected}`);
					}

					const byRank = set.cheapPass(rank)[i] === 1 && (!set.readsText(i) || text?.[i] === 1);
					expect(byRank, `${whens[i]} by rank and text`).toBe(expected);
					passed[i]! += expected ? 1 : 0;
				}

				expect(hits !== undefined).toBe(expectedAny);
			}

			// The comparison means something: most whens pass some lines and fail others.
			const between = passed.filter(n => n > 0 && n < events.length).length;
			expect(between).toBe(whens.length - 2); // all but '' and a|b*
		}
	});

	test('an engine fires for the events each rule\'s filter passes', () => {
		const rules: AlertRule[] = whens.map((when, i) => ({
			name: `r${i}`, when, groupBy: ['service'], notify: ['terminal'], cooldownMs: 0, resolve: false, severity: 'warning', labels: {}, spec: {kind: 'match', resolveAfterMs: 60_000},
		}));
		const notices: AlertNotice[] = [];
		let now = 0;
		const engine = new AlertEngine({rules, now: () => now, onNotice: n => notices.push(n), recent: 1});
		// One event per instant: each matching event is a run of its own, so it gets a notice of its own.
		for (let i = 0; i < events.length; i += 100) {
			const batch = events.slice(i, i + 100);
			now = batch[0]!.receivedAt;
			engine.observe(batch);
		}

		for (const [i, when] of whens.entries()) {
			const filter = compileFilter(parseFilterExpression(when, emptySpec()));
			const expected = events.filter(e => filter.test(e)).map(e => e.receivedAt);
			const got = notices.filter(n => n.rule === `r${i}`).map(n => n.at);
			expect(got, when).toEqual(expected);
		}
	});
});

describe('the engine, a batch of one scope at a time or event by event', () => {
	test('every kind of rule on the fixture lines: the same notices either way', () => {
		const kinds = [
			{kind: 'match', resolveAfterMs: 60_000},
			{kind: 'count', atLeast: 20, windowMs: 60_000},
			{kind: 'rate', perMinute: 30, windowMs: 60_000, forMs: 10_000},
			{kind: 'spike', factor: 2, windowMs: 20_000, minCurrent: 10, minReference: 2},
			{kind: 'flatline', below: 1, windowMs: 30_000},
			{kind: 'newTerm', field: 'fingerprint', warmupMs: 30_000, resolveAfterMs: 60_000, maxTerms: 50},
		] as const;
		const ruleWhens = ['', 'level>=error', 'level>=warn service=linux', '"(?i)fail|error"', 'level>=info !"\\d{4}"', 'type=apache-error "client"'];
		const rules: AlertRule[] = kinds.flatMap((spec, k) => ruleWhens.map((when, w) => ({
			name: `${spec.kind}-${w}`, when, groupBy: k % 2 === 0 ? ['service'] : ['service', 'host'], notify: ['terminal'], cooldownMs: 20_000, resolve: true, severity: 'warning' as const, labels: {}, spec,
		})));
		// Batches of one service, host, type and source, received at one instant, 1,000 lines a second.
		const batches: LogEvent[][] = [];
		for (const e of fixtureEvents()) {
			const last = batches.at(-1)?.[0];
			const at = Math.floor(e.seq / 40) * 40;
			const moved = {...e, receivedAt: at};
			if (last && last.receivedAt === at && last.service === e.service && last.host === e.host && last.type === e.type && last.sourceId === e.sourceId) {
				batches.at(-1)!.push(moved);
			} else {
				batches.push([moved]);
			}
		}

		const run = (eventByEvent: boolean): string[] => {
			const notices: AlertNotice[] = [];
			let now = 0;
			const engine = new AlertEngine({rules, now: () => now, onNotice: n => notices.push(n)});
			let ticked = 0;
			for (const batch of batches) {
				now = batch[0]!.receivedAt;
				// A marker in the batch: counted by no rule, it takes the event-by-event way.
				engine.observe(eventByEvent ? [...batch, {...batch[0]!, marker: 'gap'}] : batch);
				if (now - ticked >= 1000) {
					engine.tick(now);
					ticked = now;
				}
			}

			return notices.map(n => `${n.at} ${n.rule} ${n.status} ${JSON.stringify(n.group)} ${n.value} ${n.sample?.message ?? ''}`);
		};

		const byBatch = run(false);
		expect(byBatch.length).toBeGreaterThan(100);
		expect(run(true)).toEqual(byBatch);
	});
});
