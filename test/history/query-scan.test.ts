import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {compileFilter, emptySpec, type FilterSpec} from '../../source/core/filter.js';
import {eventFromLine} from '../../source/core/record.js';
import {encodeEvent} from '../../source/history/encode-batch.js';
import {formatFileText, gzSuffix, indexSuffix, rawSuffix, segmentBase} from '../../source/history/format.js';
import {IndexBuilder} from '../../source/history/index-builder.js';
import {Reader} from '../../source/history/reader.js';
import {sealFile} from '../../source/history/seal-file.js';
import {QueryScan, type ScanThreads, sidecarRange} from '../../source/query-scan.js';
import {serviceField} from '../../source/query-prepare.js';
import {grepLiterals, grepWords} from '../../source/query-tokens.js';
import {indexWordRule} from '../../source/query-store.js';
import {corpus, root} from '../support/logmon.js';

// logmon query's own scan (streamed gunzip, byte-level tests before decoding) must find exactly
// what the store's reader finds, in the same order, for every kind of query.

const hour = 3_600_000;
const start = Date.UTC(2025, 0, 1);
let dir: string;

beforeAll(async () => {
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-query-scan-'));
	writeFileSync(path.join(dir, 'FORMAT'), formatFileText);
	mkdirSync(path.join(dir, 'all'));
	mkdirSync(path.join(dir, 'errors'));
	const files = ['Apache_2k.log', 'OpenSSH_2k.log', 'HDFS_2k.log', 'Linux_2k.log'];
	const sources = files.map(f => readFileSync(path.join(corpus, f), 'utf8').split(/\r?\n/).filter(Boolean));
	// Four hours, the last left raw (the segment being written); one event in 50 has a source time a day old.
	let seq = 0;
	for (let h = 0; h < 4; h++) {
		const all: string[] = [];
		const errors: string[] = [];
		for (let i = 0; i < 2000; i++) {
			const s = i % sources.length;
			const receivedAt = start + h * hour + i * 1000;
			const init = eventFromLine(sources[s]![(h * 500 + i) % sources[s]!.length]!, {sourceId: 'listen', sourceKind: 'logio-listen', service: files[s]!.split('_')[0]!.toLowerCase(), host: 'h', proc: '', receivedAt});
			const e: LogEvent = {...init, seq: ++seq, time: i % 50 === 7 ? receivedAt - 24 * hour : receivedAt - 500};
			all.push(encodeEvent(e));
			if (e.level === 'ERROR' || e.level === 'CRITICAL') {
				errors.push(encodeEvent(e));
			}
		}

		for (const [stream, lines] of [['all', all], ['errors', errors]] as const) {
			const base = path.join(dir, stream, segmentBase(start + h * hour, 0));
			// The last hour's raw segment ends with a torn line, as a crash leaves it.
			writeFileSync(base + rawSuffix, lines.join('') + (h === 3 ? '{"seq":99' : ''));
			if (h < 3) {
				await sealFile({raw: base + rawSuffix, gz: base + gzSuffix, index: base + indexSuffix});
			}
		}
	}
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

type Case = {spec?: Partial<FilterSpec>; since?: number; until?: number; reverse?: boolean; limit?: number};

/** The scan worker as the build makes it: tests run from the source, where the scan has none. */
const scanWorker = path.join(root, 'dist', 'history', 'scan-worker.js');

async function both(c: Case, threads?: ScanThreads): Promise<{reader: LogEvent[]; scan: LogEvent[]; count: number}> {
	const spec = {...emptySpec(), ...c.spec};
	const filter = compileFilter(spec);
	const tokens = grepWords(spec.grep, indexWordRule);
	const errorsOnly = spec.minLevel === 'ERROR';
	const q = {since: c.since, until: c.until, filter, tokens: tokens.length > 0 ? tokens : undefined, errorsOnly, reverse: c.reverse, limit: c.limit};
	const reader: LogEvent[] = [];
	for await (const e of new Reader(dir).scan(q)) {
		reader.push(e);
	}

	const scan: LogEvent[] = [];
	const lineHolds = grepLiterals(spec.grep) ?? (spec.services.length > 0 ? spec.services.map(s => serviceField(s)) : undefined);
	for await (const batch of new QueryScan(dir, {...q, lineHolds}, threads).batches()) {
		scan.push(...batch);
	}

	const count = await new QueryScan(dir, {...q, lineHolds, reverse: undefined, limit: undefined}, threads).count();
	return {reader, scan, count};
}

describe('logmon query\'s scan', () => {
	const cases: Array<[string, Case]> = [
		['everything', {}],
		['a literal --grep', {spec: {grep: ['Failed password']}}],
		['a regex with a literal part', {spec: {grep: [String.raw`session (opened|closed) for user \w+`]}}],
		['a regex with none', {spec: {grep: [String.raw`[0-9]+\.[0-9]+\.[0-9]+`]}}],
		['several --grep', {spec: {grep: ['Invalid user', 'mod_jk']}}],
		['a whole word', {spec: {grep: [String.raw`\bworkerEnv\b`]}}],
		['services', {spec: {services: ['hdfs', 'linux']}}],
		['levels error and up', {spec: {minLevel: 'ERROR'}}],
		['levels warn and up', {spec: {minLevel: 'WARN'}}],
		['a time window cutting segments', {since: start + hour + 600_000, until: start + 2 * hour + 300_000}],
		['the far-off event times only', {since: start - 24 * hour, until: start - 1}],
		['newest first', {reverse: true, spec: {services: ['apache']}}],
		['the newest 25', {reverse: true, limit: 25, spec: {grep: ['error']}}],
		['the first 30', {limit: 30, spec: {minLevel: 'WARN'}}],
	];
	for (const [name, c] of cases) {
		test(name, async () => {
			const {reader, scan, count} = await both(c);
			expect(scan.map(e => e.seq)).toEqual(reader.map(e => e.seq));
			expect(scan).toEqual(reader);
			expect(scan.length, 'the query matches something').toBeGreaterThan(0);
			if (c.limit === undefined) {
				expect(count).toBe(reader.length);
			}
		});

		for (const workers of [1, 2]) {
			test(`${name}, with ${workers} scan worker${workers > 1 ? 's' : ''}`, async () => {
				expect(existsSync(scanWorker), 'npm run build made the worker').toBe(true);
				const {reader, scan, count} = await both(c, {file: scanWorker, minBytes: 0, workers});
				expect(scan).toEqual(reader);
				if (c.limit === undefined) {
					expect(count).toBe(reader.length);
				}
			});
		}
	}

	test('a damaged segment: what came before the damage, counted once, with the worker or without', async () => {
		const copy = mkdtempSync(path.join(tmpdir(), 'logmon-query-scan-damaged-'));
		try {
			cpSync(dir, copy, {recursive: true});
			const gz = path.join(copy, 'all', segmentBase(start + hour, 0) + gzSuffix);
			const packed = readFileSync(gz);
			packed[Math.floor(packed.length / 2)]! ^= 0x10;
			writeFileSync(gz, packed);
			const results = [];
			for (const threads of [undefined, {file: scanWorker, minBytes: 0}]) {
				const q = {filter: compileFilter({...emptySpec(), grep: ['sshd']}), lineHolds: ['sshd']};
				const scan = new QueryScan(copy, q, threads);
				const seqs: number[] = [];
				for await (const batch of scan.batches()) {
					seqs.push(...batch.map(e => e.seq));
				}

				const counting = new QueryScan(copy, q, threads);
				const count = await counting.count();
				results.push({seqs, damaged: scan.counts.damagedSegments, count, countDamaged: counting.counts.damagedSegments});
			}

			expect(results[0]!.damaged).toBe(1);
			expect(results[0]!.countDamaged).toBe(1);
			expect(results[0]!.count).toBe(results[0]!.seqs.length);
			expect(results[1]).toEqual(results[0]);
			// The segments after the damaged one are all there.
			expect(results[0]!.seqs.at(-1)).toBeGreaterThan(6000);
		} finally {
			rmSync(copy, {recursive: true, force: true});
		}
	});

	test('the time range is read from the sidecar\'s first bytes as the index builder writes it', () => {
		const b = new IndexBuilder();
		b.add({seq: 1, time: 5000, receivedAt: 9000, sourceId: 's', sourceKind: 'stdin', service: 'x', host: '', proc: '', type: '', level: 'INFO', message: 'm', raw: 'm'});
		b.add({seq: 2, time: 1000, receivedAt: 9001, sourceId: 's', sourceKind: 'stdin', service: 'x', host: '', proc: '', type: '', level: 'INFO', message: 'm', raw: 'm'});
		expect(sidecarRange(JSON.stringify(b.build(10, 5)).slice(0, 512))).toEqual({minTime: 1000, maxTime: 5000, events: 2});
		expect(sidecarRange('{"version":2,"minTime":1')).toBeUndefined();
	});
});
