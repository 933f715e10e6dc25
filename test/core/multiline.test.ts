import {readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {eventFromLines} from '../../source/core/multiline-event.js';
import {defaultMultiline, MultilineJoiner, type MultilineOptions} from '../../source/core/multiline.js';
import {compileUserRegex} from '../../source/core/regex.js';
import {root} from '../support/logmon.js';

type Joined = {lines: string[]; trace: boolean};

function join(text: string, options: MultilineOptions = defaultMultiline): Joined[] {
	const out: Joined[] = [];
	const joiner = new MultilineJoiner(options, (first, rest, trace) => out.push({lines: [first, ...rest ?? []], trace}));
	for (const line of text.replace(/\n$/, '').split('\n')) {
		joiner.push(line, 0);
	}

	joiner.flush();
	return out;
}

const fixture = (name: string): string => readFileSync(path.join(root, 'test', 'fixtures', 'multiline', name), 'utf8');

describe('multi-line events', () => {
	test('Java: a logged exception with its cause joins the message line; an uncaught one is its own event', () => {
		const events = join(fixture('java.log'));
		expect(events.map(e => e.lines.length)).toEqual([1, 9, 1, 3, 1]);
		expect(events[1]!.lines[1]).toBe('java.lang.IllegalStateException: payment gateway answered 502');
		expect(events[1]!.lines.at(-1)).toBe('\t... 12 more');
		expect(events[1]!.trace).toBe(true);
		expect(events[3]!.lines[0]).toMatch(/^Exception in thread "worker-2"/);
		expect(events[0]!.trace).toBe(false);
	});

	test('Python: logging.exception\'s traceback joins its message; a chained uncaught traceback is one event', () => {
		const events = join(fixture('python.log'));
		expect(events.map(e => e.lines.length)).toEqual([1, 7, 1, 11, 1]);
		expect(events[1]!.lines.at(-1)).toBe('ZeroDivisionError: division by zero');
		expect(events[3]!.lines[0]).toBe('Traceback (most recent call last):');
		expect(events[3]!.lines.at(-1)).toBe('RuntimeError: cannot start');
		expect(events[4]!.lines[0]).toMatch(/WARNING app: done/);
	});

	test('Go: a panic with its goroutine dump is one event, blank lines and exit status included', () => {
		const events = join(fixture('go.log'));
		expect(events.map(e => e.lines.length)).toEqual([1, 8, 1]);
		expect(events[1]!.lines[0]).toMatch(/^panic: runtime error/);
		expect(events[1]!.lines.at(-1)).toBe('exit status 2');
		expect(events[1]!.trace).toBe(true);
	});

	test('indented continuation lines join; JSON records and blank lines never wait', () => {
		expect(join('config:\n  port: 80\n  host: x\nnext').map(e => e.lines)).toEqual([['config:', '  port: 80', '  host: x'], ['next']]);
		expect(join('{"msg":"a"}\n  indented\n\nplain').map(e => e.lines)).toEqual([['{"msg":"a"}'], ['  indented'], [''], ['plain']]);
	});

	test('a Traceback after an INFO line is not joined to it', () => {
		expect(join('INFO ok\nTraceback (most recent call last):\n  File "x", line 1\nKeyError: 1').map(e => e.lines.length)).toEqual([1, 3]);
	});

	test('off: every line is its own event', () => {
		expect(join(fixture('java.log'), {...defaultMultiline, enabled: false})).toHaveLength(15);
	});

	test('a start pattern: lines that do not match it continue the event', () => {
		const start = compileUserRegex(String.raw`^\d{4}-\d\d-\d\d `, 'test');
		const events = join('2026-05-01 a\nmore\n\n  x\n2026-05-01 b\n2026-05-01 c\nz', {...defaultMultiline, start});
		expect(events.map(e => e.lines)).toEqual([['2026-05-01 a', 'more', '', '  x'], ['2026-05-01 b'], ['2026-05-01 c', 'z']]);
	});

	test('an event is cut at its line cap, and the cut counted', () => {
		const out: string[][] = [];
		const joiner = new MultilineJoiner({...defaultMultiline, maxLines: 3}, (first, rest) => out.push([first, ...rest ?? []]));
		for (const line of ['head', ' 1', ' 2', ' 3', ' 4', 'next']) {
			joiner.push(line, 0);
		}

		joiner.flush();
		expect(out).toEqual([['head', ' 1', ' 2'], [' 3', ' 4'], ['next']]);
		expect(joiner.cut).toBe(1);
	});

	test('the held event says how long it has waited', () => {
		const joiner = new MultilineJoiner(defaultMultiline, () => undefined);
		joiner.push('a', 1000);
		expect(joiner.heldFor(1300)).toBe(300);
		joiner.push(' b', 1200);
		expect(joiner.heldFor(1300)).toBe(100);
	});

	test('hostile lines: long runs that look like frames or names are scanned once', () => {
		const long = 'a.'.repeat(200_000);
		expect(join(`panic: x\n${long}(\n${'x'.repeat(400_000)}: y`).map(e => e.lines.length)).toEqual([1, 1, 1]);
	});

	test('the event: message joined by ⏎ on one line, raw with its newlines, a trace under a level-less line is an error', () => {
		const origin = {sourceId: 'f', sourceKind: 'file' as const, service: 'app', receivedAt: 0};
		const e = eventFromLines('Traceback (most recent call last):', ['  File "x"', 'KeyError: 1\u001B[31m'], true, origin);
		expect(e.message).toBe('Traceback (most recent call last): ⏎   File "x" ⏎ KeyError: 1');
		expect(e.raw).toBe('Traceback (most recent call last):\n  File "x"\nKeyError: 1\u001B[31m');
		expect(e.level).toBe('ERROR');
		expect(eventFromLines('WARN slow', ['  detail'], false, origin).level).toBe('WARN');
	});
});
