import {describe, expect, it} from 'vitest';
import {type EventInit} from '../../source/core/event.js';
import {ScreenedLines, lineFlag, screenFlags} from '../../source/core/line-screen.js';
import {MultilineJoiner, defaultMultiline} from '../../source/core/multiline.js';
import {eventFromLineOrJournal} from '../../source/core/journald.js';
import {type RedactSpec, compileRedaction, screenTexts, screenable} from '../../source/core/redact.js';
import {corpusLines} from '../support/redact-corpus.js';

// The pure half of screening a line source's input in another thread (core/line-screen.ts): the
// flag a line gets there, the flags looked up by line index here, and a batch's flags in the order
// the redactor reads them.

const spec: RedactSpec = {enable: [], disable: [], rules: [{name: 'order-token', pattern: 'tok_[a-z0-9]{24}', from: '--redact-rule'}], fields: [], mode: 'mask'};
const origin = {sourceId: 'stdin', sourceKind: 'stdin' as const, service: 'stdin', receivedAt: 0};

describe('lineFlag', () => {
	// Events with a record are redacted whole whatever the flag (Redactor.redactBatch): only the others count.
	it('is 0 only where redacting the line\'s event changes nothing, on every line of the redaction corpus and some of logmon\'s own', () => {
		const screen = compileRedaction(spec);
		const redactor = compileRedaction(spec);
		const lines = [...corpusLines(), 'GET /item/1 200 in 3 ms', 'paid with tok_abcdefghijklmnopqrstuvwx', '\u001B[31mred\u001B[0m password=hunter2', 'crlf password=x\r', '{"msg":"password=x"}', ''];
		let clear = 0;
		for (const line of lines) {
			const flag = lineFlag(line, t => screen.mayChange(t));
			const e = eventFromLineOrJournal(line, origin);
			const before = JSON.stringify(e);
			const counts = screenable(e);
			redactor.redactEvent(e);
			if (flag === 0 && counts) {
				clear++;
				expect(JSON.stringify(e), line).toBe(before);
			}
		}

		expect(clear).toBeGreaterThan(10);
		expect(lineFlag('paid with tok_abcdefghijklmnopqrstuvwx', t => screen.mayChange(t))).toBe(1);
		// Only the message holds what sanitizing made of an escape; the raw line holds the escape.
		expect(lineFlag('\u001B[31mred\u001B[0m password=hunter2', t => screen.mayChange(t))).toBe(1);
	});
});

describe('ScreenedLines', () => {
	it('answers by line index, 1 for lines no answer covered, and forgets ranges passed', () => {
		const s = new ScreenedLines();
		expect(s.used).toBe(false);
		expect(s.flag(0)).toBe(1);
		s.add(5, Uint8Array.from([0, 1, 0]));
		s.add(8, Uint8Array.from([0]));
		s.add(12, Uint8Array.from([1, 0]));
		expect(s.used).toBe(true);
		expect([3, 5, 6, 7, 8, 9, 12, 13, 14].map(i => s.flag(i))).toEqual([1, 0, 1, 0, 0, 1, 1, 0, 1]);
	});
});

describe('screenFlags', () => {
	it('gives a flag per text, in the order screenTexts gives the texts: markers and records have none, a raw line unlike its message has its own', () => {
		const plain = eventFromLineOrJournal('plain', origin);
		const escaped = eventFromLineOrJournal('\u001B[1mbold', origin);
		const record = eventFromLineOrJournal('{"msg":"a record"}', origin);
		const marker: EventInit = {...eventFromLineOrJournal('gap', origin), marker: 'gap'};
		const events = [plain, marker, escaped, record, eventFromLineOrJournal('last', origin)];
		expect(escaped.raw).not.toBe(escaped.message);
		const flags = screenFlags(events, [0, 1, 1, 1, 0]);
		expect(flags).toHaveLength(screenTexts(events).length);
		expect([...flags]).toEqual([0, 1, 1, 0]);
	});
});

describe('the multi-line joiner\'s line index', () => {
	it('gives each event the index of its first line among the lines pushed', () => {
		const out: Array<[string, number]> = [];
		const joiner = new MultilineJoiner(defaultMultiline, (first, _rest, _trace, index) => out.push([first, index]));
		for (const line of ['a', 'ERROR boom', 'java.lang.IllegalStateException: x', '\tat A.b(A.java:1)', '{"json":1}', '', 'b']) {
			joiner.push(line, 0);
		}

		joiner.flush();
		expect(out).toEqual([['a', 0], ['ERROR boom', 1], ['{"json":1}', 4], ['', 5], ['b', 6]]);
		expect(joiner.pushed).toBe(7);
	});
});
