import {afterEach, describe, expect, test} from 'vitest';
import {eventFromLines} from '../../source/core/multiline-event.js';
import {type EventInit} from '../../source/core/event.js';
import {keys, setup} from './harness.js';

// Multi-line events (stack traces joined by the file and stdin sources) in the tail: the first
// line, then the others as indented rows, at most ten lines and a row counting the rest; pages,
// g, search and the mark count rows, not events.

type Harness = ReturnType<typeof setup>;
let h: Harness | undefined;

afterEach(() => {
	h?.close();
	h = undefined;
});

/** A joined Java trace, as the file source makes it: `frames` lines under its first. */
function trace(name: string, frames: number): Partial<EventInit> & {message: string} {
	const rest = [`java.lang.IllegalStateException: ${name} failed`];
	for (let i = 1; i < frames; i++) {
		rest.push(`\tat com.shop.${name}.frame${i}(Shop.java:${i})`);
	}

	const e = eventFromLines(`2026-05-01 10:00:01,114 ERROR [main] ${name} - request failed`, rest, true, {sourceId: 'feed', sourceKind: 'file', receivedAt: Date.now(), service: 'shop', host: '', proc: ''});
	return {...e, seq: undefined};
}

function rowsOf(frame: string): string[] {
	return frame.split('\n');
}

describe('multi-line events in the tail', () => {
	test('a short trace shows its first line, then its lines as indented rows, in order', async () => {
		h = setup({rows: 30});
		h.lines(['before']);
		h.publish([trace('Orders', 3)]);
		h.lines(['after']);
		const f = h.tail(await h.waitFor('after'));
		const rows = rowsOf(f);
		const first = rows.findIndex(r => r.includes('Orders - request failed'));
		expect(first).toBeGreaterThan(rows.findIndex(r => r.includes('before')));
		expect(rows[first + 1]).toMatch(/^\s{4,}java\.lang\.IllegalStateException: Orders failed/);
		expect(rows[first + 2]).toMatch(/^\s{4,}\s*at com\.shop\.Orders\.frame1\(Shop\.java:1\)/);
		expect(rows[first + 3]).toMatch(/^\s{4,}\s*at com\.shop\.Orders\.frame2/);
		expect(rows[first + 4]).toContain('after');
		expect(f).not.toContain('⏎');
	});

	test('a long trace shows ten lines and counts the rest', async () => {
		h = setup({rows: 30});
		h.publish([trace('Payments', 25)]);
		h.lines(['after']);
		const f = h.tail(await h.waitFor('after'));
		expect(f).toContain('frame8(');
		expect(f).not.toContain('frame9(');
		expect(f).toMatch(/… 16 more lines\n.*after/);
	});

	test('g, PgDn, PgUp and j/k move by rows: the first trace\'s first line comes back at the top', async () => {
		h = setup({rows: 30});
		h.publish(Array.from({length: 40}, (_, i) => trace(`Svc${i + 1}`, 12)));
		await h.waitFor('Svc40 - request failed');
		await h.press('g');
		let f = h.tail(await h.waitFor('Svc1 - request failed'));
		expect(f).toContain('PAUSED');
		expect(f).toContain('Svc2 - request failed'); // 11 rows each: the second shows below the first
		// A page down and up again: nothing skipped, back at the top.
		await h.press(keys.pageDown);
		f = h.tail(await h.waitFor(x => !x.includes('Svc1 - request failed')));
		// A page is a screen less a row: the next trace whole at the bottom, the end of the first above it.
		expect(f).toContain('Svc2 - request failed');
		expect(f).toContain('Svc2.frame8(');
		expect(f).toContain('Svc1.frame8(');
		expect(f).not.toContain('Svc3');
		await h.press(keys.pageUp);
		f = h.tail(await h.waitFor('Svc1 - request failed'));
		// One event down with j (the second trace whole at the bottom), then k: the top again.
		await h.press('j');
		await h.waitFor(x => x.includes('Svc2 - request failed') && !x.includes('Svc1 - request failed'));
		await h.press('k');
		await h.waitFor('Svc1 - request failed');
		await h.press('G');
		await h.waitFor(x => x.includes('following') && x.includes('Svc40'));
	});

	test('/ finds a line inside a trace, marks its first row, and says when the match is in the lines not shown', async () => {
		h = setup({rows: 30, colorLevel: 1});
		h.publish(Array.from({length: 30}, (_, i) => trace(`Job${i + 1}`, i === 5 ? 40 : 6)));
		h.lines(['the end']);
		await h.waitFor('the end');
		await h.press('/', ...'Job12.frame3', keys.enter);
		let f = h.tail(await h.waitFor('/Job12.frame3/'));
		let rows = rowsOf(f);
		const marked = rows.findIndex(r => r.startsWith('▶'));
		expect(rows[marked]).toContain('Job12 - request failed');
		expect(rows.slice(marked + 1, marked + 6).some(r => r.includes('Job12.frame3('))).toBe(true);
		expect(h.raw()).toContain('\u001B[7mJob12.frame3'); // highlighted on its row
		// frame30 of Job6 is past its tenth line: the event is marked and its last row says so.
		await h.press(keys.escape);
		await h.press('/', ...'Job6.frame30', keys.enter);
		f = h.tail(await h.waitFor(/▶.*Job6 - request failed/));
		rows = rowsOf(f);
		const at = rows.findIndex(r => r.startsWith('▶'));
		expect(rows[at + 10]).toMatch(/… 31 more lines \(\/Job6\.frame30\/ matches below\)/);
	});

	test('enter on its error group shows the trace line by line, and marks its first row in the tail', async () => {
		h = setup({columns: 100, rows: 40});
		h.publish([trace('Billing', 4)]);
		h.lines(Array.from({length: 30}, (_, i) => `later ${i + 1}`));
		await h.waitFor('later 30');
		await h.press(keys.tab, keys.enter);
		const f = await h.waitFor('Latest occurrence');
		const rows = rowsOf(f);
		const first = rows.findIndex(r => r.includes('Billing - request failed'));
		expect(rows[first + 1]).toMatch(/^java\.lang\.IllegalStateException: Billing failed/);
		expect(rows[first + 2]).toMatch(/^\s+at com\.shop\.Billing\.frame1\(/);
		expect(f).not.toContain('⏎');
		await h.press(keys.escape);
		const tail = h.tail(await h.waitFor('▶'));
		expect(tail).toMatch(/▶.*Billing - request failed\n│\s+java\.lang\.IllegalStateException/);
	});
});
