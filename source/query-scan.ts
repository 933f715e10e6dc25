import {closeSync, openSync, readSync} from 'node:fs';
import fs from 'node:fs/promises';
import {availableParallelism} from 'node:os';
import {type LogEvent, levelRank} from './core/event.js';
import {Bloom} from './history/bloom.js';
import {decodeLine} from './history/format.js';
import {parseIndex} from './history/index-builder.js';
import {type LineTest} from './history/line-filter.js';
import {ScanFeed, ScanPool} from './history/scan-pool.js';
import {eventAccept} from './history/scan-task.js';
import {localFeed, type SegmentFeed} from './history/segment-feed.js';
import {MemberInflater} from './history/member-inflater.js';
import {maxMemberText, SegmentReader} from './history/segment-text.js';
import {gzPath, listSegmentsSync, type SegmentFiles} from './history/segments.js';
import {type HistoryQuery, type SegmentIndex} from './history/types.js';
import {workerFile} from './history/worker-client.js';

// `logmon query`'s read of the stored segments (everything but --stats and --follow, which ask the
// store's reader). Built for a scan of days of history:
// - segments the sidecar rules out (event-time range, bloom filter of words) are not opened;
// - sealed segments are inflated a gzip member (about 1 MiB of text) at a time, with one call
//   into zlib each (history/gzip-members.ts), and the lines that may match are picked from their
//   bytes (history/line-filter.ts: the --grep literal or the service's field, the time and level
//   at the line's head): only those are turned into strings and parsed, a piece at a time, each
//   printed before the next is decoded. Memory stays at a window on the gzip and a member's text;
// - a big scan that turns most lines away (--count, --grep, a service) is spread over worker
//   threads (history/scan-worker.ts), each doing all the work of whole segments: this thread
//   takes their matches in segment order and prints them.
// The store's reader could take these over; until then they live here, on its public pieces
// (segment listing, sidecar parsing, bloom filter, line decoding).

export type ScanQuery = HistoryQuery & {
	/** Every matching line holds one of these (byte strings), when set. */
	lineHolds?: string[] | undefined;
};

/** Text decoded at once: its events are printed before the next piece is decoded. */
const pieceBytes = 64 * 1024;

export type ScanThreads = {
	/** The scan worker's file; undefined: everything in this thread. */
	file: string | undefined;
	/** Workers start only for a scan of at least this many bytes on disk (a worker takes some 30 ms to start). */
	minBytes: number;
	/** How many; by the cores (at most two) unless set. */
	workers?: number | undefined;
};

const defaultThreads = (): ScanThreads => ({file: workerFile('scan-worker.js'), minBytes: 16 * 1024 * 1024});

/**
 * For a count, a worker per core (at most two): the query's thread only adds up. For lines, one
 * core fewer: the query's thread decodes and prints every match, and a worker on its core would
 * slow it down when the matches are many.
 */
const defaultWorkers = (count: boolean): number => Math.max(1, Math.min(2, availableParallelism() - (count ? 0 : 1)));

/** A sidecar's first bytes, read in this thread: the query reads one per segment, before anything else runs. */
function readHead(file: string, bytes: number): string {
	const fd = openSync(file, 'r');
	try {
		const buffer = Buffer.alloc(bytes);
		return buffer.toString('utf8', 0, readSync(fd, buffer, 0, bytes, 0));
	} finally {
		closeSync(fd);
	}
}

/** `{"version":1,"minTime":…,"maxTime":…,…,"events":…,` as IndexBuilder writes it; undefined when it reads otherwise. */
export function sidecarRange(head: string): Pick<SegmentIndex, 'minTime' | 'maxTime' | 'events'> | undefined {
	const m = /^\{"version":1,"minTime":(-?\d+),"maxTime":(-?\d+),[^{}]*?"events":(\d+),/.exec(head);
	return m ? {minTime: Number(m[1]), maxTime: Number(m[2]), events: Number(m[3])} : undefined;
}

export type ScanCounts = {
	/** Segments that could not be read to their end (a damaged gzip): what came before was read. */
	damagedSegments: number;
	/** Lines that did not decode. */
	damagedLines: number;
};

export class QueryScan {
	readonly counts: ScanCounts = {damagedSegments: 0, damagedLines: 0};
	private readonly test: LineTest;
	private readonly accept: (e: LogEvent) => boolean;

	constructor(private readonly dir: string, private readonly q: ScanQuery, private readonly threads: ScanThreads = defaultThreads()) {
		const {since, until, filter} = q;
		const min = filter?.spec.minLevel;
		this.test = {holds: q.lineHolds?.map(s => Buffer.from(s)), since, until, minRank: min === undefined ? 0 : levelRank[min]};
		this.accept = eventAccept(since, until, filter);
	}

	/** Matching events in receive order (newest first with `reverse`), batch by batch. */
	async * batches(): AsyncGenerator<LogEvent[]> {
		const {reverse, signal} = this.q;
		const limit = this.q.limit ?? Number.POSITIVE_INFINITY;
		const segments = await this.candidates();
		if (reverse) {
			segments.reverse();
		}

		let found = 0;
		for await (const feed of this.feeds(segments, false)) {
			if (found >= limit || signal?.aborted) {
				break;
			}

			if (reverse) {
				// Lines come oldest first: keep this segment's newest matches, then hand them out newest first.
				const kept: LogEvent[] = [];
				for (let lines = await feed.next(); lines; lines = await feed.next()) {
					for (const events of this.matches(lines)) {
						kept.push(...events);
						if (kept.length > limit - found) {
							kept.splice(0, kept.length - (limit - found));
						}
					}
				}

				found += kept.length;
				yield kept.reverse();
			} else {
				for (let lines = await feed.next(); lines && found < limit && !signal?.aborted; lines = await feed.next()) {
					for (const events of this.matches(lines)) {
						const room = limit - found;
						const out = events.length > room ? events.slice(0, room) : events;
						found += out.length;
						yield out;
						if (found >= limit || signal?.aborted) {
							break;
						}
					}
				}
			}
		}
	}

	/** The number of matching events. */
	async count(): Promise<number> {
		const {signal} = this.q;
		let n = 0;
		for await (const feed of this.feeds(await this.candidates(), true)) {
			if (signal?.aborted) {
				break;
			}

			for (let lines = await feed.next(); lines; lines = await feed.next()) {
				for (const events of this.matches(lines)) {
					n += events.length;
				}
			}

			if (feed instanceof ScanFeed) {
				n += feed.counts.matched;
			}
		}

		return n;
	}

	/**
	 * The segments' feeds in order, each closed when the next is asked for. Workers (when the
	 * scan is big) are asked for the next segments before they are due, so that they keep reading.
	 */
	private async * feeds(segments: SegmentFiles[], count: boolean): AsyncGenerator<SegmentFeed> {
		const pool = this.pool(segments, count);
		// Each member's text is read into one buffer: a feed's lines are decoded before the next member is read.
		const reader = new SegmentReader(undefined, {inflater: MemberInflater.create(maxMemberText)});
		const feedOf = (i: number): SegmentFeed | undefined => {
			const s = segments[i];
			if (!s) {
				return undefined;
			}

			if (pool && s.gz) {
				return pool.read(s.gz);
			}

			// Read here when it is first asked for, after the feed before it has closed (they share the reader).
			const source = s.gz ? {gz: s.gz} : {raw: s.raw, sealedAs: gzPath(this.dir, s.stream, s.base)};
			return localFeed(reader, source, this.test);
		};

		// Segments asked for ahead: a count's feeds hold a number each, so all of them; lines wait in
		// a feed until taken, so a few per worker.
		const width = pool ? (count ? segments.length : 4 * pool.size) : 1;
		const window = Array.from({length: Math.min(width, segments.length)}, (_, i) => feedOf(i));
		try {
			for (let i = 0; i < segments.length; i++) {
				const feed = window.shift()!;
				window.push(feedOf(i + width));
				try {
					yield feed;
				} finally {
					feed.close();
					if (feed.damaged) {
						this.counts.damagedSegments++;
					}

					if (feed instanceof ScanFeed) {
						this.counts.damagedLines += feed.counts.damagedLines;
					}
				}
			}
		} finally {
			for (const feed of window) {
				feed?.close();
			}

			await pool?.close();
		}
	}

	/**
	 * Workers, for a big scan: each reads whole segments (inflates, picks lines by their bytes,
	 * decodes and tests those), so two of them do the work side by side. Worth it when most lines
	 * are turned away there: a --count, a --grep, a literal every match holds (the service's
	 * field). When most lines are printed, this thread is the work whoever reads: no workers, and
	 * no memory spent on them.
	 */
	private pool(segments: SegmentFiles[], count: boolean): ScanPool | undefined {
		const {file, minBytes} = this.threads;
		const bytes = segments.reduce((n, s) => n + (s.gz ? s.bytes : 0), 0);
		const filter = this.q.filter?.spec;
		const worth = count || this.test.holds !== undefined || (filter?.grep.length ?? 0) > 0;
		if (!file || !worth || bytes < minBytes || segments.length < 2) {
			return undefined;
		}

		// Lines a literal picked are few: this thread decodes and tests them, once.
		const undecoded = !count && this.test.holds !== undefined;
		return new ScanPool(file, {test: this.test, filter, count, undecoded}, this.threads.workers ?? defaultWorkers(count));
	}

	/** The segments the sidecars do not rule out, oldest first. */
	private async candidates(): Promise<SegmentFiles[]> {
		const all = listSegmentsSync(this.dir, this.q.errorsOnly ? 'errors' : 'all');
		const keep = await Promise.all(all.map(async s => this.mayHold(s)));
		return all.filter((_, i) => keep[i]);
	}

	/** False when the sidecar proves the segment holds no match: outside the time window, or a word absent. */
	private async mayHold(s: SegmentFiles): Promise<boolean> {
		if (!s.gz || !s.index) {
			return true; // being written, or no sidecar: read it to be sure
		}

		const {since, until, tokens} = this.q;
		let range: Pick<SegmentIndex, 'minTime' | 'maxTime' | 'events'> | undefined;
		let index: SegmentIndex | undefined;
		try {
			// The time range leads the sidecar: without words to look up, its first bytes are enough.
			range = tokens?.length ? undefined : sidecarRange(readHead(s.index, 512));
			if (!range) {
				index = parseIndex(await fs.readFile(s.index, 'utf8'));
				range = index;
			}
		} catch {
			// Removed by retention meanwhile, or unreadable: the gzip says which.
		}

		if (!range || range.events === 0) {
			return true;
		}

		if ((since !== undefined && range.maxTime < since) || (until !== undefined && range.minTime > until)) {
			return false;
		}

		const bloom = index && tokens?.length ? Bloom.fromJson(index.bloom) : undefined;
		return !bloom || bloom.hasAll(tokens!);
	}

	/**
	 * The events of picked lines (history/line-filter.ts) that pass the query, in order, a batch
	 * per `pieceBytes` of text: a batch is printed and let go before the next is decoded, so
	 * decoded events die young.
	 */
	private * matches(lines: Buffer): Generator<LogEvent[]> {
		for (let start = 0; start < lines.length;) {
			const cut = start + pieceBytes < lines.length ? lines.indexOf(10, start + pieceBytes) : -1;
			const end = cut < 0 ? lines.length : cut + 1;
			const text = lines.toString('utf8', start, end);
			start = end;
			const out: LogEvent[] = [];
			let from = 0;
			for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
				if (nl > from) {
					const e = decodeLine(text.slice(from, nl));
					if (!e) {
						this.counts.damagedLines++;
					} else if (this.accept(e)) {
						out.push(e);
					}
				}

				from = nl + 1;
			}

			if (out.length > 0) {
				yield out;
			}
		}
	}
}
