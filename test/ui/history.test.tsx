import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {openHistory, type History} from '../../source/history/open.js';
import {fixtureEvents, type FixtureHistory, writeHistory} from '../support/history.js';
import {keys, setup} from './harness.js';

// The UI over a real history on disk (written by the store's writer, read by its reader):
// the tail filled at start with the seam, older pages read when scrolling up, the search going
// on into the history, and the errors/stats time window.

type Harness = ReturnType<typeof setup>;
let h: Harness | undefined;
let dir: string;
let history: History;
let fixture: FixtureHistory;
const count = 6000;
const rare = 'quokkamagic';

beforeAll(async () => {
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-ui-history-'));
	// Spread over three days, the newest a minute ago: about 80 events in the last hour.
	fixture = fixtureEvents({count, words: new Map([[12, rare]])});
	await writeHistory(dir, fixture.events);
	history = await openHistory(dir, {readOnly: true});
});

afterAll(async () => {
	await history.close();
	rmSync(dir, {recursive: true, force: true});
});

afterEach(() => {
	h?.close();
	h = undefined;
});

/** The counters (`#123`) in a frame, top to bottom. */
function counters(frame: string): number[] {
	return [...frame.matchAll(/#(\d+) /g)].map(m => Number(m[1]));
}

async function start(options: Parameters<typeof setup>[0] = {}): Promise<Harness> {
	h = setup({rows: 30, buffer: 50, historyReader: history.reader, ...options});
	await h.controller.startHistory();
	return h;
}

describe('the tail over the history', () => {
	test('at start: the last events of the history, the seam, then the live lines', async () => {
		const u = await start();
		u.lines(['live one', 'live two']);
		const f = u.tail(await u.waitFor('live two'));
		const rows = f.split('\n');
		const seam = rows.findIndex(r => r.includes('history above · live below'));
		expect(seam).toBeGreaterThan(0);
		expect(rows.findIndex(r => r.includes('live one'))).toBeGreaterThan(seam);
		expect(rows.slice(0, seam).join('\n')).toContain(`#${count} `);
		// The aggregates start from the same events.
		expect(u.stats.total).toBeGreaterThan(0);
	});

	test('scrolling up past memory reads older pages, page by page', async () => {
		const u = await start();
		u.lines(['live one']);
		await u.waitFor('live one');
		const seen: number[] = [];
		for (let i = 0; i < 12 && (seen.length === 0 || Math.min(...seen) > count - 2500); i++) {
			await u.press('g');
			const f = await u.waitFor(x => !x.includes('loading…') && counters(x).length > 0);
			seen.push(...counters(f));
		}

		expect(Math.min(...seen)).toBeLessThan(count - 2500);
		// Counters go up from top to bottom: the pages are in order.
		const last = counters(u.frame());
		expect(last).toEqual([...last].sort((a, b) => a - b));
		expect(u.frame()).toContain(' history');
		// Back to the live end.
		await u.press('G');
		await u.waitFor(x => x.includes('live one') && x.includes('following'));
	});

	test('pages let go are read again: back down from deep in the history, no row is skipped', async () => {
		// Pages of 20 events and at most 60 rows held: going 300 rows up lets the newest pages go.
		const u = await start({historyPage: 20});
		u.lines(['live one']);
		await u.waitFor('live one');
		let f = u.frame();
		for (let i = 0; i < 40 && Math.min(...counters(f)) > count - 300; i++) {
			await u.press('g');
			f = await u.waitFor(x => !x.includes('loading…') && counters(x).length > 0);
		}

		const deepest = Math.min(...counters(f));
		expect(deepest).toBeLessThanOrEqual(count - 300);
		const seen = new Set(counters(f));
		for (let i = 0; i < 200 && !f.includes('live one'); i++) {
			await u.press(keys.pageDown);
			f = await u.waitFor(x => !x.includes('loading…'));
			for (const c of counters(f)) {
				seen.add(c);
			}
		}

		expect(f).toContain('live one');
		for (let c = deepest; c <= count; c++) {
			expect(seen.has(c), `#${c} shown`).toBe(true);
		}
	});

	test('/ goes on into the history and n keeps going back', async () => {
		const u = await start();
		u.lines(['live one']);
		await u.waitFor('live one');
		await u.press('/', ...rare, keys.enter);
		const f = await u.waitFor(x => x.includes(`#12 ${rare}`) && !x.includes('searching history'));
		expect(f).toMatch(new RegExp(`▶.*#12 ${rare}`));
		// n: no older match.
		await u.press('n');
		await u.waitFor(`no older match for /${rare}/`);
	});

	test('Escape stops a search in the history', async () => {
		const u = await start();
		await u.press('/', 'no such word anywhere', keys.enter);
		await u.waitFor(x => x.includes('searching history') || x.includes('no older match'));
		await u.press(keys.escape);
		await u.waitFor(x => !x.includes('searching history'));
	});

	test('the error list starts from the history; Enter on a group marks its row among the history rows', async () => {
		// 2,500 events end with BGL lines, some of them errors.
		const small = mkdtempSync(path.join(tmpdir(), 'logmon-ui-history-errors-'));
		const fewer = fixtureEvents({count: 2500});
		await writeHistory(small, fewer.events);
		const other = await openHistory(small, {readOnly: true});
		try {
			const u = await start({historyReader: other.reader, columns: 160, rows: 40});
			const f = await u.waitFor(x => /Errors +\d+ in [1-9]\d* groups/.test(x));
			const newestError = fewer.events.findLast(e => e.level === 'ERROR')!;
			expect(u.errors.total).toBeGreaterThan(0);
			expect(f).toContain(newestError.message.slice(0, 20));
			await u.press(keys.tab, keys.enter);
			await u.waitFor('Latest occurrence');
			await u.press(keys.escape);
			const frame = await u.waitFor(x => !x.includes('Latest occurrence'));
			expect(frame).toMatch(new RegExp(`▶.*${newestError.message.slice(0, 12).replace(/[^\w ]/g, '.')}`));
		} finally {
			await other.close();
			rmSync(small, {recursive: true, force: true});
		}
	});

	test('h: errors and stats over 3 days come from the history', async () => {
		const u = await start({columns: 160, rows: 40});
		for (const label of ['1h', '24h', '3d']) {
			await u.press('h');
			await u.waitFor(`errors and stats: ${label}`);
		}

		const f = await u.waitFor(x => new RegExp(`Errors +3d ${fixture.errors.toLocaleString('en-US')} in`).test(x) && !x.includes('loading…'));
		expect(f).toMatch(/Services +3d/);
		await u.press('h');
		await u.waitFor('errors and stats: since start');
	});
});
