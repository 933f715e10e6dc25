import {describe, expect, it} from 'vitest';
import {SseReader} from '../../source/core/sse.js';

// The Server-Sent Events reader of the connect source: the standard's line rules, any chunking,
// and bounded lines from a stream that is not trusted.

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('SseReader', () => {
	it('reads ids, data, named events and comments; ids carry over', () => {
		const r = new SseReader({maxLine: 1000});
		const out = r.pushText('retry: 2000\n\n: ping\n\nid: 1-1\ndata: {"a":1}\n\nevent: loss\ndata: {"lost":3}\n\ndata: two\ndata: lines\n\n');
		expect(out).toEqual([
			{event: 'message', data: '{"a":1}', id: '1-1'},
			{event: 'loss', data: '{"lost":3}', id: '1-1'},
			{event: 'message', data: 'two\nlines', id: '1-1'},
		]);
		expect(r.retryMs).toBe(2000);
		expect(r.lastEventId).toBe('1-1');
	});

	it('gives the same messages however the bytes are cut, with LF, CRLF or CR line ends and split UTF-8', () => {
		for (const eol of ['\n', '\r\n', '\r']) {
			const text = `id: 7-1${eol}data: héllo ✓ 🎉${eol}${eol}id: 7-2${eol}data:x${eol}${eol}`;
			const all = bytes(text);
			for (let step = 1; step <= all.length; step++) {
				const r = new SseReader({maxLine: 1000});
				const out = [];
				for (let i = 0; i < all.length; i += step) {
					out.push(...r.push(all.subarray(i, i + step)));
				}

				expect(out, `eol ${JSON.stringify(eol)} step ${step}`).toEqual([
					{event: 'message', data: 'héllo ✓ 🎉', id: '7-1'},
					{event: 'message', data: 'x', id: '7-2'},
				]);
			}
		}
	});

	it('skips a line past maxLine, and its message, whole and counted; the next message is read', () => {
		const r = new SseReader({maxLine: 20});
		const long = 'y'.repeat(50);
		const out = [
			...r.pushText(`id: 1-1\ndata: ${long.slice(0, 25)}`),
			...r.pushText(`${long.slice(25)}\n\n`),
			...r.pushText(`id: 1-2\ndata: ${long}\n\nid: 1-3\ndata: ok\n\n`),
		];
		expect(out).toEqual([{event: 'message', data: 'ok', id: '1-3'}]);
		expect(r.overlong).toBe(2);
	});

	it('drops an unfinished message at the end of a stream, and ignores ids holding NUL', () => {
		const r = new SseReader({maxLine: 100});
		expect(r.pushText('id: 5-5\ndata: half')).toEqual([]);
		r.end();
		expect(r.pushText('id: a\u0000b\ndata: next\n\n')).toEqual([{event: 'message', data: 'next', id: '5-5'}]);
	});
});
