import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {eventually, request} from '../support/http.js';
import {freePort} from '../support/logmon.js';
import {paneCommand, prepare, Tmux} from '../support/tmux.js';

// --http on a run with the terminal UI, in a real terminal: the UI shows the events and the API
// of the same run answers for them while the UI runs; the services pane and the API's stats are
// the same counts, each event counted once.

let dir: string;
let tmux: Tmux | undefined;

beforeAll(() => {
	prepare();
	dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-tmux-http-'));
}, 300_000);

afterAll(() => {
	tmux?.kill();
	rmSync(dir, {recursive: true, force: true});
});

describe('--http with the terminal UI', () => {
	test('the UI shows the events; the API of the same run serves them', async () => {
		const port = await freePort();
		const input = path.join(dir, 'events.ndjson');
		writeFileSync(input, [
			{level: 'info', service: 'checkout', message: 'gamma-one order placed'},
			{level: 'error', service: 'checkout', message: 'gamma-two payment refused'},
			{level: 'warn', service: 'search', message: 'gamma-three slow query'},
		].map(e => JSON.stringify(e) + '\n').join(''));
		tmux = new Tmux(paneCommand(`--stdin --http 127.0.0.1:${port}`, {input: [input]}), 160, 30);
		const screen = await tmux.waitFor(s => ['gamma-one', 'gamma-two', 'gamma-three'].every(w => s.includes(w)), 30_000);
		expect(screen).toContain('checkout');
		// The services pane counts each event once: with --http it shares the server's statistics.
		const services = await tmux.waitFor(/checkout +[\d.]+ +\S+ +1 +50%/, 10_000);
		expect(services).toMatch(/search +[\d.]+ +\S+ +0 +0%/);
		const base = `http://127.0.0.1:${port}/api/v1`;
		const stats = await eventually(async () => {
			const r = await request(`${base}/logs/stats`);
			return r.json?.total === 3 ? r : undefined;
		}, 'the API to count the three events');
		expect(stats.json).toMatchObject({errors: 1, levels: {INFO: 1, ERROR: 1, WARN: 1}});
		expect(stats.json.services[0]).toMatchObject({service: 'checkout', total: 2, errors: 1});
		const errors = await request(`${base}/logs/errors`);
		expect(errors.json.events.map((e: {message: string}) => e.message)).toEqual(['gamma-two payment refused']);
		const groups = await request(`${base}/logs/groups`);
		expect(groups.json).toMatchObject({total: 1, groupCount: 1});
		tmux.keys(['q']);
		const end = await tmux.waitFor('DONE');
		expect(end).toContain('EXIT=0');
	}, 120_000);
});
