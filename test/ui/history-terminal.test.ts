import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {fixtureEvents, type FixtureHistory, writeHistory} from '../support/history.js';
import {paneCommand, prepare, Tmux} from '../support/tmux.js';

// The built logmon in a real terminal over a history of 200,000 events (written beforehand by
// the store's writer, as an earlier run would have): the tail starts with the history's last
// events, scrolling up goes past memory into older pages, a search finds a word only an old
// event holds, and the error list over 3 days counts the old errors.

const count = 200_000;
const rare = 'quokkamagic';
let dir: string;
let live: string;
let fixture: FixtureHistory;
let tmux: Tmux | undefined;

beforeAll(async () => {
	prepare();
	dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-tmux-history-'));
	live = path.join(dir, 'live.log');
	writeFileSync(live, 'live line one\nlive line two\n');
	fixture = fixtureEvents({count, words: new Map([[5, rare]])});
	await writeHistory(path.join(dir, 'history'), fixture.events);
}, 300_000);

afterAll(() => {
	tmux?.kill();
	rmSync(dir, {recursive: true, force: true});
});

/** The counters (`#123`) on a screen. */
function counters(screen: string): number[] {
	return [...screen.matchAll(/#(\d+) /g)].map(m => Number(m[1]));
}

describe('the UI over a history of 200,000 events', () => {
	test('tail from the history, scroll into older pages, search into the history, errors over 3d', async () => {
		tmux = new Tmux(paneCommand(`--stdin --history --history-dir ${dir}/history --buffer 1000`, {input: [live]}), 160, 40);
		let screen = await tmux.waitFor(s => s.includes('history above · live below') && s.includes('live line two'), 30_000);
		expect(screen).toContain(`#${count} `);

		// Up past memory: g goes to the oldest row held, and older pages are read from the store.
		let oldest = Math.min(...counters(screen));
		for (let i = 0; i < 40 && oldest >= count - 3000; i++) {
			tmux.keys(['g']);
			// eslint-disable-next-line no-await-in-loop
			screen = await tmux.waitFor(s => counters(s).length > 0 && Math.min(...counters(s)) < oldest);
			oldest = Math.min(...counters(screen));
		}

		expect(oldest).toBeLessThan(count - 3000);
		expect(screen).toMatch(/Tail\s+history/);

		// A word only event #5 holds: not in memory, so the search goes on into the history.
		tmux.keys(['/']);
		tmux.keys([rare], true);
		tmux.keys(['Enter']);
		screen = await tmux.waitFor(s => s.includes('searching history') || s.includes(`#5 ${rare}`), 30_000);
		expect(screen).toContain('searching history');
		screen = await tmux.waitFor(`#5 ${rare}`, 60_000);
		expect(screen).toMatch(new RegExp(`▶.*#5 ${rare}`));

		// The errors over 3 days: every ERROR of the history, counted by the store.
		for (const label of ['1h', '24h', '3d']) {
			tmux.keys(['h']);
			// eslint-disable-next-line no-await-in-loop
			await tmux.waitFor(`errors and stats: ${label}`);
		}

		screen = await tmux.waitFor(new RegExp(`Errors +3d ${fixture.errors.toLocaleString('en-US')} in \\d+ groups`), 30_000);
		tmux.keys(['q']);
		screen = await tmux.waitFor('DONE');
		expect(screen).toContain('EXIT=0');
	}, 240_000);
});
