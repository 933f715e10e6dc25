import {execFileSync} from 'node:child_process';
import {createWriteStream, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeAll, describe, expect, test} from 'vitest';
import {corpus} from '../support/logmon.js';
import {logmonPid, paneCommand, prepare, shellQuote, Tmux} from '../support/tmux.js';

// The built binary in a real terminal (tmux): what a person sees, and that the
// terminal is left clean however logmon ends.

const fixture = path.join(corpus, 'OpenSSH_2k.log');
const apache = path.join(corpus, 'Apache_2k.log');
let tmux: Tmux | undefined;

beforeAll(() => {
	prepare();
}, 300_000);

afterEach(() => {
	tmux?.kill();
	tmux = undefined;
});

/** The terminal after logmon exited: its exit code, modes, cursor and screen. */
async function afterExit(t: Tmux): Promise<{code: number; modes: string; cursor: string; alternate: string; screen: string}> {
	const screen = await t.waitFor('DONE');
	const code = Number(/EXIT=(\d+)/.exec(screen)?.[1]);
	const modes = /MODES=(.*)/.exec(screen)?.[1]?.trim() ?? '';
	return {code, modes, cursor: t.format('#{cursor_flag}'), alternate: t.format('#{alternate_on}'), screen};
}

function expectClean(result: {modes: string; cursor: string; alternate: string}): void {
	expect(result.modes.split(' ')).toEqual(expect.arrayContaining(['icanon', 'echo', 'isig'])); // raw mode is off
	expect(result.cursor).toBe('1'); // cursor shown
	expect(result.alternate).toBe('0'); // back on the main screen
}


describe('the UI in a real terminal', () => {
	test('80x24: every pane is visible; q quits and leaves the terminal clean', async () => {
		tmux = new Tmux(paneCommand('--stdin', {input: [fixture]}), 80, 24);
		const screen = await tmux.waitFor(s => s.includes('stdin: ended') && s.includes('Services'));
		for (const title of ['Tail', 'Errors', 'Services', 'Toggles', 'drops']) {
			expect(screen).toContain(title);
		}

		expect(screen).toMatch(/Failed password|authentication failure|Received disconnect/);
		for (const line of screen.split('\n')) {
			expect(line.length).toBeLessThanOrEqual(80);
		}

		expect(tmux.format('#{alternate_on}')).toBe('1');
		tmux.keys(['q']);
		const result = await afterExit(tmux);
		expect(result.code).toBe(0);
		expectClean(result);
	});

	test('200x50: panes beside the tail, the help overlay, a toggle shown; Ctrl+C quits clean', async () => {
		tmux = new Tmux(paneCommand('--stdin', {input: [fixture, apache], env: {CI: 'true'}}), 200, 50);
		let screen = await tmux.waitFor(s => s.includes('stdin: ended') && s.includes('Services'));
		expect(screen.split('\n')[0]).toMatch(/Tail.*Errors/);
		expect(screen).toMatch(/mod_jk child workerEnv in error state/); // apache errors grouped

		tmux.keys(['?']);
		screen = await tmux.waitFor('Keys');
		expect(screen).toContain('pause or resume the tail');
		expect(screen).toContain('show or hide this help');
		tmux.keys(['Escape']);
		await tmux.waitFor(s => !s.includes('show or hide this help'));

		tmux.keys(['l']);
		await tmux.waitFor(/3 ● INFO/);
		tmux.keys(['3']);
		screen = await tmux.waitFor(/3 ○ INFO/);
		expect(screen).toContain('1 hidden');

		tmux.keys(['C-c']);
		const result = await afterExit(tmux);
		expect(result.code).toBe(130);
		expectClean(result);
	});

	test('SIGTERM leaves the terminal clean', async () => {
		tmux = new Tmux(paneCommand('--stdin', {input: [fixture]}), 100, 30);
		await tmux.waitFor('Services');
		process.kill(logmonPid(tmux), 'SIGTERM');
		const result = await afterExit(tmux);
		expect(result.code).toBe(143);
		expectClean(result);
	});

	test.each(['timer', 'render'])('a thrown error (%s) leaves the terminal clean and is reported', async where => {
		tmux = new Tmux(paneCommand('--stdin', {input: [fixture], env: {LOGMON_TEST_THROW: where}}), 100, 30);
		const result = await afterExit(tmux);
		expect(result.code).toBe(70);
		expect(result.screen).toContain('LOGMON_TEST_THROW');
		expectClean(result);
	});
});

describe('UI and pipe at once', () => {
	test('the UI draws on the terminal, the stream goes to stdout and follows the UI filter', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-ui-'));
		const fifo = path.join(dir, 'in');
		const out = path.join(dir, 'out');
		execFileSync('mkfifo', [fifo]);
		try {
			tmux = new Tmux(paneCommand(`--ui --stdin < ${shellQuote(fifo)} > ${shellQuote(out)}`), 120, 30);
			const feed = createWriteStream(fifo);
			const read = (): string => {
				try {
					return readFileSync(out, 'utf8');
				} catch {
					return '';
				}
			};

			const until = async (check: () => boolean): Promise<void> => {
				const deadline = Date.now() + 20_000;
				while (!check()) {
					if (Date.now() > deadline) {
						throw new Error(`timed out; stdout so far:\n${read()}`);
					}

					await new Promise(resolve => setTimeout(resolve, 50));
				}
			};

			feed.write('first info line\nfirst ERROR line\n');
			await until(() => read().includes('first ERROR line'));
			expect(read()).toContain('first info line');
			await tmux.waitFor('first ERROR line'); // drawn on the terminal too

			tmux.keys(['f']);
			await tmux.waitFor('filter>');
			tmux.keys(['level>=error'], true);
			tmux.keys(['Enter']);
			await tmux.waitFor('filter level>=error');

			feed.write('second info line\nsecond ERROR line\n');
			await until(() => read().includes('second ERROR line'));
			expect(read()).not.toContain('second info line');

			tmux.keys(['q']);
			feed.end();
			const result = await afterExit(tmux);
			expect(result.code).toBe(0);
			expectClean(result);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
