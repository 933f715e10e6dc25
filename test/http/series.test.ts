import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {eventually, request, serve, stop, type Served} from '../support/http.js';

// GET /api/v1/logs/series, the dashboard chart's events and errors per step, over real HTTP.

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

describe('GET /api/v1/logs/series', () => {
	let s: Served;
	beforeAll(async () => {
		s = await serve();
		for (const [level, service, message] of [['info', 'web', 'GET / 200'], ['error', 'web', 'upstream timed out'], ['warn', 'db', 'slow query'], ['critical', 'db', 'disk full']]) {
			s.child.stdin!.write(`${JSON.stringify({level, service, message})}\n`);
		}

		await eventually(async () => (await request(`${s.base}/api/v1/health`)).json?.sources?.[0]?.events === 4, 'the four events');
	});
	afterAll(async () => {
		await stop(s);
	});

	it('counts events and errors (ERROR and CRITICAL) per step over the window, in memory without a history', async () => {
		const r = await request(`${s.base}/api/v1/logs/series?since=5m`);
		expect(r.status).toBe(200);
		expect(r.json).toMatchObject({from: 'memory', stepMs: 5000, since: expect.any(String), until: expect.any(String)});
		expect(r.json.partial).toBeUndefined();
		expect(r.json.events).toHaveLength(r.json.errors.length);
		expect(r.json.events.length).toBeGreaterThanOrEqual(60);
		expect(r.json.events.length).toBeLessThanOrEqual(61);
		expect(sum(r.json.events)).toBe(4);
		expect(sum(r.json.errors)).toBe(2);
		expect(r.json.counted).toBeUndefined();
		// Steps start on step boundaries.
		expect(Date.parse(r.json.since) % 5000).toBe(0);
	});

	it('takes the filter parameters (q in the f prompt grammar, service) and points', async () => {
		const db = await request(`${s.base}/api/v1/logs/series?since=1h&points=12&q=${encodeURIComponent('service=db')}`);
		expect(db.json.stepMs).toBe(300_000);
		// No q words and steps of 10 s or more: from the counts, no event read.
		expect(db.json.counted).toBe(true);
		expect([sum(db.json.events), sum(db.json.errors)]).toEqual([2, 1]);
		const web = await request(`${s.base}/api/v1/logs/series?service=web&q=timed`);
		expect([sum(web.json.events), sum(web.json.errors)]).toEqual([1, 1]);
		expect(web.json.counted).toBeUndefined();
		const levels = await request(`${s.base}/api/v1/logs/series?since=15m&level=warn`);
		expect([levels.json.counted, sum(levels.json.events), sum(levels.json.errors)]).toEqual([true, 3, 2]);
		expect(levels.json.events).toHaveLength(levels.json.errors.length);
	});

	it('a window reaching far ahead is answered at once, and the server stays responsive', async () => {
		// The counts were stepped through slot by slot up to `until`: 8,000 years held the server for minutes.
		const far = await request(`${s.base}/api/v1/logs/series?since=1h&until=9999-01-01T00:00:00Z`);
		expect(far.status).toBe(200);
		expect(far.json.counted).toBe(true);
		expect([sum(far.json.events), sum(far.json.errors)]).toEqual([4, 2]);
		expect((await request(`${s.base}/api/v1/health`)).status).toBe(200);
	});

	it('refuses bad parameters with a 400 naming them', async () => {
		const points = await request(`${s.base}/api/v1/logs/series?points=0`);
		expect([points.status, points.json.parameter]).toEqual([400, 'points']);
		const window = await request(`${s.base}/api/v1/logs/series?since=1h&until=2h`);
		expect([window.status, window.json.parameter]).toEqual([400, 'until']);
		const since = await request(`${s.base}/api/v1/logs/series?since=yesterday`);
		expect([since.status, since.json.parameter]).toEqual([400, 'since']);
		const q = await request(`${s.base}/api/v1/logs/series?q=${encodeURIComponent('level>=loud')}`);
		expect([q.status, q.json.parameter]).toEqual([400, 'q']);
	});
});

describe('GET /api/v1/logs/series from the history', () => {
	it('counts the last run from the history and this run from memory, each event once', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-http-series-'));
		try {
			const first = await serve(['--history', '--history-dir', dir]);
			first.child.stdin!.write(['one', 'two', 'three ERROR'].map(m => `${JSON.stringify({service: 'web', message: m})}\n`).join(''));
			await eventually(async () => (await request(`${first.base}/api/v1/health`)).json?.history?.written >= 3, 'the history written');
			expect(await stop(first)).toBe(0);

			const second = await serve(['--history', '--history-dir', dir]);
			second.child.stdin!.write(`${JSON.stringify({level: 'error', service: 'web', message: 'four'})}\n`);
			const r = await eventually(async () => {
				const answer = await request(`${second.base}/api/v1/logs/series?since=1h`);
				// The last run's segments are sealed as this one starts; their counts are listed a second or so later.
				return sum(answer.json.events) === 4 && sum(answer.json.errors) === 2 ? answer : undefined;
			}, 'the four events counted');
			expect(r.json).toMatchObject({from: 'history', counted: true});
			expect(sum(r.json.errors)).toBe(2);
			// Once this run's event is written too, it is still counted once.
			await eventually(async () => (await request(`${second.base}/api/v1/health`)).json?.history?.written >= 1, 'the new event written');
			const again = await request(`${second.base}/api/v1/logs/series?since=1h`);
			expect([sum(again.json.events), sum(again.json.errors)]).toEqual([4, 2]);
			await stop(second);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
