import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {eventFromLine} from '../../source/core/record.js';
import {encodeEvent} from '../../source/history/encode-batch.js';
import {parseIndex} from '../../source/history/index-builder.js';
import {receiveSpan, sealFile, sealLevel} from '../../source/history/seal-file.js';
import {corpus} from '../support/logmon.js';

// The gzip level of a seal, by how fast the segment filled: level 1 at 1 MiB/s and up (sealing
// shares the CPU with ingest), level 6 below it (a slow segment's extra CPU is small).

let dir: string;
let source: string[];

beforeAll(() => {
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-seal-level-'));
	source = readFileSync(path.join(corpus, 'HDFS_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

/** A raw segment of `count` fixture lines whose receive times spread over `spanMs`. */
function segment(name: string, count: number, spanMs: number, time: (recv: number) => number | null = recv => recv): {raw: string; text: string} {
	const t0 = Date.UTC(2026, 11, 3);
	const text = Array.from({length: count}, (_, i) => {
		const recv = t0 + Math.round(i * spanMs / (count - 1));
		const init = eventFromLine(source[i % source.length]!, {sourceId: 'listen', sourceKind: 'logio-listen', service: 'hdfs', host: 'h', proc: 'p', receivedAt: recv});
		const e: LogEvent = {...init, seq: i + 1, time: time(recv) as number};
		return encodeEvent(e);
	}).join('');
	const raw = path.join(dir, `${name}.ndjson`);
	writeFileSync(raw, text);
	return {raw, text};
}

async function seal(raw: string) {
	const base = raw.replace(/\.ndjson$/, '');
	const result = await sealFile({raw, gz: `${base}.ndjson.gz`, index: `${base}.idx.json`});
	return {result, gz: `${base}.ndjson.gz`, index: parseIndex(readFileSync(`${base}.idx.json`, 'utf8'))!};
}

describe('the seal\'s gzip level', () => {
	test('by bytes per second of the span: 1 MiB/s and up is level 1, slower is 6, unknown is 1', () => {
		expect(sealLevel(64 * 1024 * 1024, 3000)).toBe(1);
		expect(sealLevel(45_000_000, 3_600_000)).toBe(6);
		expect(sealLevel(1024 * 1024, 1000)).toBe(1);
		expect(sealLevel(1024 * 1024 - 1, 1000)).toBe(6);
		expect(sealLevel(100, 0)).toBe(6); // one line, or a burst within a millisecond: tiny anyway
		expect(sealLevel(64 * 1024 * 1024, undefined)).toBe(1);
	});

	test('a slow segment is sealed at 6, a fast one at 1; both read back byte for byte, sidecars agree', async () => {
		const slow = segment('slow', 20_000, 3_600_000);
		const fast = segment('fast', 20_000, 500);
		expect(await receiveSpan(slow.raw, slow.text.length)).toBe(3_600_000);
		const s = await seal(slow.raw);
		const f = await seal(fast.raw);
		expect(s.result.level).toBe(6);
		expect(f.result.level).toBe(1);
		for (const [sealed, {text}] of [[s, slow], [f, fast]] as const) {
			expect(zlib.gunzipSync(readFileSync(sealed.gz)).toString('utf8')).toBe(text);
			expect(sealed.index.gzBytes).toBe(statSync(sealed.gz).size);
			expect(sealed.index.events).toBe(20_000);
		}

		// What level 1 would have made of the slow segment, in the same 1 MiB members: 6 takes a good part off.
		const raw = Buffer.from(slow.text);
		let levelOne = 0;
		for (let i = 0; i < raw.length; i += 1024 * 1024) {
			levelOne += zlib.gzipSync(raw.subarray(i, i + (1024 * 1024)), {level: 1}).length;
		}

		expect(s.result.gzBytes).toBeLessThan(levelOne * 0.95);
	});

	test('events without a time of their own, a single line, and lines not in the writer\'s shape', async () => {
		const untimed = segment('untimed', 100, 3_600_000, () => null);
		expect((await seal(untimed.raw)).result.level).toBe(6);
		const one = segment('one', 2, 0);
		writeFileSync(one.raw, one.text.slice(0, one.text.indexOf('\n') + 1));
		expect(await receiveSpan(one.raw, statSync(one.raw).size)).toBe(0);
		const foreign = path.join(dir, 'foreign.ndjson');
		writeFileSync(foreign, '{"hello":"world"}\n{"hello":"again"}\n');
		expect(await receiveSpan(foreign, statSync(foreign).size)).toBeUndefined();
		expect((await seal(foreign)).result.level).toBe(1);
	});
});
