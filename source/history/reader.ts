import fs, {type FileHandle} from 'node:fs/promises';
import {promisify} from 'node:util';
import zlib from 'node:zlib';
import {type Filter} from '../core/filter.js';
import {type LogEvent, eventChars, levelRank} from '../core/event.js';
import {Bloom, eventHasWords} from './bloom.js';
import {compareSegments, decodeLine, hourMs} from './format.js';
import {parseIndex} from './index-builder.js';
import {type Stream} from './retention-plan.js';
import {SegmentReader} from './segment-text.js';
import {listSegments, type SegmentFiles} from './segments.js';
import {type HistoryCounts, type HistoryQuery, type HistoryReader, type HistoryStatus, type SegmentIndex, errorLevels} from './types.js';

// Reads the history, in this process or in another one while a writer appends. Sealed segments
// are pruned by their sidecar (event-time range, bloom filter of words) before anything is
// decompressed; the active segment (no sidecar yet) is read up to its last newline, so a write
// in progress is never half-read. Oldest-first scans read a sealed segment a gzip member (about
// 1 MiB of text) at a time, past a damaged member to the next (segment-text.ts); newest-first
// scans hold one segment's text (at most 64 MiB) to read it backwards. Events are yielded a slice at a time.

const gunzip = promisify(zlib.gunzip);


/** Text is taken from a segment's bytes this much at a time, cut at a newline. */
const sliceBytes = 1024 * 1024;

/** Sidecars read at once for the counts (each some 40 KiB). */
const sidecarsAtOnce = 16;

/** How often `follow` looks for appended lines. */
const followPollMs = 200;

export type ReaderOptions = {
	/** The writer's status, when this process writes. */
	writerStatus?: (() => HistoryStatus) | undefined;
	/** Why there is no writer here ("read-only: another logmon (pid N) writes it"). */
	readOnlyReason?: string | undefined;
};

type Segment = SegmentFiles & {sidecar?: SegmentIndex | undefined; sidecarRead?: boolean};

/** A scan: `before` and `receivedSince` (HistoryQuery) serve scroll-back and the UI's start too. */
type ScanPlan = HistoryQuery;

export class Reader implements HistoryReader {
	/** Segments that could not be read (bad gzip), counted once each. */
	private readonly damaged = new Set<string>();
	private lastListing: {bytes: number; segments: number; oldest: number | undefined} = {bytes: 0, segments: 0, oldest: undefined};

	constructor(readonly dir: string, private readonly options: ReaderOptions = {}) {}

	scan(query: HistoryQuery): AsyncIterable<LogEvent> {
		return this.run(query);
	}

	async newest(count: number, since?: number, maxChars = Number.POSITIVE_INFINITY): Promise<LogEvent[]> {
		const out: LogEvent[] = [];
		let chars = 0;
		for await (const e of this.run({reverse: true, limit: count, receivedSince: since})) {
			chars += eventChars(e);
			if (chars > maxChars && out.length > 0) {
				break;
			}

			out.push(e);
		}

		return out.reverse();
	}

	async before(before: Pick<LogEvent, 'receivedAt' | 'seq'>, count: number, filter?: Filter, maxChars = Number.POSITIVE_INFINITY): Promise<LogEvent[]> {
		const out: LogEvent[] = [];
		let chars = 0;
		for await (const e of this.run({reverse: true, limit: count, before, filter})) {
			out.push(e);
			chars += eventChars(e);
			if (chars >= maxChars) {
				break;
			}
		}

		return out.reverse();
	}

	async counts(since?: number, until?: number, errorsOnly = false): Promise<HistoryCounts> {
		const counts = new Map<string, number>();
		const errorsPerMinute = new Map<number, number>();
		const from = since ?? Number.NEGATIVE_INFINITY;
		const to = until ?? Number.POSITIVE_INFINITY;
		const segments = await this.segments(errorsOnly ? 'errors' : 'all');
		// The sidecars are read a group at a time, in parallel on libuv's pool, and counted in order.
		const indexes = new Map<Segment, SegmentIndex | undefined>();
		for (const [i, s] of segments.entries()) {
			if (i % sidecarsAtOnce === 0) {
				indexes.clear();
				const group = segments.slice(i, i + sidecarsAtOnce);
				const read = await Promise.all(group.map(async g => (g.gz ? this.index(g) : undefined)));
				for (const [j, g] of group.entries()) {
					indexes.set(g, read[j]);
				}
			}

			const index = indexes.get(s);
			if (index && (index.maxTime < from || index.minTime > to)) {
				continue;
			}

			if (index && index.minTime >= from && index.maxTime <= to) {
				for (const [k, n] of Object.entries(index.counts)) {
					counts.set(k, (counts.get(k) ?? 0) + n);
				}

				for (const [k, n] of Object.entries(index.errorsPerMinute)) {
					errorsPerMinute.set(Number(k), (errorsPerMinute.get(Number(k)) ?? 0) + n);
				}

				continue;
			}

			// The active segment, or one the window cuts through: count its events.
			for await (const lines of this.forwardSlices(s, {bytes: 0})) {
				for (const line of lines) {
					const e = decodeLine(line);
					if (e && e.time >= from && e.time <= to) {
						const key = `${e.service}\t${e.level}`;
						counts.set(key, (counts.get(key) ?? 0) + 1);
						if (errorLevels.has(e.level)) {
							const minute = Math.floor(e.time / 60_000) * 60_000;
							errorsPerMinute.set(minute, (errorsPerMinute.get(minute) ?? 0) + 1);
						}
					}
				}
			}
		}

		return {counts, errorsPerMinute};
	}

	status(): HistoryStatus {
		const own = this.options.writerStatus?.();
		if (own) {
			return {...own, damagedSegments: own.damagedSegments + this.damaged.size};
		}

		return {
			state: 'read-only',
			reason: this.options.readOnlyReason,
			dir: this.dir,
			written: 0,
			dropped: 0,
			tornLines: 0,
			damagedSegments: this.damaged.size,
			bytesOnDisk: this.lastListing.bytes,
			segments: this.lastListing.segments,
			oldest: this.lastListing.oldest,
		};
	}

	/** Refresh the disk figures a read-only status shows. */
	async refresh(): Promise<void> {
		await this.segments('all');
	}

	private async segments(stream: Stream): Promise<Segment[]> {
		const list = await listSegments(this.dir, stream);
		if (stream === 'all') {
			this.lastListing = {bytes: list.reduce((n, s) => n + s.bytes, 0), segments: list.length, oldest: list[0]?.hour};
		}

		return list;
	}

	private async index(s: Segment): Promise<SegmentIndex | undefined> {
		if (!s.sidecarRead && s.gz && s.index) {
			s.sidecarRead = true;
			let text: string | undefined;
			try {
				text = await fs.readFile(s.index, 'utf8');
			} catch {
				// Removed by retention meanwhile.
			}

			s.sidecar = text === undefined ? undefined : parseIndex(text);
			if (text !== undefined && !s.sidecar) {
				this.damaged.add(s.index); // read the segment itself, and count the sidecar as damaged
			}
		}

		return s.sidecar;
	}

	/** False when the sidecar proves the segment holds nothing the query wants. */
	private async mayMatch(s: Segment, q: ScanPlan, words: readonly string[]): Promise<boolean> {
		if (q.before && s.hour > q.before.receivedAt) {
			return false;
		}

		if (q.receivedSince !== undefined && s.hour + hourMs <= q.receivedSince) {
			return false;
		}

		if (q.from && s.hour + hourMs <= q.from.receivedAt) {
			return false;
		}

		if (!s.gz) {
			return true;
		}

		const index = await this.index(s);
		if (!index) {
			return true; // no usable sidecar: read it to be sure
		}

		if ((q.since !== undefined && index.maxTime < q.since) || (q.until !== undefined && index.minTime > q.until)) {
			return false;
		}

		if (q.before && index.minReceived > q.before.receivedAt) {
			return false;
		}

		if (words.length > 0) {
			const bloom = Bloom.fromJson(index.bloom);
			if (bloom && !bloom.hasAll(words)) {
				return false;
			}
		}

		return true;
	}

	/** A segment's whole lines; undefined when it is gone or cannot be read (counted). */
	private async load(s: Segment): Promise<Buffer | undefined> {
		if (s.gz) {
			return this.gzipText(s.gz);
		}

		try {
			const bytes = await fs.readFile(s.raw!);
			return bytes.subarray(0, bytes.lastIndexOf(10) + 1);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				// Sealed between the listing and now: read the gzip instead.
				return this.load({...s, raw: undefined, gz: s.raw!.replace(/\.ndjson$/, '.ndjson.gz')});
			}

			return undefined;
		}
	}

	/**
	 * A sealed segment's text in chunks of whole lines, member by member (segment-text.ts): past a
	 * damaged member the others are still read (a gunzip stream stops there, or quietly at a member
	 * whose header is gone). Counted as damaged when it could not all be read.
	 */
	private async * gzipChunks(gz: string): AsyncGenerator<Buffer> {
		const counts = {damaged: false};
		yield * new SegmentReader().text({gz}, counts);
		if (counts.damaged) {
			this.damaged.add(gz);
		}
	}

	private async gzipText(gz: string): Promise<Buffer> {
		const chunks: Buffer[] = [];
		for await (const chunk of this.gzipChunks(gz)) {
			chunks.push(chunk);
		}

		return Buffer.concat(chunks);
	}

	private async * reverseSlices(s: Segment): AsyncGenerator<string[]> {
		const bytes = await this.load(s);
		if (bytes) {
			yield * lineSlices(bytes, true);
		}
	}

	/**
	 * A segment's lines in order, a slice at a time (a sealed one a gzip member at a time, see
	 * gzipChunks): memory stays at a slice whatever the segment's size. A last line without its
	 * newline (a write in progress) is left out; `progress.bytes` counts the bytes of the lines
	 * given. A damaged gzip gives what its members hold, and is counted as damaged.
	 */
	private async * forwardSlices(s: Segment, progress: {bytes: number}): AsyncGenerator<string[]> {
		let handle: FileHandle | undefined;
		let gz = s.gz;
		if (!gz) {
			try {
				handle = await fs.open(s.raw!, 'r');
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
					return;
				}

				gz = s.raw!.replace(/\.ndjson$/, '.ndjson.gz'); // sealed meanwhile
			}
		}

		if (gz) {
			for await (const chunk of this.gzipChunks(gz)) {
				progress.bytes += chunk.length;
				yield chunk.toString('utf8', 0, chunk.length - 1).split('\n');
			}

			return;
		}

		const input = handle!.createReadStream({highWaterMark: sliceBytes});
		let carry: Buffer | undefined;
		try {
			for await (const chunk of input as AsyncIterable<Buffer>) {
				const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
				const nl = buf.lastIndexOf(10);
				if (nl < 0) {
					carry = buf;
					continue;
				}

				carry = nl + 1 < buf.length ? buf.subarray(nl + 1) : undefined;
				progress.bytes += nl + 1;
				yield buf.toString('utf8', 0, nl).split('\n');
			}
		} catch {
			// Unreadable meanwhile: what was read stands.
		} finally {
			input.destroy();
			await handle!.close().catch(() => undefined);
		}
	}

	private async * run(q: ScanPlan): AsyncGenerator<LogEvent> {
		const stream: Stream = q.errorsOnly ? 'errors' : 'all';
		const words = q.tokens ?? [];
		const prefilter = linePrefilter(q);
		const accept = eventTest(q, words);
		const reverse = q.reverse === true;
		const limit = q.limit ?? Number.POSITIVE_INFINITY;
		if (limit <= 0) {
			return;
		}

		const list = await this.segments(stream);
		if (reverse) {
			list.reverse();
		}

		let found = 0;
		let last: {segment: Segment; length: number} | undefined;
		for (const segment of list) {
			if (q.signal?.aborted) {
				break;
			}

			if (!(await this.mayMatch(segment, q, words))) {
				last = {segment, length: 0};
				continue;
			}

			// Oldest first: streamed, a slice at a time, while the next is decompressed (libuv's pool).
			// Newest first: the segment's lines are read backwards, so it is held whole (at most 64 MiB).
			const progress = {bytes: 0};
			const slices = reverse ? this.reverseSlices(segment) : this.forwardSlices(segment, progress);
			let stop = false;
			for await (const lines of slices) {
				const batch: LogEvent[] = [];
				for (const line of lines) {
					if (prefilter && !prefilter(line)) {
						continue;
					}

					const e = decodeLine(line);
					if (!e || !accept(e)) {
						continue;
					}

					if (q.receivedSince !== undefined && e.receivedAt < q.receivedSince) {
						stop = reverse; // newest first: everything after this is older still
						if (stop) {
							break;
						}

						continue;
					}

					batch.push(e);
					if (++found >= limit) {
						break;
					}
				}

				for (const e of batch) {
					if (q.signal?.aborted) {
						return;
					}

					yield e;
				}

				if (found >= limit || stop || q.signal?.aborted) {
					break;
				}
			}

			last = {segment, length: progress.bytes};
			if (found >= limit || stop) {
				break;
			}
		}

		if (q.follow && !reverse && found < limit) {
			yield * this.follow(stream, q, last, accept, prefilter, limit - found);
		}
	}

	/** After the stored lines: what the writer appends, across rolls, until the signal aborts. */
	private async * follow(stream: Stream, q: ScanPlan, from: {segment: Segment; length: number} | undefined, accept: (e: LogEvent) => boolean, prefilter: ((line: string) => boolean) | undefined, limit: number): AsyncGenerator<LogEvent> {
		// Where the stored pass ended; a sealed segment gets nothing more and is not read again.
		let cursor = from ? {base: from.segment.base, hour: from.segment.hour, n: from.segment.n, offset: from.length, sealed: from.segment.gz !== undefined} : undefined;
		let found = 0;
		while (!q.signal?.aborted) {
			const list = await listSegments(this.dir, stream);
			let moved = false;
			for (const s of list) {
				if (cursor && compareSegments(s, cursor) < 0) {
					continue;
				}

				const same = cursor?.base === s.base;
				if (same && cursor!.sealed) {
					continue;
				}

				const offset = same ? cursor!.offset : 0;
				const bytes = await readFrom(s, offset);
				if (bytes === undefined) {
					continue;
				}

				cursor = {base: s.base, hour: s.hour, n: s.n, offset: offset + bytes.length, sealed: s.gz !== undefined};
				moved ||= bytes.length > 0;
				const batch: LogEvent[] = [];
				eachLine(bytes, false, line => {
					if (prefilter && !prefilter(line)) {
						return true;
					}

					const e = decodeLine(line);
					if (e && accept(e)) {
						batch.push(e);
					}

					return true;
				});
				for (const e of batch) {
					if (q.signal?.aborted) {
						return;
					}

					yield e;
					if (++found >= limit) {
						return;
					}
				}
			}

			if (!moved) {
				await sleep(followPollMs, q.signal);
			}
		}
	}
}

/** A segment's whole lines from `offset` on (the raw file while it exists, else its gzip). */
async function readFrom(s: SegmentFiles, offset: number): Promise<Buffer | undefined> {
	if (s.raw && !s.gz) {
		try {
			const h = await fs.open(s.raw, 'r');
			try {
				const {size} = await h.stat();
				const buf = Buffer.alloc(Math.max(0, size - offset));
				let got = 0;
				while (got < buf.length) {
					const {bytesRead} = await h.read(buf, got, buf.length - got, offset + got);
					if (bytesRead === 0) {
						break;
					}

					got += bytesRead;
				}

				return buf.subarray(0, buf.subarray(0, got).lastIndexOf(10) + 1);
			} finally {
				await h.close();
			}
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				return undefined;
			}
		}
	}

	const gz = s.gz ?? s.raw!.replace(/\.ndjson$/, '.ndjson.gz');
	try {
		const all = await gunzip(await fs.readFile(gz));
		return all.subarray(Math.min(offset, all.length), all.lastIndexOf(10) + 1);
	} catch {
		return undefined;
	}
}

async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
	await new Promise<void>(resolve => {
		const timer = setTimeout(done, ms);
		function done(): void {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		}

		signal?.addEventListener('abort', done, {once: true});
	});
}

/**
 * The lines of `bytes` (which ends with a newline), first to last or last to first, a slice of
 * about 1 MiB of text at a time: what is decoded at once stays small whatever the segment's size.
 */
export function * lineSlices(bytes: Buffer, reverse: boolean): Generator<string[]> {
	if (reverse) {
		let end = bytes.length;
		while (end > 0) {
			const start = end - 1 > sliceBytes ? bytes.lastIndexOf(10, end - 1 - sliceBytes) + 1 : 0;
			const lines = bytes.toString('utf8', start, end - 1).split('\n');
			yield lines.reverse();
			end = start;
		}

		return;
	}

	let start = 0;
	while (start < bytes.length) {
		const cut = start + sliceBytes < bytes.length ? bytes.indexOf(10, start + sliceBytes) : -1;
		const end = cut < 0 ? bytes.length : cut + 1;
		yield bytes.toString('utf8', start, end - 1).split('\n');
		start = end;
	}
}

/** Call `onLine` with each line, in order or reversed, until it returns false. */
export function eachLine(bytes: Buffer, reverse: boolean, onLine: (line: string) => boolean): void {
	for (const lines of lineSlices(bytes, reverse)) {
		for (const line of lines) {
			if (!onLine(line)) {
				return;
			}
		}
	}
}

const levelByInitial: Record<string, number> = {T: 0, D: 1, I: 2, N: 3, W: 4, E: 5, C: 6};

/**
 * A test on the raw line that runs before it is decoded and never turns away a line the query
 * wants: every word must occur in it (case-insensitively), and its level must be high enough.
 */
function linePrefilter(q: ScanPlan): ((line: string) => boolean) | undefined {
	const tests: Array<(line: string) => boolean> = [];
	for (const w of q.tokens ?? []) {
		const re = new RegExp(w.replaceAll(/[^\w]/g, '\\$&'), 'i');
		tests.push(line => re.test(line));
	}

	const min = q.filter?.spec.minLevel === undefined ? -1 : levelRank[q.filter.spec.minLevel];
	if (min > 0) {
		tests.push(line => {
			const at = line.indexOf(',"level":"');
			const rank = at < 0 ? undefined : levelByInitial[line.charAt(at + 10)];
			return rank === undefined || rank >= min;
		});
	}

	return tests.length === 0 ? undefined : line => tests.every(t => t(line));
}

function eventTest(q: ScanPlan, words: readonly string[]): (e: LogEvent) => boolean {
	const {since, until, filter, before, from} = q;
	return e => (since === undefined || e.time >= since)
		&& (until === undefined || e.time <= until)
		&& (before === undefined || e.receivedAt < before.receivedAt || (e.receivedAt === before.receivedAt && e.seq < before.seq))
		&& (from === undefined || e.receivedAt > from.receivedAt || (e.receivedAt === from.receivedAt && e.seq >= from.seq))
		&& (filter === undefined || filter.all || filter.test(e))
		&& (words.length === 0 || eventHasWords(e, words));
}
