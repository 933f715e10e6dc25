import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {gapEvent, LEVELS, type LogEvent} from '../../source/core/event.js';
import {eventFromLine as eventFromText} from '../../source/core/record.js';
import {Bloom, eventTexts, hashWord, hashWords, queryWords, words} from '../../source/history/bloom.js';
import {Capture} from '../../source/history/capture.js';
import {encodeBatch, encodeEvent, partBuffers} from '../../source/history/encode-batch.js';
import {SlabPool} from '../../source/history/slabs.js';
import {checkFormat, decodeLine, formatFileText, parseSegmentFile, segmentBase} from '../../source/history/format.js';
import {IndexBuilder, parseIndex} from '../../source/history/index-builder.js';
import {parseDuration, parseSize} from '../../source/history/units.js';
import {corpus} from '../support/logmon.js';
import {event} from '../support/events.js';

// The pure half of the history: line format, segment names, words and bloom filter, sidecar.

function roundTrip(e: LogEvent): LogEvent {
	const line = encodeEvent(e);
	expect(line.endsWith('\n')).toBe(true);
	expect(line.slice(0, -1)).not.toContain('\n');
	return decodeLine(line.slice(0, -1))!;
}

function fixtureLines(): string[] {
	return readdirSync(corpus).filter(f => f.endsWith('.log')).sort().flatMap(f => readFileSync(path.join(corpus, f), 'utf8').split(/\r?\n/).filter(Boolean));
}

describe('line format', () => {
	test('every field and the record round-trip', () => {
		const e = event({
			seq: 42,
			time: 1_700_000_000_123,
			receivedAt: 1_700_000_000_456,
			sourceId: 'kafka',
			sourceKind: 'kafka',
			service: 'orders "eu"',
			host: 'h\u00E9te-1',
			proc: 'worker',
			type: 'php-error',
			level: 'CRITICAL',
			status: 503,
			message: 'shown \\x1b[31m',
			raw: 'raw \u001B[31m with escape\nand a second line\ttab',
			record: {topic: 't', offset: '17', value: {nested: [1, 'two', null, {deep: true}]}, key: null},
		});
		expect(roundTrip(e)).toEqual(e);
	});

	test('defaults are left out and restored', () => {
		const e = event({host: '', proc: '', type: '', message: 'same', raw: 'same'});
		const line = encodeEvent(e);
		expect(line).not.toContain('"host"');
		expect(line).not.toContain('"msg"');
		expect(line).not.toContain('"status"');
		expect(roundTrip(e)).toEqual(e);
	});

	test('gap markers round-trip', () => {
		const gap = {...gapEvent('logio', 'logio', 1000, 5000), seq: 7};
		expect(roundTrip(gap)).toEqual(gap);
	});

	test('a record whose JSON is the raw text is written once', () => {
		const raw = '{"level":"error","message":"boom","n":1}';
		const e = {...eventFromText(raw, {sourceId: 's', sourceKind: 'stdin', service: 'x', receivedAt: 5}), seq: 1} as LogEvent;
		const line = encodeEvent(e);
		expect(line).toContain('"rawrec":1');
		expect(line).not.toContain('"rec":');
		expect(roundTrip(e)).toEqual(e);
	});

	test('a record JSON cannot hold is kept as text', () => {
		const e = event({record: {n: 10n}});
		expect(roundTrip(e).record).toBe('[object Object]');
	});

	test('damaged lines decode to nothing', () => {
		expect(decodeLine('{"seq":1,"time":')).toBeUndefined();
		expect(decodeLine('{"other":true}')).toBeUndefined();
		expect(decodeLine('')).toBeUndefined();
		expect(decodeLine('null')).toBeUndefined();
	});

	test('a batch gives the lines of its events one by one, escapes, surrogates and long lines included', () => {
		const tricky = ['plain', 'quote " and \\ backslash', 'tab\tcr\r', 'emoji 😀 and é', 'lone \uD800 surrogate', '\u0000\u001F', '', 'x'.repeat(300_000)];
		const events: LogEvent[] = [];
		for (const [i, raw] of tricky.entries()) {
			events.push(event({seq: i, raw, message: raw}), event({seq: i, raw, message: 'other "é" \uDC00', status: 500, record: {raw}, marker: 'gap', level: 'ERROR'}));
		}

		// Small starting sizes: the capture grows and the lines spread over several parts.
		const pool = new SlabPool(1024 * 1024);
		const capture = new Capture(0, pool, 2, 16);
		for (const e of events) {
			capture.push(e);
		}

		const encoded = encodeBatch(capture.batch(), pool);
		const lines = events.map(e => encodeEvent(e));
		expect(encoded.all.length).toBeGreaterThan(1);
		expect(Buffer.concat(partBuffers(encoded.all)).toString()).toBe(lines.join(''));
		expect(encoded.allBytes).toBe(Buffer.byteLength(lines.join('')));
		expect(Buffer.concat(partBuffers(encoded.errors)).toString()).toBe(lines.filter((_, i) => i % 2 === 1).join(''));
		for (const [i, line] of lines.entries()) {
			expect(decodeLine(line.slice(0, -1))).toEqual(events[i]);
		}
	});

	test('text is written as JSON.stringify writes it: every ASCII byte and some others, at every offset of a word', () => {
		const pieces = [...Array.from({length: 128}, (_, c) => String.fromCodePoint(c)), '\u00E9', '\u2028', '\uFFFF', '😀', '\u007F\u0080'];
		const events: LogEvent[] = [];
		for (const piece of pieces) {
			for (let lead = 0; lead < 8; lead++) {
				// One batch: each text starts where the one before ended, at every offset of a 4-byte word.
				for (const raw of ['a'.repeat(lead) + piece + 'bcdefgh'.slice(0, lead), 'x'.repeat(lead) + piece.repeat(9), piece + 'y'.repeat(lead)]) {
					events.push(event({seq: events.length, raw, message: raw}));
				}
			}
		}

		const pool = new SlabPool(1024 * 1024);
		const capture = new Capture(0, pool);
		for (const e of events) {
			capture.push(e);
		}

		const lines = Buffer.concat(partBuffers(encodeBatch(capture.batch(), pool).all)).toString().split('\n');
		expect(lines.pop()).toBe('');
		for (const [i, line] of lines.entries()) {
			expect(line.endsWith(`,"raw":${JSON.stringify(events[i]!.raw)}}`)).toBe(true);
			expect(decodeLine(line)).toEqual(events[i]);
		}
	});

	test('numbers of every length round-trip: seq, times and status as JSON writes them', () => {
		const numbers = [0, 7, 9, 10, 99, 100, 12_345, 999_999, 1_000_000, 1_000_005, 123_456_789, 2_147_483_647, 2_147_483_648, 1_700_000_000_007, 1_700_000_123_456, Number.MAX_SAFE_INTEGER];
		for (const n of numbers) {
			const e = event({seq: n, time: n, receivedAt: n, status: n % 1000});
			const line = encodeEvent(e);
			expect(line).toContain(`{"seq":${n},"time":${n},"recv":${n},`);
			expect(roundTrip(e)).toEqual(e);
		}

		for (const time of [Number.NaN, -5, 1.5, 1e21]) {
			const line = encodeEvent(event({time}));
			expect(line).toContain(`"time":${JSON.stringify(time)},`);
		}
	});

	test('events captured a run at a time: runs of ASCII text written at once, runs with other text one by one, the same lines', () => {
		const texts = ['plain', 'quote " and \\ backslash', 'tab\tcr\r', 'emoji 😀 and é', 'lone \uD800 surrogate', '\u0000\u001F', '', 'x'.repeat(70_000)];
		const events: LogEvent[] = [];
		for (let i = 0; i < 400; i++) {
			const raw = texts[i % texts.length]! + ` ${i}`;
			// Runs of 10: every other run ASCII only; some messages differ from the raw text.
			const ascii = Math.floor(i / 10) % 2 === 0;
			const text = ascii ? raw.replace(/[^\u0000-\u007F]/g, '?') : raw;
			events.push(event({seq: i, raw: text, message: i % 3 === 0 ? `shown ${text}` : text, level: i % 4 === 0 ? 'ERROR' : 'INFO', status: i % 5 === 0 ? 200 : undefined}));
		}

		const pool = new SlabPool(1024 * 1024);
		const capture = new Capture(0, pool, 2, 16);
		for (let i = 0; i < events.length; i += 10) {
			capture.pushAll(events, i, i + 10);
		}

		const encoded = encodeBatch(capture.batch(), pool);
		const lines = events.map(e => encodeEvent(e));
		expect(Buffer.concat(partBuffers(encoded.all)).toString()).toBe(lines.join(''));
		expect(Buffer.concat(partBuffers(encoded.errors)).toString()).toBe(lines.filter((_, i) => i % 4 === 0).join(''));
		for (const [i, line] of lines.entries()) {
			expect(decodeLine(line.slice(0, -1))).toEqual(events[i]);
		}
	});

	test('sources and levels interleaved, more sources than are remembered: each line has its own fields', () => {
		const events: LogEvent[] = [];
		for (let i = 0; i < 2000; i++) {
			// 40 sources, each in runs of a few events, at every level; some share a service, differ in host.
			const k = Math.floor(i / 3) % 40;
			events.push(event({seq: i, sourceId: `src${k % 7}`, sourceKind: k % 2 === 0 ? 'logio' : 'kafka', service: `svc${k % 10}`, host: k < 20 ? '' : `host${k}`, proc: k % 3 === 0 ? 'web' : '', type: k % 5 === 0 ? 'php-error' : '', level: LEVELS[(i * 7) % LEVELS.length]!, raw: `line ${i}`, message: `line ${i}`}));
		}

		const pool = new SlabPool(1024 * 1024);
		const capture = new Capture(0, pool);
		for (const e of events) {
			capture.push(e);
		}

		const lines = Buffer.concat(partBuffers(encodeBatch(capture.batch(), pool).all)).toString().split('\n');
		expect(lines.pop()).toBe('');
		expect(lines.map(line => decodeLine(line))).toEqual(events);
	});

	test('fixture lines round-trip', () => {
		let seq = 0;
		for (const raw of fixtureLines()) {
			const e = {...eventFromText(raw, {sourceId: 'l', sourceKind: 'logio-listen', service: 'svc', host: 'h', receivedAt: 1000}), seq: ++seq} as LogEvent;
			expect(roundTrip(e)).toEqual(e);
		}
	});
});

describe('segment names and FORMAT', () => {
	test('names sort by hour and number and parse back', () => {
		const hour = Date.UTC(2024, 4, 1, 9);
		expect(segmentBase(hour, 3)).toBe('20240501T09-3');
		expect(parseSegmentFile('20240501T09-3.ndjson.gz')).toEqual({hour, n: 3, base: '20240501T09-3', kind: 'gz'});
		expect(parseSegmentFile('20240501T09-3.ndjson')?.kind).toBe('raw');
		expect(parseSegmentFile('20240501T09-3.idx.json')?.kind).toBe('index');
		expect(parseSegmentFile('20240501T09-3.ndjson.gz.tmp')).toBeUndefined();
		expect(parseSegmentFile('FORMAT')).toBeUndefined();
	});

	test('a newer format is refused with a reason', () => {
		expect(checkFormat(formatFileText)).toEqual({ok: true});
		const newer = checkFormat('{"format":"logmon-history","version":99}');
		expect(newer.ok).toBe(false);
		expect(!newer.ok && newer.reason).toMatch(/newer logmon/);
		expect(checkFormat('garbage').ok).toBe(false);
	});

	test('durations and sizes', () => {
		expect(parseDuration('3d')).toBe(3 * 86_400_000);
		expect(parseDuration('90m')).toBe(5_400_000);
		expect(parseDuration('3 days')).toBeUndefined();
		expect(parseSize('2GiB')).toBe(2 * 1024 ** 3);
		expect(parseSize('500MB')).toBe(500e6);
		expect(parseSize('1024')).toBe(1024);
		expect(parseSize('2 parsecs')).toBeUndefined();
	});
});

describe('words and the bloom filter', () => {
	test('the word rule', () => {
		expect(queryWords('Req-42.Foo:bar req_id=ABC café')).toEqual(['req', '42', 'foo', 'bar', 'req_id', 'abc', 'caf']);
		const hashes: number[] = [];
		hashWords('Req-42.Foo:bar', h => hashes.push(h));
		expect(hashes).toEqual(['req', '42', 'foo', 'bar'].map(w => hashWord(w)));
	});

	test('no false negatives: every word of every fixture line is found in its segment\'s filter', () => {
		const lines = fixtureLines();
		let checked = 0;
		const missed: string[] = [];
		// Segments of 2,000 lines, as the loghub files are.
		for (let at = 0; at < lines.length; at += 2000) {
			const builder = new IndexBuilder();
			const events = lines.slice(at, at + 2000).map((raw, i) => ({...eventFromText(raw, {sourceId: 'l', sourceKind: 'logio-listen', service: 'svc', receivedAt: 1000}), seq: i + 1}) as LogEvent);
			for (const e of events) {
				builder.add(e);
			}

			const index = parseIndex(JSON.stringify(builder.build(0, 0)))!;
			const bloom = Bloom.fromJson(index.bloom)!;
			for (const e of events) {
				eventTexts(e, text => {
					// The words a user would type, found by the query side's own rule.
					for (const w of queryWords(text)) {
						checked++;
						if (!bloom.has(hashWord(w))) {
							missed.push(w);
						}
					}
				});
				for (const w of queryWords(e.raw.toUpperCase())) {
					if (!bloom.hasAll([w])) {
						missed.push(w);
					}
				}
			}
		}

		expect(missed).toEqual([]);
		expect(checked).toBeGreaterThan(100_000);
	});

	test('about 1% false positives', () => {
		const bloom = Bloom.forCount(10_000);
		for (let i = 0; i < 10_000; i++) {
			bloom.add(hashWord(`word${i}`));
		}

		let positives = 0;
		for (let i = 0; i < 10_000; i++) {
			words(`other${i}`, w => {
				positives += bloom.has(hashWord(w)) ? 1 : 0;
			});
		}

		expect(positives).toBeLessThan(300);
	});
});

describe('sidecar', () => {
	test('counts per service and level, errors per minute, time ranges', () => {
		const b = new IndexBuilder();
		b.add(event({seq: 1, service: 'a', level: 'ERROR', time: 120_000, receivedAt: 500_000}));
		b.add(event({seq: 2, service: 'a', level: 'ERROR', time: 60_000, receivedAt: 500_001}));
		b.add(event({seq: 3, service: 'b', level: 'INFO', time: 999_999, receivedAt: 500_002}));
		const index = b.build(100, 50);
		expect(index).toMatchObject({
			minTime: 60_000,
			maxTime: 999_999,
			minReceived: 500_000,
			maxReceived: 500_002,
			firstSeq: 1,
			lastSeq: 3,
			events: 3,
			rawBytes: 100,
			gzBytes: 50,
			counts: {'a\tERROR': 2, 'b\tINFO': 1},
			errorsPerMinute: {60000: 1, 120000: 1},
		});
		expect(parseIndex('{"version":1,"garbage":true}')).toBeUndefined();
		expect(parseIndex('not json')).toBeUndefined();
	});
});
