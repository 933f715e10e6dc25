import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {gapEvent, type LogEvent} from '../../source/core/event.js';
import {eventFromLine as eventFromText} from '../../source/core/record.js';
import {encodeEvent} from '../../source/history/encode-batch.js';
import {decodeLine} from '../../source/history/format.js';
import {IndexBuilder} from '../../source/history/index-builder.js';
import {LineIndexer} from '../../source/history/line-index.js';
import {corpus} from '../support/logmon.js';
import {event} from '../support/events.js';

// The sealer reads the lines the writer made from their bytes (line-index.ts); anything else is
// decoded. Both must give the same sidecar, words included, or a query would miss an event.

function fixtureLines(): string[] {
	return readdirSync(corpus).filter(f => f.endsWith('.log')).sort().flatMap(f => readFileSync(path.join(corpus, f), 'utf8').split(/\r?\n/).filter(Boolean));
}

/** The sidecar of `lines` both ways: decoding every line, and as the sealer does. */
function bothWays(lines: string[]): {decoded: unknown; read: unknown; fromBytes: number} {
	const slow = new IndexBuilder();
	for (const line of lines) {
		const e = decodeLine(line);
		if (e) {
			slow.add(e);
		}
	}

	const fast = new IndexBuilder();
	const indexer = new LineIndexer(fast);
	const buf = Buffer.from(lines.join('\n') + '\n');
	let fromBytes = 0;
	let start = 0;
	for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
		if (indexer.line(buf, start, nl)) {
			fromBytes++;
		} else {
			const e = decodeLine(buf.toString('utf8', start, nl));
			if (e) {
				fast.add(e);
			}
		}

		start = nl + 1;
	}

	return {decoded: slow.build(1, 1), read: fast.build(1, 1), fromBytes};
}

const line = (e: LogEvent) => encodeEvent(e).slice(0, -1);

describe('reading lines from their bytes', () => {
	test('every fixture line, from four interleaved sources at every level: the same sidecar as decoding', () => {
		const levels = ['INFO', 'WARN', 'ERROR', 'DEBUG', 'CRITICAL'] as const;
		const lines = fixtureLines().map((raw, i) => line({
			...eventFromText(raw, {sourceId: 'logio-listen', sourceKind: 'logio-listen', service: `svc${i % 4}`, receivedAt: 1_700_000_000_000 + i}),
			seq: i + 1,
			time: 1_700_000_000_000 + (i * 7919 % 100_000),
			host: i % 3 === 0 ? '' : `h${i % 4}`,
			level: levels[(i >> 3) % levels.length]!,
		} as LogEvent));
		const {decoded, read, fromBytes} = bothWays(lines);
		expect(read).toEqual(decoded);
		expect(fromBytes).toBe(lines.length);
	});

	test('every shape the writer makes: status, message, escapes, non-ASCII, JSON raw, records, gap markers', () => {
		const events: LogEvent[] = [
			event({seq: 1, status: 503, message: 'shown text', raw: 'raw text 503'}),
			event({seq: 2, raw: 'tab\there "quoted" back\\slash new\nline end', message: 'tab\there "quoted" back\\slash new\nline end'}),
			event({seq: 3, raw: 'café naïve 東京 emoji 😀 done', message: 'café naïve 東京 emoji 😀 done', service: 'sérvice "x"', host: 'h\\1'}),
			event({seq: 4, raw: '{"user":"u-42","n":1000,"esc":"a\\nb"}', message: 'u-42', record: {user: 'u-42', n: 1000, esc: 'a\nb'}}),
			event({seq: 5, raw: '{"user":"u-43"}', message: '{"user":"u-43"}', record: {user: 'u-43'}}),
			event({seq: 6, raw: 'with a record', message: 'with a record', record: {topic: 'orders', offset: '17', value: [1, 'two', {deep: true}]}}),
			{...gapEvent('logio', 'logio', 1000, 5000), seq: 7},
			event({seq: 8, level: 'ERROR', status: 0, raw: 'zero status', message: 'zero status', proc: 'p', type: 'php-error'}),
			event({seq: 9, time: Number.NaN, raw: 'no time', message: 'no time'}),
			event({seq: 10, raw: '\u001B[31mred\u001B[0m \u007F del', message: '\u001B[31mred\u001B[0m \u007F del'}),
		];
		const lines = events.map(e => line(e));
		const {decoded, read, fromBytes} = bothWays(lines);
		expect(read).toEqual(decoded);
		// A record that is not the raw text and a time that is not a number are decoded the general way.
		expect(fromBytes).toBe(events.length - 2);
	});

	test('damaged and foreign lines are left to the decoder, with nothing counted', () => {
		const good = line(event({seq: 1, raw: 'fine line'}));
		const lines = [
			good,
			good.slice(0, 40),
			good.slice(0, -1),
			good + 'x',
			good.replace('"seq":1', '"seq":01'),
			good.replace('"seq":1', '"seq":-1'),
			good.replace('"level":"INFO"', '"level":"LOUD"'),
			good.replace('"raw":"fine', '"raw":"fine\\q'),
			'{"seq":2,"time":5,"recv":5,"raw":"no level","level":"INFO","service":"s","src":"s","kind":"stdin"}',
			'not json at all',
			'',
		];
		const {decoded, read} = bothWays(lines);
		expect(read).toEqual(decoded);
		const b = new IndexBuilder();
		const indexer = new LineIndexer(b);
		for (const l of lines.slice(1)) {
			const buf = Buffer.from(l);
			expect(indexer.line(buf, 0, buf.length)).toBe(false);
		}

		expect(b.events).toBe(0);
		expect(b.hashes.size).toBe(0);
	});
});
