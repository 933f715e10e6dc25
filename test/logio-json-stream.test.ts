import {readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {JsonStreamDecoder} from '../source/core/json-stream.js';
import {corpus} from './support/logmon.js';

const topic = {app: 'myapp', proc: 'web', host: 'foobar'};
const logs = [
	{time: '2016-12-06T17:14:21.448912-05:00', raw: '2016/12/06 17:14:21 INFO This is a web log\n'},
	{time: '2016-12-06T17:14:22Z', raw: 'quotes " and \\ backslashes \\" and {braces} [brackets]\n'},
	{time: '2016-12-06T17:14:23Z', raw: 'ünïcödé 日本語 emoji 🎉 and \u2028 separators\n'},
	{time: '2016-12-06T17:14:24Z', raw: 'control \u0001 \t tab\n', extra: {nested: [1, {deep: [true, null, -1.5e3]}]}},
];
// The publisher framing: values back to back, no separator.
const sample = Buffer.from(JSON.stringify(topic) + logs.map(l => JSON.stringify(l)).join(''));
const expected = [topic, ...logs];

function feed(decoder: JsonStreamDecoder, chunks: Buffer[]): unknown[] {
	return chunks.flatMap(c => decoder.push(c));
}

describe('JsonStreamDecoder', () => {
	test('decodes concatenated values in one chunk', () => {
		const d = new JsonStreamDecoder();
		expect(d.push(sample)).toEqual(expected);
		expect(d.error).toBeUndefined();
		expect(d.pendingBytes).toBe(0);
	});

	test('every split point, including inside UTF-8 characters and escapes, gives the same values', () => {
		for (let i = 0; i <= sample.length; i++) {
			const d = new JsonStreamDecoder();
			const got = feed(d, [sample.subarray(0, i), sample.subarray(i)]);
			expect(d.error, `split at ${i}`).toBeUndefined();
			expect(got, `split at ${i}`).toEqual(expected);
		}
	});

	test('every pair of split points (three chunks) gives the same values', () => {
		const small = Buffer.from(JSON.stringify(topic) + JSON.stringify(logs[2]) + JSON.stringify(logs[1]));
		for (let i = 0; i <= small.length; i++) {
			for (let j = i; j <= small.length; j++) {
				const d = new JsonStreamDecoder();
				const got = feed(d, [small.subarray(0, i), small.subarray(i, j), small.subarray(j)]);
				expect(got).toEqual([topic, logs[2], logs[1]]);
			}
		}
	});

	test('one byte at a time', () => {
		const d = new JsonStreamDecoder();
		const got: unknown[] = [];
		for (const byte of sample) {
			got.push(...d.push(Buffer.from([byte])));
		}

		expect(got).toEqual(expected);
	});

	test('NDJSON, whitespace between values, arrays, strings and bare scalars', () => {
		const d = new JsonStreamDecoder();
		const got = feed(d, [Buffer.from('{"a":1}\n{"b":2}\r\n  \t[1,2]"s\\"x" 12 true{"c":3}null')]);
		const {values, error} = d.end();
		expect(error).toBeUndefined();
		expect([...got, ...values]).toEqual([{a: 1}, {b: 2}, [1, 2], 's"x', 12, true, {c: 3}, null]);
	});

	test('real log lines from the fixtures, in odd-sized chunks', () => {
		const lines = readFileSync(path.join(corpus, 'OpenStack_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
		const values = lines.map((raw, i) => ({time: new Date(1_700_000_000_000 + i).toISOString(), raw: raw + '\n'}));
		const bytes = Buffer.from(JSON.stringify(topic) + values.map(v => JSON.stringify(v)).join(''));
		const d = new JsonStreamDecoder();
		const got: unknown[] = [];
		for (let i = 0, step = 1; i < bytes.length; i += step, step = (step * 7 + 3) % 1500 + 1) {
			got.push(...d.push(bytes.subarray(i, i + step)));
		}

		expect(d.error).toBeUndefined();
		expect(got).toEqual([topic, ...values]);
	});

	test('garbage: a clear error after the values before it', () => {
		const d = new JsonStreamDecoder();
		expect(d.push(Buffer.from('{"a":1} xyz {"b":2}'))).toEqual([{a: 1}]);
		expect(d.error).toBe('invalid character \'x\' looking for beginning of value');
		// Stopped for good: later input is ignored.
		expect(d.push(Buffer.from('{"c":3}'))).toEqual([]);
	});

	test('garbage inside a value is reported by the JSON parser', () => {
		const d = new JsonStreamDecoder();
		expect(d.push(Buffer.from('{"raw":x}'))).toEqual([]);
		expect(d.error).toMatch(/not valid JSON|Unexpected token/);
		const e = new JsonStreamDecoder();
		e.push(Buffer.from('{]'));
		expect(e.error).toBeDefined();
	});

	test('NUL bytes between values and inside strings are errors', () => {
		const between = new JsonStreamDecoder();
		expect(between.push(Buffer.from('{"a":1}\u0000{"b":2}'))).toEqual([{a: 1}]);
		expect(between.error).toBe('invalid character \'\\x00\' looking for beginning of value');
		const inside = new JsonStreamDecoder();
		expect(inside.push(Buffer.from('{"raw":"a\u0000b"}'))).toEqual([]);
		expect(inside.error).toMatch(/control character|not valid JSON|Unexpected/i);
	});

	test('invalid UTF-8 decodes to U+FFFD, it does not fail', () => {
		const d = new JsonStreamDecoder();
		const bytes = Buffer.concat([Buffer.from('{"raw":"a'), Buffer.from([0xFF, 0xC3]), Buffer.from('b"}')]);
		expect(d.push(bytes)).toEqual([{raw: 'a\uFFFD\uFFFDb'}]);
	});

	test('deep nesting is refused at the cap, before the value is buffered', () => {
		const d = new JsonStreamDecoder({maxDepth: 128});
		expect(d.push(Buffer.from('['.repeat(100_000)))).toEqual([]);
		expect(d.error).toBe('JSON nested deeper than 128 levels');
		expect(d.pendingBytes).toBe(0);
		const ok = new JsonStreamDecoder({maxDepth: 128});
		const nested = '['.repeat(128) + ']'.repeat(128);
		expect(ok.push(Buffer.from(nested))).toHaveLength(1);
		// Brackets inside strings do not count.
		expect(ok.push(Buffer.from(`{"raw":"${'['.repeat(1000)}"}`))).toEqual([{raw: '['.repeat(1000)}]);
	});

	test('a value that never closes is cut at the cap, memory stays bounded', () => {
		const d = new JsonStreamDecoder({maxValueBytes: 1024 * 1024});
		d.push(Buffer.from('{"time":"2016-12-06T17:14:21Z","raw":"'));
		const chunk = Buffer.alloc(64 * 1024, 'a');
		let pushes = 0;
		while (d.error === undefined && pushes < 1000) {
			d.push(chunk);
			pushes++;
			expect(d.pendingBytes).toBeLessThanOrEqual(1024 * 1024);
		}

		expect(d.error).toBe('a JSON value is longer than 1048576 bytes');
		expect(pushes).toBe(16); // the head plus 16 × 64 KiB passes 1 MiB
		expect(d.pendingBytes).toBe(0);
	});

	test('a complete value over the cap in one chunk is refused too', () => {
		const d = new JsonStreamDecoder({maxValueBytes: 100});
		expect(d.push(Buffer.from(`{"a":1}{"raw":"${'x'.repeat(200)}"}`))).toEqual([{a: 1}]);
		expect(d.error).toBe('a JSON value is longer than 100 bytes');
	});

	test('end of input inside a value', () => {
		const d = new JsonStreamDecoder();
		d.push(Buffer.from('{"a":1}{"b":'));
		expect(d.end()).toEqual({values: [], error: 'unexpected EOF'});
		const clean = new JsonStreamDecoder();
		clean.push(Buffer.from('{"a":1}\n'));
		expect(clean.end()).toEqual({values: [], error: undefined});
	});

	test('a backslash at the end of a chunk escapes the first byte of the next', () => {
		const text = '{"raw":"a\\"}b"}';
		const cut = text.indexOf('\\') + 1;
		const d = new JsonStreamDecoder();
		expect(feed(d, [Buffer.from(text.slice(0, cut)), Buffer.from(text.slice(cut))])).toEqual([{raw: 'a"}b'}]);
	});
});
