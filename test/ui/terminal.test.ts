import {execFileSync} from 'node:child_process';
import {createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import stringWidth from 'string-width';
import {afterEach, beforeAll, describe, expect, test} from 'vitest';
import {computeLayout} from '../../source/ui/layout.js';
import {corpus, root} from '../support/logmon.js';
import {logmonPid, paneCommand, prepare, shellQuote, Tmux} from '../support/tmux.js';

// The built binary in a real terminal (tmux): what a person sees, and that the
// terminal is left clean however logmon ends.

const fixture = path.join(corpus, 'OpenSSH_2k.log');
const apache = path.join(corpus, 'Apache_2k.log');
const hostile = path.join(root, 'test', 'fixtures', 'layout', 'hostile-text.log');
let tmux: Tmux | undefined;

beforeAll(() => {
	prepare();
}, 300_000);

afterEach(() => {
	tmux?.kill();
	tmux = undefined;
});

/** The terminal after logmon exited: its exit code, modes, cursor and screen. */
async function afterExit(t: Tmux): Promise<{code: number; modes: string; cursor: string; alternate: string; wrap: string; screen: string}> {
	const screen = await t.waitFor('DONE');
	const code = Number(/EXIT=(\d+)/.exec(screen)?.[1]);
	const modes = /MODES=(.*)/.exec(screen)?.[1]?.trim() ?? '';
	return {code, modes, cursor: t.format('#{cursor_flag}'), alternate: t.format('#{alternate_on}'), wrap: t.format('#{wrap_flag}'), screen};
}

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) {
			throw new Error('timed out');
		}

		await new Promise(resolve => setTimeout(resolve, 50));
	}
}

function expectClean(result: {modes: string; cursor: string; alternate: string; wrap: string}): void {
	expect(result.modes.split(' ')).toEqual(expect.arrayContaining(['icanon', 'echo', 'isig'])); // raw mode is off
	expect(result.cursor).toBe('1'); // cursor shown
	expect(result.alternate).toBe('0'); // back on the main screen
	expect(result.wrap).toBe('1'); // autowrap on again
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

	test('shrunk below 20x7 the screen says so in one line, nothing wrapped; grown again the panes come back', async () => {
		tmux = new Tmux(paneCommand('--stdin', {input: [fixture]}), 80, 24);
		await tmux.waitFor(s => s.includes('stdin: ended') && s.includes('Services'));
		tmux.resize(16, 5);
		const small = await tmux.waitFor(s => s.includes('16x5: needs 20x7'));
		const rows = small.split('\n');
		expect(rows[0]).toBe('16x5: needs 20x7');
		expect(rows.slice(1).every(row => row.trim() === ''), small).toBe(true);
		tmux.resize(80, 24);
		const again = await tmux.waitFor(s => s.includes('Services') && s.includes('Toggles') && s.includes('q quit'));
		expect(again).not.toContain('needs 20x7');
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
		// The overlay may be captured half drawn: wait for the lines checked, not only its title.
		screen = await tmux.waitFor(s => s.includes('Keys') && s.includes('pause or resume the tail') && s.includes('show or hide this help'));
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

	test('with --debug 2>file, no terminal control goes into the file', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-debug-'));
		try {
			const log = path.join(dir, 'debug.log');
			tmux = new Tmux(paneCommand(`--debug --stdin 2>${shellQuote(log)}`, {input: [fixture]}), 100, 30);
			await tmux.waitFor('Services');
			tmux.keys(['q']);
			const result = await afterExit(tmux);
			expect(result.code).toBe(0);
			expectClean(result);
			const written = readFileSync(log, 'utf8');
			expect(written).toContain('logmon: ui:'); // the trace is there
			expect(written).not.toContain('\u001B');
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	// The terminal goes away: SIGHUP to the pane's processes; with setsid logmon gets none and reading the terminal fails instead.
	test.each([['SIGHUP', ''], ['reading the terminal fails', 'setsid -w']])('the terminal going away ends logmon (%s), without a crash report', async (_, launcher) => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-hup-'));
		try {
			const log = path.join(dir, 'stderr');
			tmux = new Tmux(paneCommand(`--demo 2>${shellQuote(log)}`, {launcher}), 100, 30);
			await tmux.waitFor('Services');
			const pid = logmonPid(tmux);
			tmux.kill();
			tmux = undefined;
			await until(() => !existsSync(`/proc/${pid}`), 10_000);
			expect(readFileSync(log, 'utf8')).not.toMatch(/Assertion failed|internal error/);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	test.each(['timer', 'render'])('a thrown error (%s) leaves the terminal clean and is reported', async where => {
		tmux = new Tmux(paneCommand('--stdin', {input: [fixture], env: {LOGMON_TEST_THROW: where}}), 100, 30);
		const result = await afterExit(tmux);
		expect(result.code).toBe(70);
		expect(result.screen).toContain('LOGMON_TEST_THROW');
		expectClean(result);
	});
});

describe('a search over long lines', () => {
	// A few lines of 1 MiB: with a backtracking engine, `.*foo` took minutes on each and froze the screen.
	function longLines(dir: string): string {
		const file = path.join(dir, 'long.log');
		const big = 'abcdefghij fo fO '.repeat(61_000); // just under --max-line
		writeFileSync(file, ['first line', big, big, 'a needle foo here', big, big, 'the last line', ''].join('\n'));
		return file;
	}

	test('/ .*foo: Escape and q are answered', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-long-'));
		try {
			tmux = new Tmux(paneCommand('--stdin', {input: [longLines(dir)]}), 120, 30);
			await tmux.waitFor(s => s.includes('stdin: ended') && s.includes('the last line'));
			tmux.keys(['/']);
			tmux.keys(['.*foo'], true);
			await tmux.waitFor(/▶.*needle foo here/);
			tmux.keys(['Escape']);
			await tmux.waitFor(s => /^q quit/m.test(s));
			tmux.keys(['/']);
			tmux.keys(['.*fooo'], true);
			await tmux.waitFor(s => /^\/\.\*fooo/m.test(s)); // the prompt, searching or done
			tmux.keys(['Escape']);
			await tmux.waitFor(s => /^q quit/m.test(s) && !s.includes('.*fooo'));
			tmux.keys(['q']);
			const result = await afterExit(tmux);
			expect(result.code).toBe(0);
			expectClean(result);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	test('/ .*foo: SIGTERM during the search ends logmon', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-long-'));
		try {
			tmux = new Tmux(paneCommand('--stdin', {input: [longLines(dir)]}), 120, 30);
			await tmux.waitFor(s => s.includes('stdin: ended') && s.includes('the last line'));
			const pid = logmonPid(tmux);
			tmux.keys(['/']);
			tmux.keys(['.*fooo'], true);
			process.kill(pid, 'SIGTERM');
			await until(() => !existsSync(`/proc/${pid}`), 10_000);
			const result = await afterExit(tmux);
			expect(result.code).toBe(143);
			expectClean(result);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});

describe('text that breaks layouts', () => {
	// test/fixtures/layout/hostile-text.log: TABs, emoji ZWJ sequences, flags, combining marks,
	// bidi controls (U+202E) and other invisible format characters, CJK; in messages, error
	// lines and service/host names (JSON records), so every pane gets some.
	test.each([[80, 24], [200, 50]])('%ix%i: every row fits, the panes stay where the layout puts them, no raw TAB or U+202E reaches the terminal', async (columns, rows) => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-ui-'));
		try {
			const gate = path.join(dir, 'go');
			const bytes = path.join(dir, 'bytes');
			tmux = new Tmux(paneCommand('--stdin', {input: [hostile], gate}), columns, rows);
			tmux.record(bytes);
			writeFileSync(gate, '');
			const screen = await tmux.waitFor(s => s.includes('stdin: ended') && s.includes('payment'));
			const lines = screen.split('\n');
			for (const line of lines) {
				expect(stringWidth(line), line).toBeLessThanOrEqual(columns);
			}

			// The title row on top, the status bar and hint line at the bottom: nothing wrapped or scrolled.
			expect(lines[0]).toMatch(/^ Tail /);
			expect(lines[rows - 3]).toContain('stdin: ended');
			expect(lines[rows - 2]).toMatch(/^q quit/);

			// Each pane's title and first row exactly where the layout puts the pane, in cells as tmux draws them.
			const layout = computeLayout(columns, rows, new Set(), undefined);
			const tailHeight = layout.tail!.height;
			let x = layout.arrangement === 'side' ? layout.tail!.width + 1 : 0;
			let y = layout.arrangement === 'side' ? 0 : tailHeight;
			const titles = {errors: 'Errors', stats: 'Services', toggles: 'Toggles'};
			const firstRows = {errors: undefined, stats: 'service ', toggles: 's:srv t:type'};
			const expected: Array<{text: string; at: {x: number; y: number}}> = [];
			for (const box of layout.others) {
				expected.push({text: titles[box.id as keyof typeof titles], at: {x: x + 1, y}});
				const first = firstRows[box.id as keyof typeof firstRows];
				if (first) {
					expected.push({text: first, at: {x, y: y + 1}});
				}

				if (layout.arrangement === 'side') {
					y += box.height;
				} else {
					x += box.width + 1;
				}
			}

			// Each text is looked up in its own pass of tmux's copy mode; the statistics redraw every second,
			// and on a loaded machine a lookup can fall between two writes of a frame. So the places are read
			// until one pass finds them all where the layout puts them, and that pass is what is checked.
			const found = (): Array<{x: number; y: number} | undefined> => expected.map(e => tmux!.locate(e.text));
			let seen = found();
			for (let i = 0; i < 10 && !expected.every((e, k) => seen[k]?.x === e.at.x && seen[k]?.y === e.at.y); i++) {
				await new Promise(resolve => setTimeout(resolve, 300));
				seen = found();
			}

			expect(seen).toEqual(expected.map(e => e.at));

			// Escaped, never raw: not on the screen, not in what logmon wrote.
			expect(screen).toContain(String.raw`\u202e`);
			expect(screen).not.toContain('\u202E');
			await until(() => readFileSync(bytes, 'utf8').includes('payment'));
			const written = readFileSync(bytes, 'utf8');
			expect(written).not.toContain('\u202E');
			expect(written).not.toContain('\t');
			expect(written).toContain('\u001B[?7l'); // autowrap off while the UI runs
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	test('-o text to a terminal writes no raw TAB or U+202E', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-text-'));
		try {
			const gate = path.join(dir, 'go');
			const bytes = path.join(dir, 'bytes');
			tmux = new Tmux(paneCommand('--no-ui --stdin -o text', {input: [hostile], gate}), 200, 50);
			tmux.record(bytes);
			writeFileSync(gate, '');
			await afterExit(tmux);
			const written = readFileSync(bytes, 'utf8');
			expect(written).toContain('payment');
			expect(written).toContain(String.raw`\u202e`);
			expect(written).not.toContain('\u202E');
			const output = written.slice(0, written.indexOf('EXIT='));
			expect(output).not.toContain('\t');
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
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
