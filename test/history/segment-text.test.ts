import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {eventFromLine} from '../../source/core/record.js';
import {encodeEvent} from '../../source/history/encode-batch.js';
import {headTest, pickLines} from '../../source/history/line-filter.js';
import {sealFile} from '../../source/history/seal-file.js';
import {SegmentReader, type SegmentSource, type TextCounts} from '../../source/history/segment-text.js';
import {corpus} from '../support/logmon.js';

// A segment's text as logmon query reads it: gzip members inflated one by one, checked like
// gunzip checks them, damage counted with what came before kept; and the byte tests that pick
// the lines worth decoding.

let dir: string;
let lines: string[];
let text: string;

function event(line: string, i: number): LogEvent {
	const init = eventFromLine(line, {sourceId: 'listen', sourceKind: 'logio-listen', service: 'openssh', host: 'h', proc: 'p', receivedAt: 1_736_000_000_000 + i});
	return {...init, seq: i + 1, time: init.receivedAt - (i % 7 === 0 ? 86_400_000 : 1000)};
}

async function read(source: SegmentSource, window?: number): Promise<{text: string; counts: TextCounts}> {
	const counts: TextCounts = {damaged: false};
	const chunks: Buffer[] = [];
	for await (const chunk of new SegmentReader(window).text(source, counts)) {
		expect(chunk.at(-1), 'every chunk ends with a newline').toBe(10);
		chunks.push(Buffer.from(chunk));
	}

	return {text: Buffer.concat(chunks).toString('utf8'), counts};
}

/** Where each of the sealer's members begins (its header: no flags, no time). */
function memberStarts(packed: Buffer): number[] {
	const header = Buffer.from([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
	const starts: number[] = [];
	for (let at = packed.indexOf(header); at >= 0; at = packed.indexOf(header, at + 1)) {
		starts.push(at);
	}

	return starts;
}

/** `got` is the text's lines in order, less those of about one member (1 MiB of text of `members`), the last ones there. */
function expectLostOneMember(got: string, members: number): void {
	const kept = got.split('\n').filter(Boolean).map(line => `${line}\n`);
	let i = 0;
	for (const line of kept) {
		while (i < lines.length && lines[i] !== line) {
			i++;
		}

		expect(i, 'each line read is one written, in order').toBeLessThan(lines.length);
		i++;
	}

	const lost = lines.length - kept.length;
	expect(lost).toBeGreaterThan(0);
	expect(lost).toBeLessThan((lines.length / (members - 1)) + 2);
	expect(kept.at(-1)).toBe(lines.at(-1));
}

function file(name: string, data: Uint8Array | string): string {
	const p = path.join(dir, name);
	writeFileSync(p, data);
	return p;
}

beforeAll(async () => {
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-segment-text-'));
	const source = readFileSync(path.join(corpus, 'OpenSSH_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
	// Some 6 MiB: several of the sealer's 1 MiB members, lines cut across them.
	lines = Array.from({length: 24_000}, (_, i) => encodeEvent(event(source[i % source.length]!, i)));
	text = lines.join('');
	file('seg.ndjson', text);
	await sealFile({raw: path.join(dir, 'seg.ndjson'), gz: path.join(dir, 'seg.ndjson.gz'), index: path.join(dir, 'seg.idx.json')});
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

describe('a segment\'s text', () => {
	test('a sealed segment reads as its lines, member by member', async () => {
		const packed = readFileSync(path.join(dir, 'seg.ndjson.gz'));
		expect(zlib.gunzipSync(packed).toString('utf8')).toBe(text);
		expect(await read({gz: path.join(dir, 'seg.ndjson.gz')})).toEqual({text, counts: {damaged: false}});
	});

	test('read through a window smaller than the file, or than a member, it is the same', async () => {
		for (const window of [4096, 100_000, 300_000]) {
			expect(await read({gz: path.join(dir, 'seg.ndjson.gz')}, window)).toEqual({text, counts: {damaged: false}});
		}
	});

	test('one member for the whole file (a gzip made by other means) reads the same', async () => {
		const gz = file('one.ndjson.gz', zlib.gzipSync(text));
		expect(await read({gz})).toEqual({text, counts: {damaged: false}});
	});

	test('a member larger than the sealer\'s reads the same', async () => {
		const big = lines.join('').repeat(2); // 12 MiB in one member: read as a stream
		const gz = file('big.ndjson.gz', zlib.gzipSync(big, {level: 1}));
		expect(await read({gz})).toEqual({text: big, counts: {damaged: false}});
	});

	test('a gzip cut off gives its whole lines up to the cut, and counts the damage', async () => {
		const packed = readFileSync(path.join(dir, 'seg.ndjson.gz'));
		for (const keep of [0.3, 0.7, 0.999]) {
			const gz = file('cut.ndjson.gz', packed.subarray(0, Math.floor(packed.length * keep)));
			for (const window of [undefined, 65_536]) {
				const r = await read({gz}, window);
				expect(r.counts.damaged).toBe(true);
				expect(text.startsWith(r.text)).toBe(true);
				expect(r.text.length).toBeGreaterThan(text.length * keep * 0.5);
			}
		}
	});

	test('a changed byte is found by the checksum or by inflate; what came before and the members after are kept', async () => {
		const packed = Buffer.from(readFileSync(path.join(dir, 'seg.ndjson.gz')));
		const starts = memberStarts(packed);
		expect(starts.length).toBeGreaterThan(4);
		packed[Math.floor((starts[2]! + starts[3]!) / 2)]! ^= 0x10;
		const gz = file('flip.ndjson.gz', packed);
		for (const window of [undefined, 65_536]) {
			const r = await read({gz}, window);
			expect(r.counts.damaged).toBe(true);
			expectLostOneMember(r.text, starts.length);
		}
	});

	test('a member whose header is gone (its first byte zeroed) is skipped, and reading goes on at the next', async () => {
		for (const member of [0, 3]) {
			const packed = Buffer.from(readFileSync(path.join(dir, 'seg.ndjson.gz')));
			const starts = memberStarts(packed);
			packed[starts[member]!] = 0;
			const gz = file(`headless-${member}.ndjson.gz`, packed);
			for (const window of [undefined, 65_536]) {
				// eslint-disable-next-line no-await-in-loop
				const r = await read({gz}, window);
				expect(r.counts.damaged).toBe(true);
				expectLostOneMember(r.text, starts.length);
			}
		}
	});

	test('not a gzip is damaged; zeros after the last member are not, other bytes there are', async () => {
		expect((await read({gz: file('plain.ndjson.gz', text)})).counts.damaged).toBe(true);
		const packed = readFileSync(path.join(dir, 'seg.ndjson.gz'));
		expect(await read({gz: file('tail.ndjson.gz', Buffer.concat([packed, Buffer.alloc(100)]))})).toEqual({text, counts: {damaged: false}});
		expect(await read({gz: file('junk.ndjson.gz', Buffer.concat([packed, Buffer.from('junk after the end')]))})).toEqual({text, counts: {damaged: true}});
	});

	test('a gzip removed meanwhile is nothing, not damage', async () => {
		expect(await read({gz: path.join(dir, 'gone.ndjson.gz')})).toEqual({text: '', counts: {damaged: false}});
	});

	test('a raw segment reads up to its last newline; once sealed away, from its gzip', async () => {
		const raw = file('active.ndjson', text + '{"seq":99');
		expect(await read({raw})).toEqual({text, counts: {damaged: false}});
		expect(await read({raw: path.join(dir, 'sealed-away.ndjson'), sealedAs: path.join(dir, 'seg.ndjson.gz')})).toEqual({text, counts: {damaged: false}});
	});
});

describe('lines picked from their bytes', () => {
	const all = (): Buffer => Buffer.from(text);

	test('no test: the chunk itself', () => {
		const chunk = all();
		expect(pickLines(chunk, {})).toBe(chunk);
	});

	test('a literal keeps exactly the lines that hold it, each once, in order', () => {
		for (const holds of [['Failed password'], ['Invalid user', 'invalid user'], ['sshd', 'Failed']]) {
			const picked = pickLines(all(), {holds: holds.map(h => Buffer.from(h))}).toString('utf8');
			expect(picked).toBe(lines.filter(l => holds.some(h => l.includes(h))).join(''));
		}
	});

	test('time and level at the head: only lines that cannot match are left out', () => {
		const decoded = lines.map(l => JSON.parse(l) as {time: number | null; level: string});
		const since = decoded[5000]!.time!;
		const until = decoded[15_000]!.time!;
		const ranks: Record<string, number> = {TRACE: 0, DEBUG: 1, INFO: 2, NOTICE: 3, WARN: 4, ERROR: 5, CRITICAL: 6};
		for (const test of [{since}, {until}, {since, until}, {minRank: 4}, {since, minRank: 5}]) {
			const picked = pickLines(all(), test).toString('utf8');
			const want = lines.filter((_, i) => {
				const {time, level} = decoded[i]!;
				return (test.since === undefined || time! >= test.since) && (test.until === undefined || time! <= test.until) && ranks[level]! >= (test.minRank ?? 0);
			});
			expect(picked).toBe(want.join(''));
		}
	});

	test('a head that reads otherwise passes', () => {
		const odd = '{"seq":1,"time":null,"recv":5,"level":"WARN","raw":"x"}\n{"other":1}\n{"seq":2,"time":7,"recv":8,"level":"TRACE","raw":"y"}\n';
		const head = headTest({since: 6, minRank: 3})!;
		expect(pickLines(Buffer.from(odd), {since: 6, minRank: 3}, head).toString('utf8')).toBe('{"seq":1,"time":null,"recv":5,"level":"WARN","raw":"x"}\n{"other":1}\n');
	});
});
