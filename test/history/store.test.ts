import {spawn} from 'node:child_process';
import {appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import path from 'node:path';
import {gunzipSync} from 'node:zlib';
import {afterEach, beforeEach, describe, expect, test} from 'vitest';
import {compileFilter, emptySpec} from '../../source/core/filter.js';
import {type LogEvent} from '../../source/core/event.js';
import {openHistory, HistoryFormatError, type History} from '../../source/history/open.js';
import {hourMs} from '../../source/history/format.js';
import {planRetention, type PlannedSegment} from '../../source/history/retention-plan.js';
import {type HistoryQuery} from '../../source/history/types.js';
import {event} from '../support/events.js';

// The store on real files: write, seal, reopen, a torn last write, damaged segments,
// retention with an injected clock, the lock. Tests run from the TypeScript source, so
// seals run in this thread (the built logmon runs them in a worker; see the e2e tests).

const t0 = Date.UTC(2024, 4, 1, 10, 0, 0);
let dir: string;
const open: History[] = [];

beforeEach(() => {
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-history-'));
});

afterEach(async () => {
	for (const h of open.splice(0)) {
		await h.close();
	}

	rmSync(dir, {recursive: true, force: true});
});

async function openAt(options: Parameters<typeof openHistory>[1] = {}): Promise<History> {
	const h = await openHistory(dir, {writer: {flushMs: 60_000, maintenanceMs: 3_600_000, ...options.writer}, ...options});
	open.push(h);
	return h;
}

async function all(h: History, query: HistoryQuery = {}): Promise<LogEvent[]> {
	const out: LogEvent[] = [];
	for await (const e of h.reader.scan(query)) {
		out.push(e);
	}

	return out;
}

/** `n` events, one a second from `from`, every 10th an ERROR. */
function events(n: number, from = t0, first = 1): LogEvent[] {
	return Array.from({length: n}, (_, i) => event({
		seq: first + i,
		time: from + (i * 1000),
		receivedAt: from + (i * 1000),
		service: i % 2 === 0 ? 'api' : 'web',
		level: i % 10 === 0 ? 'ERROR' : 'INFO',
		message: `line ${first + i} token${first + i}`,
	}));
}

function files(sub: string): string[] {
	return readdirSync(path.join(dir, sub)).sort();
}

describe('writing and reading', () => {
	test('events come back whole, in order, from the active segment; modes are 0700/0600', async () => {
		const old = process.umask(0o022);
		try {
			const h = await openAt();
			const written = events(100);
			h.writer!.append(written);
			await h.writer!.settle();
			expect(await all(h)).toEqual(written);
			expect(statSync(dir).mode & 0o777).toBe(0o700);
			expect(statSync(path.join(dir, 'all')).mode & 0o777).toBe(0o700);
			for (const f of ['FORMAT', 'writer.lock', `all/${files('all')[0]}`, `errors/${files('errors')[0]}`]) {
				expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
			}

			expect(h.status()).toMatchObject({state: 'writing', written: 100, dropped: 0});
			// What is written counts at once, not at the next maintenance a minute later (it said 0).
			const onDisk = ['all', 'errors'].flatMap(stream => files(stream).map(f => statSync(path.join(dir, stream, f)).size)).reduce((a, b) => a + b, 0);
			expect(h.status().bytesOnDisk).toBe(onDisk);
		} finally {
			process.umask(old);
		}
	});

	test('reverse, limit, time range, words, errors only, filter', async () => {
		const h = await openAt();
		const written = events(100);
		h.writer!.append(written);
		await h.writer!.settle();
		expect((await all(h, {reverse: true, limit: 3})).map(e => e.seq)).toEqual([100, 99, 98]);
		expect((await all(h, {since: t0 + 10_000, until: t0 + 12_000})).map(e => e.seq)).toEqual([11, 12, 13]);
		expect((await all(h, {tokens: ['token42']})).map(e => e.seq)).toEqual([42]);
		expect((await all(h, {tokens: ['token420']})).map(e => e.seq)).toEqual([]);
		expect((await all(h, {errorsOnly: true})).map(e => e.seq)).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91]);
		const filter = compileFilter({...emptySpec(), minLevel: 'ERROR', services: ['web']});
		expect(await all(h, {filter})).toEqual([]);
		expect((await all(h, {filter: compileFilter({...emptySpec(), services: ['web']}), limit: 2})).map(e => e.seq)).toEqual([2, 4]);
		expect((await h.reader.newest(5)).map(e => e.seq)).toEqual([96, 97, 98, 99, 100]);
		// No more than a budget of text (the buffer's, for the UI's start); the newest one always.
		const last3 = written.slice(-3).reduce((n, e) => n + e.message.length + (e.raw === e.message ? 0 : e.raw.length), 0);
		expect((await h.reader.newest(50, undefined, last3)).map(e => e.seq)).toEqual([98, 99, 100]);
		expect((await h.reader.newest(50, undefined, 1)).map(e => e.seq)).toEqual([100]);
		expect((await h.reader.before({receivedAt: t0 + 50_000, seq: 51}, 3)).map(e => e.seq)).toEqual([48, 49, 50]);
		// A page of scroll-back ends once its text reaches a budget, the event that reaches it included.
		const two = written.slice(48, 50).reduce((n, e) => n + e.message.length + (e.raw === e.message ? 0 : e.raw.length), 0);
		expect((await h.reader.before({receivedAt: t0 + 50_000, seq: 51}, 10, undefined, two)).map(e => e.seq)).toEqual([49, 50]);
		expect((await h.reader.before({receivedAt: t0 + 50_000, seq: 51}, 10, undefined, 1)).map(e => e.seq)).toEqual([50]);
	});

	test('one batch of long lines stops at the bound on what waits to be written; the rest are dropped and counted', async () => {
		const h = await openAt({writer: {maxPendingBytes: 1024 * 1024, flushBytes: 64 * 1024 * 1024}});
		const long = 'z'.repeat(100 * 1024);
		const written = Array.from({length: 100}, (_, i) => event({seq: i + 1, receivedAt: t0 + i, time: t0 + i, message: `${i} ${long}`}));
		h.writer!.append(written);
		// About 10 of the 100 KiB lines fit in 1 MiB: the others are dropped, not taken all at once.
		const {dropped} = h.writer!.status();
		expect(dropped).toBeGreaterThanOrEqual(88);
		expect(dropped).toBeLessThan(100);
		await h.writer!.settle();
		expect((await all(h)).map(e => e.seq)).toEqual(written.slice(0, 100 - dropped).map(e => e.seq));
		// Characters of 3 bytes in UTF-8: 300 KiB a line, so 3 or 4 of them fit in 1 MiB, not 10.
		const wide = '字'.repeat(100 * 1024);
		h.writer!.append(Array.from({length: 50}, (_, i) => event({seq: 1000 + i, receivedAt: t0 + 1000 + i, time: t0 + 1000 + i, message: `${i} ${wide}`})));
		expect(h.writer!.status().dropped - dropped).toBeGreaterThanOrEqual(45);
	});

	test('a segment per receive hour; rolled segments are sealed with a sidecar and read back', async () => {
		const h = await openAt();
		// 3 hours of events, one every 30 s.
		const written = Array.from({length: 360}, (_, i) => event({seq: i + 1, time: t0 + (i * 30_000), receivedAt: t0 + (i * 30_000), level: i % 7 === 0 ? 'ERROR' : 'INFO', message: `m${i + 1}`}));
		h.writer!.append(written);
		await h.writer!.settle();
		expect(files('all')).toEqual([
			'20240501T10-0.idx.json', '20240501T10-0.ndjson.gz',
			'20240501T11-0.idx.json', '20240501T11-0.ndjson.gz',
			'20240501T12-0.ndjson',
		]);
		// `zcat … | jq` reads a sealed segment.
		const lines = gunzipSync(readFileSync(path.join(dir, 'all', '20240501T10-0.ndjson.gz'))).toString().trim().split('\n');
		expect(lines).toHaveLength(120);
		expect(JSON.parse(lines[0]!)).toMatchObject({seq: 1, raw: 'm1'});
		expect(JSON.parse(lines[0]!).msg).toBeUndefined();
		expect(await all(h)).toEqual(written);
		expect((await all(h, {reverse: true})).map(e => e.seq)).toEqual(written.map(e => e.seq).reverse());
		const index = JSON.parse(readFileSync(path.join(dir, 'all', '20240501T10-0.idx.json'), 'utf8'));
		expect(index).toMatchObject({version: 1, events: 120, firstSeq: 1, lastSeq: 120, minTime: t0, maxTime: t0 + (119 * 30_000)});
		// Counts: whole segments from sidecars, the active one counted from its lines.
		const counts = await h.reader.counts();
		expect(counts.counts.get('api\tERROR')).toBe(written.filter(e => e.level === 'ERROR').length);
		expect(counts.counts.get('api\tINFO')).toBe(written.filter(e => e.level === 'INFO').length);
		const window = await h.reader.counts(t0 + hourMs, t0 + (2 * hourMs) - 1);
		expect(window.counts.get('api\tERROR')! + window.counts.get('api\tINFO')!).toBe(120);
		// A word found in one sealed segment only.
		expect((await all(h, {tokens: ['m130']})).map(e => e.seq)).toEqual([130]);
	});

	test('segments roll at the size cap', async () => {
		const h = await openAt({writer: {segmentBytes: 2000, flushBytes: 1}});
		const written = events(50);
		for (const e of written) {
			h.writer!.append([e]);
			await h.writer!.flush();
		}

		await h.writer!.settle();
		expect(files('all').filter(f => f.endsWith('.gz')).length).toBeGreaterThanOrEqual(3);
		expect(await all(h)).toEqual(written);
	});
});

describe('when rolled segments are sealed', () => {
	const gz = () => files('all').filter(f => f.endsWith('.gz')).length;
	const until = async (check: () => boolean) => {
		for (let i = 0; i < 500 && !check(); i++) {
			await new Promise(resolve => setTimeout(resolve, 10)); // eslint-disable-line no-await-in-loop
		}
	};

	test('they wait while the history is written fast, are read meanwhile, and are sealed once the writes calm down', async () => {
		let now = t0 + 60_000;
		const h = await openAt({writer: {segmentBytes: 2000, flushBytes: 1, flushMs: 20, clock: () => now, sealDelay: {calmBytesPerSecond: 1000, maxWaitingBytes: 1e9, maxWaitMs: 1e9}}});
		const written = events(50);
		for (const e of written) {
			h.writer!.append([e]);
			await h.writer!.flush();
		}

		// Several segments rolled within one second of the clock: none sealed yet, all read.
		await new Promise(resolve => setTimeout(resolve, 100));
		expect(files('all').filter(f => f.endsWith('.ndjson')).length).toBeGreaterThanOrEqual(4);
		expect(gz()).toBe(0);
		expect(h.status().unsealed).toBeGreaterThanOrEqual(3);
		expect(await all(h)).toEqual(written);
		expect((await all(h, {tokens: ['token7']})).map(e => e.seq)).toEqual([7]);

		// Two quiet seconds later, the next tick seals them.
		now += 2000;
		await until(() => gz() >= 3);
		expect(gz()).toBeGreaterThanOrEqual(3);
		expect(h.status().unsealed).toBe(0);
		expect(await all(h)).toEqual(written);
	});

	test('past the byte bound or the wait bound, the oldest are sealed however fast the writes come', async () => {
		let now = t0 + 60_000;
		const h = await openAt({writer: {segmentBytes: 2000, flushBytes: 1, flushMs: 20, clock: () => now, sealDelay: {calmBytesPerSecond: 1e12, maxWaitingBytes: 4500, maxWaitMs: 30_000}}});
		for (const e of events(50)) {
			h.writer!.append([e]);
			await h.writer!.flush();
		}

		await until(() => gz() >= 2);
		const waiting = files('all').filter(f => f.endsWith('.ndjson')).length - 1;
		expect(gz()).toBeGreaterThanOrEqual(2);
		// No more than 4,500 bytes wait: two segments of 2,000 and more, besides the active one.
		expect(waiting).toBeLessThanOrEqual(2);
		now += 30_000;
		await until(() => files('all').filter(f => f.endsWith('.ndjson')).length === 1);
		expect(files('all').filter(f => f.endsWith('.ndjson'))).toHaveLength(1);
	});

	test('settle seals every one at once', async () => {
		const h = await openAt({writer: {segmentBytes: 2000, flushBytes: 1, sealDelay: {calmBytesPerSecond: 0, maxWaitingBytes: 1e9, maxWaitMs: 1e9}}});
		for (const e of events(50)) {
			h.writer!.append([e]);
			await h.writer!.flush();
		}

		expect(gz()).toBe(0);
		await h.writer!.settle();
		expect(files('all').filter(f => f.endsWith('.ndjson'))).toHaveLength(1);
	});
});

describe('follow', () => {
	test('the stored events, then what is appended, across a roll and a seal, with no gap and no repeat', async () => {
		const h = await openAt();
		h.writer!.append(events(50));
		await h.writer!.settle();
		const abort = new AbortController();
		const got: number[] = [];
		const reading = (async () => {
			for await (const e of h.reader.scan({follow: true, signal: abort.signal})) {
				got.push(e.seq);
			}
		})();
		const waitFor = async (n: number) => {
			while (got.length < n) {
				await new Promise(resolve => setTimeout(resolve, 20));
			}
		};

		await waitFor(50);
		h.writer!.append(events(50, t0 + 50_000, 51));
		await h.writer!.flush();
		await waitFor(100);
		// The next hour: the segment rolls and the last one is sealed while the reader follows.
		h.writer!.append(events(50, t0 + hourMs, 101));
		await h.writer!.settle();
		await waitFor(150);
		abort.abort();
		await reading;
		expect(got).toEqual(Array.from({length: 150}, (_, i) => i + 1));
		expect(files('all')).toContain('20240501T10-0.ndjson.gz');
	});
});

describe('reopen and damage', () => {
	test('reopen seals the last run\'s segment and cuts a torn last write', async () => {
		const first = await openAt();
		const a = events(10);
		first.writer!.append(a);
		await first.writer!.settle();
		await first.close();
		open.length = 0;
		// A write cut short by a crash.
		appendFileSync(path.join(dir, 'all', '20240501T10-0.ndjson'), '{"seq":11,"time":17145');
		const second = await openAt();
		await second.writer!.settle();
		expect(files('all')).toEqual(['20240501T10-0.idx.json', '20240501T10-0.ndjson.gz']);
		expect(second.status().tornLines).toBe(1);
		const b = events(5, t0 + 20_000, 1);
		second.writer!.append(b);
		await second.writer!.settle();
		expect(files('all')).toContain('20240501T10-1.ndjson');
		expect(await all(second)).toEqual([...a, ...b]);
	});

	test('a reader in another process ignores a last line without a newline', async () => {
		const h = await openAt();
		h.writer!.append(events(3));
		await h.writer!.settle();
		appendFileSync(path.join(dir, 'all', '20240501T10-0.ndjson'), '{"seq":4,"ti');
		const reader = await openHistory(dir, {readOnly: true});
		expect((await all(reader)).map(e => e.seq)).toEqual([1, 2, 3]);
	});

	test('a truncated gzip and a garbage sidecar are counted, never thrown', async () => {
		const h = await openAt();
		const written = Array.from({length: 300}, (_, i) => event({seq: i + 1, receivedAt: t0 + (i * 30_000), time: t0 + (i * 30_000), message: `x${i + 1} `.repeat(20)}));
		h.writer!.append(written);
		await h.writer!.settle();
		const gz = path.join(dir, 'all', '20240501T10-0.ndjson.gz');
		truncateSync(gz, Math.floor(statSync(gz).size / 2));
		writeFileSync(path.join(dir, 'all', '20240501T11-0.idx.json'), 'garbage{');
		const got = await all(h);
		// The cut gzip gives what it holds up to the cut; the rest is whole.
		expect(got.length).toBeLessThan(300);
		expect(got.length).toBeGreaterThan(120);
		expect(got.map(e => e.seq)).toEqual([...got.map(e => e.seq)].sort((x, y) => x - y));
		expect(got.filter(e => e.seq > 120)).toEqual(written.slice(120));
		expect(h.status().damagedSegments).toBe(2);
		// Garbage inside a gzip: skipped.
		writeFileSync(gz, 'not a gzip at all');
		expect((await all(h)).filter(e => e.seq <= 120)).toEqual([]);
	});

	test('a gzip member whose header is gone: the members after it are still read, newest first too, and the damage counted', async () => {
		const h = await openAt();
		// Over 2 MiB of text an hour: each hour's segment is sealed as several members.
		const written = Array.from({length: 9000}, (_, i) => event({seq: i + 1, receivedAt: t0 + (i * 1000), time: t0 + (i * 1000), message: `m${i + 1} `.repeat(100)}));
		h.writer!.append(written);
		await h.writer!.settle();
		const gz = path.join(dir, 'all', '20240501T10-0.ndjson.gz');
		const packed = readFileSync(gz);
		const header = Buffer.from([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
		const second = packed.indexOf(header, 1);
		expect(packed.indexOf(header, second + 1)).toBeGreaterThan(second);
		packed[second] = 0;
		writeFileSync(gz, packed);
		const forward = (await all(h)).map(e => e.seq);
		const backward = (await all(h, {reverse: true})).map(e => e.seq);
		expect(backward).toEqual([...forward].reverse());
		const lost = written.map(e => e.seq).filter(seq => !forward.includes(seq));
		// About one member's lines, all from the first hour; the rest of that hour is there.
		expect(lost.length).toBeGreaterThan(100);
		expect(lost.length).toBeLessThan(2500);
		expect(Math.max(...lost)).toBeLessThan(3000);
		expect(forward).toContain(3600);
		expect(forward).toEqual([...forward].sort((x, y) => x - y));
		expect(h.status().damagedSegments).toBe(1);
	});

	test('a directory from a newer logmon is refused, naming it', async () => {
		writeFileSync(path.join(dir, 'FORMAT'), '{"format":"logmon-history","version":2}\n');
		await expect(openHistory(dir)).rejects.toThrow(HistoryFormatError);
		await expect(openHistory(dir, {readOnly: true})).rejects.toThrow(new RegExp(`history ${dir}: it was written by a newer logmon`));
	});
});

describe('the lock', () => {
	test('a second opener is read-only and still reads; a dead writer\'s lock is taken over', async () => {
		const first = await openAt();
		first.writer!.append(events(3));
		await first.writer!.settle();
		const second = await openAt();
		expect(second.writer).toBeUndefined();
		expect(second.status()).toMatchObject({state: 'read-only', reason: `read-only: another logmon (pid ${process.pid}) writes it`});
		expect(await all(second)).toHaveLength(3);
		await first.close();
		// A lock left by a process that is gone.
		writeFileSync(path.join(dir, 'writer.lock'), JSON.stringify({pid: 2 ** 22 + 12_345, host: (await import('node:os')).hostname(), startedAt: 0}));
		const third = await openAt();
		expect(third.status().state).toBe('writing');
		expect(JSON.parse(readFileSync(path.join(dir, 'writer.lock'), 'utf8')).pid).toBe(process.pid);
		await third.close();
		expect(existsSync(path.join(dir, 'writer.lock'))).toBe(false);
	});

	test('a lock whose pid is now another process (started at another tick, or of another boot) is stale: pid reuse', async () => {
		const other = spawn('sleep', ['30'], {stdio: 'ignore'});
		try {
			await new Promise(resolve => other.once('spawn', resolve));
			const host = hostname();
			const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
			const stat = readFileSync(`/proc/${other.pid}/stat`, 'utf8');
			const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
			const held = async (holder: Record<string, unknown>): Promise<boolean> => {
				writeFileSync(path.join(dir, 'writer.lock'), JSON.stringify({pid: other.pid, host, startedAt: Date.now(), ...holder}));
				const h = await openAt();
				const readOnly = h.status().state === 'read-only';
				await h.close();
				open.splice(open.indexOf(h), 1);
				return readOnly;
			};

			// That very process (or a lock that does not say which): held.
			expect(await held({boot, ticks})).toBe(true);
			expect(await held({})).toBe(true);
			// Another process with the pid: taken over.
			expect(await held({boot, ticks: ticks - 1})).toBe(false);
			expect(await held({boot: 'another-boot', ticks})).toBe(false);
		} finally {
			other.kill();
		}
	});
});

describe('retention', () => {
	const seg = (stream: 'all' | 'errors', hour: number, bytes = 100, active = false): PlannedSegment => ({stream, hour, n: 0, base: String(hour), newest: hour + hourMs, bytes, active});

	test('the plan: by age per stream, then by size oldest first, errors last, never the active one', () => {
		const now = t0 + (10 * 86_400_000);
		const limits = {maxAgeMs: 3 * 86_400_000, errorMaxAgeMs: 30 * 86_400_000, maxBytes: 10_000};
		const old = t0;
		const recent = now - hourMs * 2;
		const plan = planRetention([seg('all', old), seg('errors', old), seg('all', recent), seg('all', now, 100, true)], now, limits);
		expect(plan.remove.map(s => [s.stream, s.hour, s.why])).toEqual([['all', old, 'age']]);
		const bySize = planRetention([seg('all', recent - hourMs, 600), seg('errors', recent - (2 * hourMs), 600), seg('all', recent, 600), seg('all', now, 600, true)], now, {...limits, maxBytes: 1300});
		expect(bySize.remove.map(s => [s.stream, s.hour, s.why])).toEqual([['all', recent - hourMs, 'size'], ['all', recent, 'size']]);
		expect(bySize.bytesAfter).toBe(1200);
		const errorsToo = planRetention([seg('errors', recent - hourMs, 600), seg('all', now, 600, true)], now, {...limits, maxBytes: 700});
		expect(errorsToo.remove.map(s => s.stream)).toEqual(['errors']);
	});

	test('the writer deletes whole segments by age, keeping errors longer, with an injected clock', async () => {
		let now = t0;
		const h = await openAt({writer: {clock: () => now, limits: {maxAgeMs: 2 * hourMs, errorMaxAgeMs: 5 * hourMs, maxBytes: 1e9}}});
		const written = Array.from({length: 240}, (_, i) => event({seq: i + 1, receivedAt: t0 + (i * 60_000), time: t0 + (i * 60_000), level: i % 10 === 0 ? 'ERROR' : 'INFO'}));
		h.writer!.append(written);
		await h.writer!.settle();
		now = t0 + (4 * hourMs) + 1;
		await h.writer!.maintain();
		// Hours 10 and 11 of all/ are past 2 h; errors/ keeps them (5 h).
		expect(files('all').filter(f => f.endsWith('.gz'))).toEqual(['20240501T12-0.ndjson.gz']);
		expect(files('errors').filter(f => f.endsWith('.gz'))).toEqual(['20240501T10-0.ndjson.gz', '20240501T11-0.ndjson.gz', '20240501T12-0.ndjson.gz']);
		expect((await all(h, {errorsOnly: true})).length).toBe(24);
		// Error counts reach back further than the events of all/.
		const errorCounts = await h.reader.counts(undefined, undefined, true);
		expect(errorCounts.counts.get('api\tERROR')).toBe(24);
		expect((await h.reader.counts()).counts.get('api\tERROR')).toBe(12);
		now = t0 + (6 * hourMs) + 1;
		await h.writer!.maintain();
		expect(files('errors').filter(f => f.endsWith('.gz'))).toEqual(['20240501T11-0.ndjson.gz', '20240501T12-0.ndjson.gz']);
	});

	test('the writer deletes the oldest segments past the size cap', async () => {
		const h = await openAt({writer: {limits: {maxAgeMs: 1e12, errorMaxAgeMs: 1e12, maxBytes: 12_000}}});
		const written = Array.from({length: 600}, (_, i) => event({seq: i + 1, receivedAt: t0 + (i * 60_000), time: t0 + (i * 60_000), message: `event number ${i}`}));
		h.writer!.append(written);
		await h.writer!.settle();
		await h.writer!.maintain();
		expect(h.status().bytesOnDisk).toBeLessThanOrEqual(12_000);
		const left = await all(h);
		expect(left.at(-1)!.seq).toBe(600);
		expect(left[0]!.seq).toBeGreaterThan(1);
		expect(left).toEqual(written.slice(left[0]!.seq - 1));
	});
});
