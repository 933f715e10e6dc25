import {type ChildProcess} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {eventually, request} from '../support/http.js';
import {freePort, start, waitFor} from '../support/logmon.js';
import {paneCommand, prepare, Tmux} from '../support/tmux.js';

// The terminal UI of `logmon --connect` in a real terminal, against a built `logmon serve` with a
// history: the remote's events and health show; the server is stopped and started again on the
// same port and history: the UI says it is retrying, then marks the gap, resumes, and shows each
// event once.

let dir: string;
let port: number;
let server: ChildProcess | undefined;
let tmux: Tmux | undefined;

/** `logmon serve` on the test's port and history, fed through stdin. */
async function startServer(): Promise<ChildProcess> {
	const child = start(['serve', '--stdin', '--http', `127.0.0.1:${port}`, '--history', '--history-dir', path.join(dir, 'history')]);
	await waitFor(child.stderr!, /serving http:\/\//);
	return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
	const closed = new Promise(resolve => child.once('close', resolve));
	child.kill('SIGTERM');
	await closed;
}

async function served(n: number): Promise<void> {
	await eventually(async () => (await request(`http://127.0.0.1:${port}/api/v1/health`)).json?.sources?.[0]?.events === n, `the server to count ${n} events`);
}

/** The rows of the tail pane, cut where the errors pane begins. */
function tailPane(screen: string): string {
	const rows = screen.split('\n');
	const right = rows.find(r => r.includes('Errors'))?.indexOf('Errors') ?? -1;
	return rows.map(r => (right > 0 ? r.slice(0, right) : r)).join('\n');
}

function occurrences(screen: string, text: string): number {
	return screen.split(text).length - 1;
}

beforeAll(async () => {
	prepare();
	dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-tmux-connect-'));
	port = await freePort();
}, 300_000);

afterAll(() => {
	tmux?.kill();
	server?.kill('SIGKILL');
	rmSync(dir, {recursive: true, force: true});
});

describe('logmon --connect in a terminal', () => {
	test('the remote\'s events and health; the server stops and comes back: retrying, a gap marker, resumed, nothing twice', async () => {
		server = await startServer();
		const alpha = ['alpha-one', 'alpha-two', 'alpha-three'];
		for (const [i, word] of alpha.entries()) {
			server.stdin!.write(JSON.stringify({level: i === 1 ? 'error' : 'info', service: 'checkout', host: 'web-7', message: `${word} order placed`}) + '\n');
		}

		await served(3);
		tmux = new Tmux(paneCommand(`--connect http://127.0.0.1:${port}`), 180, 30);
		let screen = await tmux.waitFor(s => alpha.every(w => s.includes(w)) && /connect: live ⇒ remote: stdin live/.test(s), 30_000);
		expect(screen).toContain('checkout');
		expect(screen).toContain('web-7');

		// Live: an event published now shows.
		server.stdin!.write(JSON.stringify({level: 'warn', service: 'checkout', message: 'alpha-four slow payment'}) + '\n');
		await tmux.waitFor('alpha-four');

		await stopServer(server);
		server = undefined;
		screen = await tmux.waitFor(/connect: (?:retrying in \d+ s|connecting)/, 30_000);
		expect(screen).not.toContain('remote: stdin live');

		server = await startServer();
		server.stdin!.write(JSON.stringify({level: 'info', service: 'checkout', message: 'beta-one order placed'}) + '\n');
		screen = await tmux.waitFor(s => s.includes('beta-one') && /connect: live ⇒ remote: stdin live/.test(s), 60_000);
		expect(screen).toMatch(/~~ connect: disconnected \d\d:\d\d:\d\d.*lines may be missing ~~/);
		// The tail pane: the columns left of the errors pane (which shows alpha-two, the error, too).
		const tail = tailPane(screen);
		for (const w of [...alpha, 'alpha-four', 'beta-one']) {
			expect(occurrences(tail, w), w).toBe(1);
		}

		expect(screen).toMatch(/Errors +1 in 1 groups/);

		// The gap marker sits between the last event before the stop and the first after.
		const rows = screen.split('\n');
		const at = (text: string): number => rows.findIndex(r => r.includes(text));
		expect(at('alpha-four')).toBeLessThan(at('~~ connect: disconnected'));
		expect(at('~~ connect: disconnected')).toBeLessThan(at('beta-one'));

		tmux.keys(['q']);
		screen = await tmux.waitFor('DONE');
		expect(screen).toContain('EXIT=0');
	}, 180_000);
});
