import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {learnFromHistory, learnLater} from '../../source/alerts/learn-history.js';
import {AlertEngine} from '../../source/core/alert-engine.js';
import {type AlertNotice, alertEvent, sampleEvent} from '../../source/core/alert-notice.js';
import {type AlertRule, type KindSpec, fieldValue, formatDuration, parseDuration, parseRate} from '../../source/core/alert-rules.js';
import {BucketRing} from '../../source/core/alert-window.js';
import {type LogEvent} from '../../source/core/event.js';
import {compileFilter, parseFilterExpression} from '../../source/core/filter.js';
import {openHistory} from '../../source/history/open.js';
import {event} from '../support/events.js';

// The rule engine with an injected clock: every kind, cooldowns, resolves, groups, window edges.

function rule(spec: KindSpec, fields: Partial<AlertRule> = {}): AlertRule {
	return {name: 'r', when: '', groupBy: [], notify: ['terminal'], cooldownMs: 60_000, resolve: true, severity: 'warning', labels: {}, spec, ...fields};
}

/** An engine on a clock the test moves; `at(t, …)` feeds events received at t. */
function harness(rules: AlertRule[], start = 0) {
	let now = start;
	const notices: AlertNotice[] = [];
	const engine = new AlertEngine({rules, now: () => now, onNotice: n => notices.push(n)});
	return {
		engine,
		notices,
		at(t: number, ...fields: Array<Partial<LogEvent>>) {
			now = t;
			engine.observe(fields.map(f => event({receivedAt: t, level: 'ERROR', ...f})));
		},
		tick(t: number) {
			now = t;
			engine.tick(t);
		},
		/** "firing:web", "resolved:" … in order. */
		log: () => notices.map(n => `${n.status}${n.repeat ? '+' : ''}:${Object.values(n.group).join(',')}`),
	};
}

const match = (resolveAfterMs = 30_000): KindSpec => ({kind: 'match', resolveAfterMs});

describe('durations and rates', () => {
	test.each([['500ms', 500], ['90s', 90_000], ['5m', 300_000], ['1h30m', 5_400_000], ['2d', 172_800_000], ['1.5s', 1500]])('%s', (text, ms) => {
		expect(parseDuration(text)).toBe(ms);
	});

	test('not durations', () => {
		for (const bad of ['', '5', 'm', '5 minutes', '-1s', '5x']) {
			expect(parseDuration(bad)).toBeUndefined();
		}
	});

	test('rates in events per minute', () => {
		expect(parseRate('20/min')).toBe(20);
		expect(parseRate('2/s')).toBe(120);
		expect(parseRate('120/h')).toBe(2);
		expect(parseRate('20')).toBeUndefined();
	});

	test('formatDuration', () => {
		expect(formatDuration(600_000)).toBe('10m');
		expect(formatDuration(5_400_000)).toBe('1h30m');
		expect(formatDuration(45_000)).toBe('45s');
		expect(formatDuration(250)).toBe('250ms');
	});
});

describe('BucketRing', () => {
	test('an event counts for exactly one window from its bucket', () => {
		const ring = new BucketRing(10_000);
		ring.add(1000);
		expect(ring.current(1000)).toBe(1);
		expect(ring.current(10_999)).toBe(1);
		expect(ring.current(11_000)).toBe(0);
	});

	test('previous window, gaps longer than the ring, late events', () => {
		const ring = new BucketRing(10_000, 2);
		for (let t = 0; t < 10_000; t += 1000) {
			ring.add(t);
		}

		expect(ring.current(9999)).toBe(10);
		expect(ring.previous(9999)).toBe(0);
		ring.add(15_000);
		expect(ring.current(15_000)).toBe(5); // 6000..9000 and 15000
		expect(ring.previous(15_000)).toBe(6);
		ring.add(12_000); // late, still in the current window
		expect(ring.current(15_000)).toBe(6);
		expect(ring.current(1_000_000)).toBe(0);
		expect(ring.previous(1_000_000)).toBe(0);
	});
});

describe('match', () => {
	test('fires on the first matching event, repeats after the cooldown if more came, resolves when quiet', () => {
		const h = harness([rule(match(30_000), {when: 'level>=critical', cooldownMs: 60_000})]);
		h.at(1000, {level: 'ERROR'});
		expect(h.notices).toEqual([]);
		h.at(2000, {level: 'CRITICAL', message: 'db down'});
		expect(h.log()).toEqual(['firing:']);
		expect(h.notices[0]).toMatchObject({rule: 'r', kind: 'match', status: 'firing', startsAt: 2000, value: 1, sample: {message: 'db down', level: 'CRITICAL'}});
		h.at(20_000, {level: 'CRITICAL'}, {level: 'CRITICAL'});
		h.at(45_000, {level: 'CRITICAL'});
		h.tick(61_000);
		expect(h.log()).toEqual(['firing:']); // within the cooldown
		h.tick(62_000);
		expect(h.log()).toEqual(['firing:', 'firing+:']);
		expect(h.notices[1]).toMatchObject({repeat: true, value: 3, startsAt: 2000});
		h.tick(74_999);
		expect(h.log()).toHaveLength(2);
		h.tick(75_000); // 30 s after the last match
		expect(h.log()).toEqual(['firing:', 'firing+:', 'resolved:']);
		expect(h.notices[2]).toMatchObject({status: 'resolved', startsAt: 2000, endsAt: 75_000, summary: 'no matching event for 30s'});
	});

	test('no repeat when nothing more matched', () => {
		const h = harness([rule(match(300_000), {cooldownMs: 10_000})]);
		h.at(0, {});
		h.tick(50_000);
		expect(h.log()).toEqual(['firing:']);
	});

	test('groups are separate: each fires, repeats and resolves on its own', () => {
		const h = harness([rule(match(10_000), {groupBy: ['service']})]);
		h.at(0, {service: 'web'}, {service: 'api'}, {service: 'web'});
		expect(h.log()).toEqual(['firing:web', 'firing:api']);
		expect(h.notices[0]!.fingerprint).not.toBe(h.notices[1]!.fingerprint);
		expect(h.notices[0]!.group).toEqual({service: 'web'});
		h.at(5000, {service: 'api'});
		h.tick(10_000);
		expect(h.log()).toEqual(['firing:web', 'firing:api', 'resolved:web']);
		h.tick(15_000);
		expect(h.log()).toEqual(['firing:web', 'firing:api', 'resolved:web', 'resolved:api']);
	});

	test('groupBy a record field; markers are never counted', () => {
		const h = harness([rule(match(), {groupBy: ['user.id', 'host']})]);
		h.at(0, {record: {user: {id: 7}}, host: 'a'}, {marker: 'gap'}, {marker: 'alert'});
		expect(h.notices.map(n => n.group)).toEqual([{'user.id': '7', host: 'a'}]);
	});

	test('resolve: false sends no resolved notice', () => {
		const h = harness([rule(match(1000), {resolve: false})]);
		h.at(0, {});
		h.tick(5000);
		expect(h.log()).toEqual(['firing:']);
		expect(h.engine.alertsSnapshot().firing).toEqual([]);
	});
});

describe('count', () => {
	const spec: KindSpec = {kind: 'count', atLeast: 3, windowMs: 10_000};

	test('fires at N within the window, not when the first has left it (edges)', () => {
		const h = harness([rule(spec)]);
		h.at(0, {});
		h.at(5000, {});
		h.at(10_000, {}); // the event at 0 is out: [0, 10 s) is its window
		expect(h.notices).toEqual([]);
		h.at(14_999, {});
		expect(h.log()).toEqual(['firing:']);
		expect(h.notices[0]).toMatchObject({value: 3, summary: '3 events in 10s (alert at 3 or more)'});
	});

	test('the event that completes the window exactly at its last instant counts', () => {
		const h = harness([rule(spec)]);
		h.at(0, {});
		h.at(1000, {});
		h.at(9999, {});
		expect(h.log()).toEqual(['firing:']);
	});

	test('resolves when the window drops below N; fires again only after the cooldown', () => {
		const h = harness([rule(spec, {cooldownMs: 60_000})]);
		h.at(0, {}, {}, {});
		h.tick(9999);
		expect(h.log()).toEqual(['firing:']);
		h.tick(10_000);
		expect(h.log()).toEqual(['firing:', 'resolved:']);
		// Flapping within the cooldown: firing again, quietly; shown as firing all the same.
		h.at(20_000, {}, {}, {});
		expect(h.log()).toEqual(['firing:', 'resolved:']);
		expect(h.engine.alertsSnapshot().firing).toHaveLength(1);
		h.tick(25_000);
		h.at(29_000, {}, {}, {});
		h.at(38_000, {}, {}, {});
		h.at(47_000, {}, {}, {});
		h.at(56_000, {}, {}, {});
		h.at(60_000, {}, {}, {});
		expect(h.log()).toEqual(['firing:', 'resolved:', 'firing:']);
		h.tick(75_000);
		expect(h.log()).toEqual(['firing:', 'resolved:', 'firing:', 'resolved:']);
	});
});

describe('rate', () => {
	test('above the threshold for the `for` duration, then resolved', () => {
		const h = harness([rule({kind: 'rate', perMinute: 60, windowMs: 10_000, forMs: 5000})]);
		// 11 events in 10 s = 66/min
		for (let i = 0; i <= 10; i++) {
			h.at(i * 100, {});
		}

		expect(h.notices).toEqual([]); // above since the 11th, at 1 s
		h.tick(5999);
		expect(h.notices).toEqual([]);
		h.tick(6000);
		expect(h.log()).toEqual(['firing:']);
		expect(h.notices[0]!.summary).toBe('66/min over 10s > 60/min for 5s');
		h.tick(9999);
		expect(h.log()).toHaveLength(1);
		h.tick(10_000); // the first one left the window: 10 in 10 s is not above 60/min
		expect(h.log()).toEqual(['firing:', 'resolved:']);
	});

	test('a dip below the threshold restarts the `for` clock', () => {
		const h = harness([rule({kind: 'rate', perMinute: 60, windowMs: 10_000, forMs: 5000})]);
		for (let i = 0; i <= 10; i++) {
			h.at(i * 100, {});
		}

		h.tick(3000);
		h.tick(10_500); // the first events left: 66 -> below
		h.at(11_000, ...Array.from({length: 11}, () => ({})));
		h.tick(14_000);
		expect(h.notices).toEqual([]);
		h.tick(16_000);
		expect(h.log()).toEqual(['firing:']);
	});
});

describe('spike', () => {
	const spec: KindSpec = {kind: 'spike', factor: 3, windowMs: 10_000, minCurrent: 5, minReference: 2};

	test('inactive for the first two windows', () => {
		const h = harness([rule(spec)]);
		h.at(12_000, ...Array.from({length: 50}, () => ({})));
		h.tick(19_999);
		expect(h.notices).toEqual([]);
	});

	test('floors on the reference and the current window', () => {
		const h = harness([rule(spec, {groupBy: ['service']})]);
		// Reference window 20-30 s: one event for web (under minReference), two for api.
		h.at(21_000, {service: 'web'}, {service: 'api'}, {service: 'api'});
		// Current window 30-40 s: web 10 (reference too small), api 4 (3x... under minCurrent).
		h.at(31_000, ...Array.from({length: 10}, () => ({service: 'web'})), ...Array.from({length: 4}, () => ({service: 'api'})));
		expect(h.notices).toEqual([]);
		h.at(32_000, {service: 'api'});
		expect(h.notices).toEqual([]); // 5 < 3 x 2
		h.at(33_000, {service: 'api'});
		expect(h.log()).toEqual(['firing:api']);
		expect(h.notices[0]!.summary).toBe('6 events in the last 10s, 3× the 2 before (alert at 3×)');
		h.tick(41_000); // current window: the two api events of 32 s and 33 s; the reference: the four of 31 s
		expect(h.log()).toEqual(['firing:api', 'resolved:api']);
	});
});

describe('flatline', () => {
	const spec: KindSpec = {kind: 'flatline', below: 1, windowMs: 10_000};

	test('only for groups seen before, after a whole window', () => {
		const h = harness([rule(spec, {groupBy: ['service'], when: 'service=web service=api'})]);
		h.at(0, {service: 'web'});
		h.at(2000, {service: 'web'});
		h.tick(5000);
		h.tick(10_000); // the event at 2 s still counts
		expect(h.notices).toEqual([]);
		h.tick(12_000);
		expect(h.log()).toEqual(['firing:web']); // api was never seen: not announced
		expect(h.notices[0]!.summary).toBe('0 events in the last 10s (alert below 1)');
		h.tick(13_000);
		expect(h.log()).toHaveLength(1);
		h.at(14_000, {service: 'web'});
		expect(h.log()).toEqual(['firing:web', 'resolved:web']);
	});

	test('an ungrouped flatline waits for its first event', () => {
		const h = harness([rule(spec)]);
		h.tick(60_000);
		expect(h.notices).toEqual([]);
	});
});

describe('newTerm', () => {
	const spec: KindSpec = {kind: 'newTerm', field: 'fingerprint', warmupMs: 10_000, resolveAfterMs: 60_000, maxTerms: 100};

	test('learns during the warm-up, then fires once per new fingerprint', () => {
		const h = harness([rule(spec)]);
		h.at(1000, {message: 'timeout after 3000 ms'});
		h.at(15_000, {message: 'timeout after 99 ms'});
		expect(h.notices).toEqual([]);
		h.at(16_000, {message: 'disk full on /dev/sda1'});
		h.at(17_000, {message: 'disk full on /dev/sdb1'});
		expect(h.log()).toEqual(['firing:disk full on <path>']);
		expect(h.notices[0]).toMatchObject({group: {term: 'disk full on <path>'}, summary: 'new fingerprint: disk full on <path>'});
		h.tick(76_000);
		expect(h.log()).toEqual(['firing:disk full on <path>', 'resolved:disk full on <path>']);
		h.at(200_000, {message: 'disk full on /dev/sdc1'});
		expect(h.log()).toHaveLength(2); // seen before: never announced again
	});

	test('learn: terms of past events (the history) are not new, with their groups, and fire nothing', () => {
		const h = harness([rule({...spec, warmupMs: 0}, {when: 'level>=error', groupBy: ['service']})]);
		h.engine.learn([
			event({service: 'web', level: 'ERROR', message: 'db down on 10.0.0.1'}),
			event({service: 'web', level: 'INFO', message: 'cache cold'}),
		]);
		expect(h.notices).toEqual([]);
		h.at(1000, {service: 'web', message: 'db down on 10.0.0.2'});
		expect(h.notices).toEqual([]);
		h.at(2000, {service: 'web', message: 'cache cold'});
		h.at(3000, {service: 'api', message: 'db down on 10.0.0.3'});
		expect(h.log()).toEqual(['firing:web,cache cold', 'firing:api,db down on <ip>']);
	});

	test('per group: a known error in a new service is new there', () => {
		const h = harness([rule({...spec, warmupMs: 0}, {groupBy: ['service']})]);
		h.at(1000, {service: 'web', message: 'boom'});
		h.at(2000, {service: 'api', message: 'boom'});
		h.at(3000, {service: 'web', message: 'boom'});
		expect(h.log()).toEqual(['firing:web,boom', 'firing:api,boom']);
	});

	test('looks back over a real history on disk: stored errors are not announced again after a restart', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-alerts-history-'));
		try {
			const stored = await openHistory(dir, {writer: {flushMs: 60_000, maintenanceMs: 3_600_000}});
			stored.writer!.append([
				event({seq: 1, receivedAt: 1000, time: 1000, level: 'ERROR', message: 'timeout after 3000 ms'}),
				event({seq: 2, receivedAt: 2000, time: 2000, level: 'INFO', message: 'all good'}),
			]);
			await stored.writer!.settle();
			await stored.close();

			const history = await openHistory(dir, {readOnly: true});
			const h = harness([rule({...spec, warmupMs: 0})], 10_000);
			expect(await learnFromHistory(h.engine, history.reader, 0)).toBe(1);
			await history.close();
			h.at(11_000, {message: 'timeout after 12 ms'});
			expect(h.notices).toEqual([]);
			h.at(12_000, {message: 'disk full on /dev/sda1'});
			expect(h.log()).toEqual(['firing:disk full on <path>']);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	test('while the history is read back, new terms past the warm-up wait: those it holds are not new, the others fire when it is done', () => {
		const h = harness([rule({...spec, warmupMs: 0})]);
		h.engine.holdNewTerms();
		h.at(1000, {message: 'db down on 10.0.0.1'});
		h.at(2000, {message: 'disk full on /dev/sda1'});
		expect(h.notices).toEqual([]);
		h.engine.learn([event({level: 'ERROR', message: 'db down on 10.0.0.9'})]);
		h.engine.releaseNewTerms();
		expect(h.log()).toEqual(['firing:disk full on <path>']);
		expect(h.notices[0]).toMatchObject({startsAt: 2000, sample: {message: 'disk full on /dev/sda1'}});
		h.at(3000, {message: 'disk full on /dev/sdb1'}, {message: 'db down on 10.0.0.2'});
		expect(h.log()).toHaveLength(1);
	});

	test('learnLater: new terms wait for the look-back over a real history, which starts after half the warm-up', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-alerts-history-'));
		try {
			const stored = await openHistory(dir, {writer: {flushMs: 60_000, maintenanceMs: 3_600_000}});
			stored.writer!.append([event({seq: 1, receivedAt: 1000, time: 1000, level: 'ERROR', message: 'timeout after 3000 ms'})]);
			await stored.writer!.settle();
			await stored.close();

			const history = await openHistory(dir, {readOnly: true});
			const h = harness([rule({...spec, warmupMs: 0})], 10_000);
			const read = new Promise<number>((resolve, reject) => {
				learnLater(h.engine, history.reader, Date.now(), {done: resolve, failed: reject});
			});
			// The look-back has not begun (no time has passed): both wait.
			h.at(11_000, {message: 'timeout after 12 ms'});
			h.at(12_000, {message: 'disk full on /dev/sda1'});
			expect(h.notices).toEqual([]);
			expect(await read).toBe(1);
			await history.close();
			expect(h.log()).toEqual(['firing:disk full on <path>']);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	test('memory: past maxTerms the least recently seen term is forgotten, and is new again', () => {
		const h = harness([rule({...spec, warmupMs: 0, maxTerms: 2})]);
		// A repeat straight after itself is known; a seen again is more recent than b, which c pushes out.
		h.at(1000, {message: 'a'}, {message: 'a'}, {message: 'b'}, {message: 'b'});
		h.at(2000, {message: 'a'}, {message: 'c'});
		h.tick(70_000);
		// b was forgotten: new again, and it pushes a out, which is new again too.
		h.at(71_000, {message: 'b'}, {message: 'a'}, {message: 'a'});
		expect(h.log()).toEqual(['firing:a', 'firing:b', 'firing:c', 'resolved:a', 'resolved:b', 'resolved:c', 'firing:b', 'firing:a']);
		expect(h.engine.alertsSnapshot().rules[0]!.termsForgotten).toBe(3);
	});
});

describe('silences, snapshot and alert events', () => {
	test('a silenced rule still fires in the snapshot, flagged', () => {
		const h = harness([rule(match(), {name: 'crit'})]);
		expect(h.engine.silence('crit', 100_000)).toBe(true);
		expect(h.engine.silence('nope', 100_000)).toBe(false);
		h.at(1000, {});
		expect(h.notices[0]!.silenced).toBe(true);
		const snap = h.engine.alertsSnapshot();
		expect(snap.firing).toMatchObject([{rule: 'crit', silenced: true}]);
		expect(snap.rules).toEqual([{name: 'crit', kind: 'match', groups: 1, overflow: 0, silencedUntil: 100_000}]);
		expect(snap.recent).toHaveLength(1);
	});

	test('group cardinality is bounded and overflow counted', () => {
		let now = 0;
		const engine = new AlertEngine({rules: [rule(match(), {groupBy: ['host']})], now: () => now, onNotice() {}, maxGroups: 3});
		engine.observe(['a', 'b', 'c', 'd', 'e'].map(host => event({receivedAt: now, host})));
		now = 1;
		expect(engine.alertsSnapshot().rules[0]).toMatchObject({groups: 3, overflow: 2});
	});

	test('as a bus event: marker and type alert, level from the severity, text safe for a terminal', () => {
		const h = harness([rule(match(), {name: 'crit', severity: 'critical', groupBy: ['user']})]);
		h.at(1000, {record: {user: 'evil\u001B[2J'}, message: 'x'});
		const e = alertEvent(h.notices[0]!);
		expect(e).toMatchObject({marker: 'alert', type: 'alert', sourceId: 'alerts', sourceKind: 'alerts', level: 'CRITICAL'});
		expect(e.message).not.toContain('\u001B');
		expect(e.message).toContain('FIRING crit');
		const typeAlert = compileFilter(parseFilterExpression('type=alert'));
		expect(typeAlert.test({...e, seq: 1})).toBe(true);
		expect(typeAlert.test(event({}))).toBe(false);
		expect(compileFilter(parseFilterExpression('level>=error')).test({...alertEvent({...h.notices[0]!, status: 'resolved'}), seq: 2})).toBe(false);
	});

	test('fieldValue: built-in fields, record paths, missing values', () => {
		const e = event({status: 503, record: {a: {b: true}, n: 1.5, o: {}}, message: 'took 30 ms'});
		expect(fieldValue(e, 'status')).toBe('503');
		expect(fieldValue(e, 'a.b')).toBe('true');
		expect(fieldValue(e, 'n')).toBe('1.5');
		expect(fieldValue(e, 'o')).toBe('');
		expect(fieldValue(e, 'missing.path')).toBe('');
		expect(fieldValue(e, 'fingerprint')).toBe('took <n> ms');
	});
});

describe('what a group keeps of its latest event', () => {
	test('a short event as it is; a long one without its line and record, its message cut to what a notice shows', () => {
		const short = event({message: 'disk full', raw: '{"message":"disk full"}', record: {message: 'disk full'}});
		expect(sampleEvent(short)).toBe(short);
		const long = event({message: 'm'.repeat(1 << 20), raw: 'r'.repeat(1 << 20), record: {message: 'm'}, service: 'web'});
		const kept = sampleEvent(long);
		expect(kept.message).toHaveLength(501);
		expect(kept.raw).toBe('');
		expect(kept.record).toBeUndefined();
		expect(kept.service).toBe('web');
		const h = harness([rule(match())]);
		h.at(1000, {message: 'x'.repeat(1 << 20)});
		expect(h.notices[0]!.sample!.message).toBe(`${'x'.repeat(500)}…`);
	});
});
