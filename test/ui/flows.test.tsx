import {afterEach, describe, expect, test} from 'vitest';
import {LEVELS} from '../../source/core/event.js';
import {keybindings} from '../../source/ui/keybindings.js';
import {event} from '../support/events.js';
import {keys, RecordingToggles, setup} from './harness.js';

type Harness = ReturnType<typeof setup>;
let h: Harness | undefined;

afterEach(() => {
	h?.close();
	h = undefined;
});

function numbered(prefix: string, from: number, to: number): string[] {
	const out: string[] = [];
	for (let i = from; i <= to; i++) {
		out.push(`${prefix} ${i}`);
	}

	return out;
}

describe('live tail', () => {
	test('newest line at the bottom, pause keeps buffering with a counter, resume follows', async () => {
		h = setup();
		h.lines(numbered('line', 1, 5));
		let f = await h.waitFor('line 5');
		const rows = f.split('\n');
		expect(rows.findIndex(r => r.includes('line 5'))).toBeGreaterThan(rows.findIndex(r => r.includes('line 1')));
		expect(f).toContain('following');

		await h.press(' ');
		await h.waitFor('PAUSED');
		h.lines(numbered('line', 6, 9));
		f = await h.waitFor('+4 new');
		expect(f).not.toContain('line 9');
		expect(h.app.store.size).toBe(9); // buffering went on

		await h.press(' ');
		f = await h.waitFor('line 9');
		expect(f).toContain('following');
		expect(f).not.toContain('PAUSED');
	});

	test('j/k, PgUp/PgDn, g/G scroll through what is held', async () => {
		h = setup({rows: 30});
		h.lines(numbered('row', 1, 200));
		await h.waitFor('row 200');
		await h.press('g');
		let f = await h.waitFor(/row 1\b/);
		expect(f).toContain('PAUSED');
		await h.press('j');
		f = await h.waitFor(x => !/row 1\b/.test(x));
		await h.press(keys.pageDown);
		f = await h.waitFor(x => !/row 2\b/.test(x) && /row 14\b/.test(x) === false);
		expect(f).toMatch(/row 2[0-9]\b/);
		await h.press('G');
		f = await h.waitFor('row 200');
		expect(f).toContain('following');
		await h.press('k');
		f = await h.waitFor(x => !x.includes('row 200') && x.includes('row 199'));
		await h.press(keys.pageUp);
		await h.waitFor(x => !x.includes('row 199'));
	});

	test('gap markers, status colours for 5xx/4xx, and wrap', async () => {
		h = setup({colorLevel: 1});
		h.publish([{message: 'GET /a 503', status: 503}, {message: 'GET /b 404', status: 404}]);
		h.handle.gap(Date.now() - 5000);
		h.lines(['x'.repeat(150) + ' END']);
		let f = await h.waitFor('disconnected');
		expect(h.raw()).toContain('\u001B[31mGET /a 503'); // red
		expect(h.raw()).toContain('\u001B[33mGET /b 404'); // yellow
		expect(f).not.toContain('END');
		await h.press('w');
		f = await h.waitFor('END');
		expect(f).toContain('wrap');
	});
});

describe('search', () => {
	test('/ is incremental, highlights, keeps context, n/N move between matches', async () => {
		h = setup({colorLevel: 1});
		h.lines([...numbered('filler', 1, 50), 'first needle here', ...numbered('middle', 1, 50), 'second needle here', ...numbered('tail', 1, 50)]);
		await h.waitFor('tail 50');
		await h.press('/', 'n', 'e', 'e', 'd');
		let f = await h.waitFor('second needle');
		expect(h.raw()).toContain('\u001B[7mneed'); // highlighted while typing
		expect(f).toContain('middle 50'); // context around the match stays
		await h.press('l', 'e', keys.enter);
		f = await h.waitFor('/needle/');
		expect(f).toContain('▶');
		await h.press('n');
		f = await h.waitFor('first needle');
		expect(f).not.toContain('second needle');
		await h.press('N');
		await h.waitFor('second needle');
		await h.press('n', 'n');
		await h.waitFor('no older match');
		await h.press(keys.escape);
		await h.waitFor(x => !x.includes('/needle/'));
		expect(h.raw()).not.toContain('\u001B[7mneedle');
	});
});

describe('slow work runs in slices', () => {
	// Long lines that nearly match: every test of one reads the whole line.
	const long = (i: number): string => `line ${i} ` + 'fo fO Fo '.repeat(30_000);

	test('a search over many long lines runs off the key path, shows its progress, and Escape drops it', async () => {
		h = setup({columns: 120, rows: 30});
		h.lines([...Array.from({length: 150}, (_, i) => long(i)), 'the last line']);
		await h.waitFor('the last line');
		await h.press('/', ...'.*foo!');
		// The keys returned before the scan ended: it runs in slices, with the progress on screen.
		expect(h.controller.busy()).toMatch(/^searching \/\.\*foo!\/ \d+%$/);
		await h.waitFor(/searching \/\.\*foo!\/ \d+%/);
		await h.press(keys.escape);
		expect(h.controller.busy()).toBeUndefined();
		expect(h.controller.state.prompt).toBeUndefined();
		const f = await h.waitFor(x => !x.includes('searching'));
		expect(f).toContain('the last line');
		expect(f).not.toContain('no older match'); // dropped, not finished
	});

	test('a new query drops the running scan; the match shows once its scan gets there', async () => {
		h = setup({columns: 120, rows: 30});
		h.lines(['the needle', ...Array.from({length: 100}, (_, i) => long(i)), 'the last line']);
		await h.waitFor('the last line');
		await h.press('/', ...'.*foo!');
		expect(h.controller.busy()).toMatch(/^searching/);
		await h.press(keys.backspace, 'x');
		expect(h.controller.busy()).toMatch(/^searching \/\.\*foox\//);
		await h.press(keys.ctrlU, ...'needle', keys.enter);
		const f = await h.waitFor(x => /▶.*the needle/.test(x), 30_000);
		expect(f).not.toContain('searching');
	});

	test('a new filter sorts the held events in slices; keys are handled meanwhile', async () => {
		h = setup({columns: 120, rows: 30});
		h.lines(['keep me', ...Array.from({length: 150}, (_, i) => long(i)), 'keep me too']);
		await h.waitFor('keep me too');
		await h.press('f', ...'(?i)keep|fo.?.?x', keys.enter);
		expect(h.controller.busy()).toMatch(/^filtering \d+%$/);
		await h.press('q');
		expect(h.quits).toEqual(['quit']); // answered while the filter was still at work
		const f = await h.waitFor(x => x.includes('keep me') && !x.includes('filtering'), 30_000);
		expect(h.tail(f)).toContain('keep me too');
		expect(h.tail(f)).not.toContain('line 3 ');
	});
});

describe('filter', () => {
	test('f applies the same filter objects as pipe mode, and F clears it', async () => {
		h = setup();
		h.publish([
			{message: 'all good', level: 'INFO', service: 'api'},
			{message: 'disk almost full', level: 'WARN', service: 'db'},
			{message: 'query failed', level: 'ERROR', service: 'db'},
			{message: 'oops in api', level: 'ERROR', service: 'api'},
		]);
		await h.waitFor('oops in api');
		await h.press('f', ...'level>=error service=db');
		await h.waitFor('filter> level>=error service=db');
		await h.press(keys.enter);
		const f = await h.waitFor(x => !x.includes('all good'));
		const tail = h.tail(f);
		expect(tail).toContain('query failed');
		expect(tail).not.toContain('disk almost full');
		expect(tail).not.toContain('oops in api'); // the error list still counts it: aggregates see everything
		expect(f).toContain('level>=error service=db');

		const filter = h.filterChanges.at(-1)!;
		expect(filter.test(event({level: 'ERROR', service: 'db'}))).toBe(true);
		expect(filter.test(event({level: 'INFO', service: 'db'}))).toBe(false);

		await h.press('F');
		await h.waitFor('all good');
		expect(h.filterChanges.at(-1)!.all).toBe(true);
	});

	test('a bad expression keeps the prompt open with the reason', async () => {
		h = setup();
		await h.press('f', ...'level>=loud', keys.enter);
		const f = await h.waitFor('unknown level');
		expect(f).toContain('filter> level>=loud');
		await h.press(keys.escape);
		await h.waitFor(x => !x.includes('filter>'));
		expect(h.filterChanges).toHaveLength(0);
	});

	test('text and Enter that arrive in one chunk (typing fast over SSH) apply the filter', async () => {
		h = setup();
		h.publish([{message: 'just info', level: 'INFO'}, {message: 'a real error', level: 'ERROR'}]);
		await h.waitFor('a real error');
		await h.press('f');
		await h.press('level>=error\r');
		const f = await h.waitFor(x => !x.includes('just info'));
		expect(f).toContain('filter level>=error');
		expect(f).not.toContain('filter>');
	});

	test('regex include and !exclude', async () => {
		h = setup();
		h.lines(['timeout talking to db', 'timeout in healthcheck', 'all fine']);
		await h.waitFor('all fine');
		await h.press('f', ...'timeout !health', keys.enter);
		const f = await h.waitFor(x => !x.includes('all fine'));
		expect(f).toContain('timeout talking to db');
		expect(f).not.toContain('timeout in healthcheck');
	});
});

describe('layout', () => {
	test('fits 80x24 and re-lays out on resize', async () => {
		h = setup({columns: 80, rows: 24});
		h.publish([{message: 'boom', level: 'ERROR', service: 'api'}]);
		let f = await h.waitFor('Errors');
		expect(f.split('\n')).toHaveLength(23); // rows - 1
		for (const title of ['Tail', 'Errors', 'Services', 'Toggles']) {
			expect(f).toContain(title);
		}

		for (const line of f.split('\n')) {
			expect(line.length).toBeLessThanOrEqual(80);
		}

		h.controller.setSize(100, 40);
		f = await h.waitFor(x => x.split('\n').length === 39);
		expect(f).toContain('Toggles');
	});

	test('wide terminals put the panes beside the tail', async () => {
		h = setup({columns: 200, rows: 50});
		Object.defineProperty(h.ui.stdout, 'columns', {value: 200, configurable: true});
		h.ui.stdout.emit('resize');
		h.lines(['hello wide']);
		const f = await h.waitFor('hello wide');
		const lines = f.split('\n');
		expect(lines).toHaveLength(49);
		expect(lines[0]).toMatch(/Tail.*Errors/);
	});

	test('tab moves focus, z maximises, x hides a pane, X shows them again', async () => {
		h = setup({columns: 100, rows: 30});
		await h.waitFor('Toggles');
		await h.press(keys.tab, 'z');
		let f = await h.waitFor(x => !x.includes('Toggles'));
		expect(f).toContain('Errors');
		expect(f).not.toContain('Tail');
		await h.press('z', 'x');
		f = await h.waitFor(x => !x.includes('Errors') && x.includes('Tail'));
		expect(f).toContain('Toggles');
		await h.press('X');
		await h.waitFor('Errors');
	});

	test('the help overlay lists every key', async () => {
		h = setup({columns: 100, rows: 40});
		await h.press('?');
		const f = await h.waitFor('Keys');
		for (const b of keybindings.filter(x => x.context !== 'prompt')) {
			expect(f).toContain(b.description.slice(0, 12));
		}

		// Keys whole, a space before their text; a cut text ends with an ellipsis and a space, so the
		// next column's keys never run into it (they were cut at 12 columns, texts ran into keys).
		expect(f).toMatch(/pagedown ctrl\+f +page down/);
		await h.press('?');
		await h.waitFor('Tail');
	});

	test('the keys line says what space does in the focused pane: pause, or switch a toggle', async () => {
		h = setup({columns: 120, rows: 30});
		await h.waitFor('space pause');
		await h.press(keys.tab, keys.tab, keys.tab); // tail → errors → services → toggles
		await h.waitFor(x => x.includes('space switch row') && !x.includes('space pause'));
		await h.press(keys.tab);
		await h.waitFor('space pause');
	});

	test('the help overlay at 80 columns: keys whole, texts cut with an ellipsis before the next column', async () => {
		h = setup({columns: 80, rows: 24});
		await h.press('?');
		const f = await h.waitFor('Keys');
		expect(f).toMatch(/pagedown ctrl\+f +page/);
		expect(f).toMatch(/… +\S/);
		expect(f).not.toMatch(/show or hide t[a-z]/);
	});
});

describe('errors and stats', () => {
	test('Enter on an error group shows the latest occurrence in full and marks it in the tail', async () => {
		h = setup({columns: 100, rows: 30});
		h.publish([
			{message: 'timeout after 30 ms calling billing', level: 'ERROR', service: 'api'},
			{message: 'ok', level: 'INFO'},
			{message: 'timeout after 45 ms calling billing', level: 'ERROR', service: 'worker', host: 'job-3'},
		]);
		h.lines(numbered('later', 1, 60));
		let f = await h.waitFor('later 60');
		expect(f).toMatch(/2 .*timeout after 45 ms calling bil/); // the latest message, not the fingerprint
		await h.press(keys.tab, keys.enter);
		f = await h.waitFor('Latest occurrence');
		expect(f).toContain('timeout after 45 ms calling billing');
		expect(f).toContain('job-3');
		await h.press(keys.escape);
		f = await h.waitFor('▶');
		expect(f).toMatch(/▶.*timeout after 45 ms/);
		expect(f).toContain('PAUSED');
	});

	test('an error group shows its latest message, the varying parts dimmed, not the masked fingerprint', async () => {
		h = setup({columns: 100, rows: 30, colorLevel: 1});
		h.publish([
			{message: '[10/Dec/2023:06:55:46 +0000] PHP Fatal error: Allowed memory size of 134217728 bytes exhausted in /srv/a.php', level: 'CRITICAL', service: 'php'},
			{message: '[10/Dec/2023:06:57:02 +0000] PHP Fatal error: Allowed memory size of 268435456 bytes exhausted in /srv/lib/b.php', level: 'CRITICAL', service: 'php'},
		]);
		await h.waitFor('Allowed memory size of 268435456');
		await h.press(keys.tab, 'z'); // the errors pane, maximised
		const f = await h.waitFor(x => !x.includes('Tail') && x.includes('268435456'));
		const row = f.split('\n').find(l => /^\s*2 .*PHP Fatal/.test(l)) ?? f; // one group of two
		expect(row).toContain('PHP Fatal error: Allowed memory size of 268');
		expect(row).not.toContain('10/Dec/2023'); // a leading timestamp tells nothing in this pane
		expect(f).not.toMatch(/<n>|<time>|<path>/);
		expect(h.raw()).toContain('\u001B[2m268435456\u001B[22m'); // what varies is dimmed
		expect(h.raw()).not.toContain('\u001B[2mPHP Fatal error');
		expect(h.errors.list()[0]!.fingerprint).toBe('[<time>] PHP Fatal error: Allowed memory size of <n> bytes exhausted in <path>'); // still the key
	});

	test('stats sort by rate, errors and name; per host toggle', async () => {
		h = setup({columns: 100, rows: 30});
		h.publish([
			...Array.from({length: 5}, () => ({message: 'm', service: 'zeta', host: 'z1'})),
			{message: 'e', service: 'alpha', level: 'ERROR' as const, host: 'a1'},
			{message: 'e', service: 'alpha', level: 'ERROR' as const, host: 'a2'},
			{message: 'm', service: 'mid', host: 'm1'},
			{message: 'm', service: 'mid', host: 'm1'},
		]);
		const order = (f: string): string[] => f.split('\n').flatMap(l => {
			const m = /(zeta|alpha|mid)(@\w+)?\s+\d/.exec(l);
			return m ? [m[1]! + (m[2] ?? '')] : [];
		});
		let f = await h.waitFor(x => order(x).length === 3);
		expect(order(f)[0]).toBe('zeta');
		await h.press('r');
		f = await h.waitFor('by errors');
		expect(order(f)[0]).toBe('alpha');
		await h.press('r');
		f = await h.waitFor('by name');
		expect(order(f)).toEqual(['alpha', 'mid', 'zeta']);
		await h.press('b');
		f = await h.waitFor('per host');
		expect(order(f)).toEqual(['alpha@a1', 'alpha@a2', 'mid@m1', 'zeta@z1']);
	});
});

describe('toggles', () => {
	test('toggling a type sends disable/enable upstream and shows pending, then the reply', async () => {
		const toggles = new RecordingToggles(['web-1', 'web-2'], ['apache-request', 'php-error', 'drupal-watchdog'], ['apache-request', 'php-error']);
		h = setup({columns: 160, rows: 30, sources: [{id: 'ls', toggles}]});
		await h.press('t');
		let f = await h.waitFor('php-error');
		// Sorted: apache-request (1), drupal-watchdog (2), php-error (3).
		expect(f).toMatch(/1 ● apache-request 2\/2/);
		expect(f).toMatch(/2 ○ drupal-watchdog 0\/2/);
		await h.press('3');
		f = await h.waitFor(/3 ◌ php-error pending/);
		expect(toggles.calls).toEqual(['disable web-1/php-error', 'disable web-2/php-error']);
		toggles.reply();
		await h.waitFor(/3 ○ php-error 0\/2/);

		await h.press('2');
		await h.waitFor(/2 ◌ drupal-watchdog pending/);
		expect(toggles.calls.slice(2)).toEqual(['enable web-1/drupal-watchdog', 'enable web-2/drupal-watchdog']);
		toggles.reply('unknown log type');
		await h.waitFor(/2 ✗ drupal-watchdog failed unknown log type/);
		expect(h.filterChanges).toHaveLength(0); // upstream, not a local filter

		await h.press('s');
		f = await h.waitFor('web-2');
		// Servers x types: one glyph per type (apache-request on, drupal-watchdog failed, php-error off).
		expect(f).toMatch(/1 ◑ web-1 partial 1\/3 ●✗○/);
		await h.press('1');
		await h.waitFor(/1 ◌ web-1 pending/);
		expect(toggles.calls.at(-1)).toMatch(/^(enable|disable) web-1\//);
	});
	// The same flow against the real logstream source and test server: toggles-logstream.test.tsx.

	test('for other sources a toggle filters locally; a switches every row', async () => {
		h = setup({columns: 100, rows: 30});
		h.publish([{message: 'from api', service: 'api'}, {message: 'from db', service: 'db'}]);
		await h.waitFor('from db');
		await h.press('v');
		await h.waitFor(/2 ● db/);
		await h.press('1');
		let f = await h.waitFor(/1 ○ api/);
		f = await h.waitFor(x => !x.includes('from api'));
		expect(f).toContain('from db');
		expect(h.filterChanges.at(-1)!.spec.hideServices).toEqual(['api']);
		expect(f).toContain('1 hidden');

		await h.press('a');
		await h.waitFor('from api');
		await h.press('l', 'a');
		f = await h.waitFor(x => !x.includes('from db'));
		expect(h.filterChanges.at(-1)!.spec.hideLevels).toEqual([...LEVELS]);
	});

	test('a on upstream rows asks the server, and a server switched on again is shown through the local list', async () => {
		const toggles = new RecordingToggles(['web-1', 'web-2'], ['apache-request'], ['apache-request']);
		h = setup({columns: 160, rows: 30, sources: [{id: 'ls', toggles}]});
		await h.press('s');
		await h.waitFor(/2 ● web-2/);
		await h.press('a');
		await h.waitFor(/2 ◌ web-2 pending/);
		expect(toggles.calls).toEqual(['disable web-1/apache-request', 'disable web-2/apache-request']);
		expect(h.filterChanges.at(-1)!.spec.onlyHosts).toEqual([]);
		toggles.reply();
		await h.waitFor(/2 ○ web-2/);
		await h.press('2');
		await h.waitFor(/2 ◌ web-2 pending/);
		expect(toggles.calls.at(-1)).toBe('enable web-2/apache-request');
		expect(h.filterChanges.at(-1)!.spec.onlyHosts).toEqual(['web-2']);
	});

	test('a switches off services past the 500 the statistics list, and rows switched on again are the only ones shown', async () => {
		h = setup({columns: 100, rows: 30});
		// 600 services: the toggles list the latest 500, so svc-000 to svc-099 have no row.
		h.publish(Array.from({length: 600}, (_, i) => ({message: `hello from svc-${String(i).padStart(3, '0')}`, service: `svc-${String(i).padStart(3, '0')}`})));
		await h.waitFor('hello from svc-599');
		await h.press('v');
		await h.waitFor(/1 ● svc-100/);
		await h.press('a');
		let f = await h.waitFor(/1 ○ svc-100/);
		expect(h.filterChanges.at(-1)!.spec.onlyServices).toEqual([]);
		expect(f).toContain('no services');
		// svc-007 comes back into the list (the latest 500) as the first row.
		h.publish([{message: 'late from svc-007', service: 'svc-007'}, {message: 'late from svc-100', service: 'svc-100'}]);
		await h.waitFor(/1 ○ svc-007/);
		await h.press('2');
		f = await h.waitFor('late from svc-100');
		expect(f).not.toContain('late from svc-007');
		expect(f).toMatch(/2 ● svc-100/);
		expect(h.filterChanges.at(-1)!.spec.onlyServices).toEqual(['svc-100']);
		expect(f).toContain('only 1 service');

		await h.press('a');
		f = await h.waitFor('late from svc-007');
		expect(h.filterChanges.at(-1)!.spec.onlyServices).toBeUndefined();
		expect(h.filterChanges.at(-1)!.spec.hideServices).toEqual([]);
	});
});

describe('render budget', () => {
	test('no frame when nothing on screen changed', async () => {
		let now = 1_700_000_000_000;
		h = setup({now: () => now});
		h.lines(['one']);
		await h.waitFor('one');
		h.controller.stop();
		const frames = h.ui.frames.length;
		expect(h.controller.frame()).toBe(false);
		now += 1000; // a new second: rebuilt, but the text is the same
		h.controller.frame();
		expect(h.ui.frames.length).toBe(frames);
		h.lines(['two']);
		expect(h.controller.frame()).toBe(true);
		await h.waitFor('two');
		expect(h.ui.frames.length).toBe(frames + 1);
	});

	test('a burst of events is one frame, not one per event', async () => {
		h = setup();
		await h.waitFor('Tail');
		const before = h.ui.frames.length;
		for (let i = 0; i < 500; i++) {
			h.lines([`burst ${i}`]);
		}

		await h.waitFor('burst 499');
		expect(h.ui.frames.length - before).toBeLessThan(5);
	});

	test('q and Ctrl+C quit', async () => {
		h = setup();
		await h.press('q', keys.ctrlC);
		expect(h.quits).toEqual(['quit', 'interrupt']);
	});
});
