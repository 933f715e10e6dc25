import {createReadStream} from 'node:fs';
import fs from 'node:fs/promises';
import {createGunzip} from 'node:zlib';
import {type Level, type LogEvent, levelRank} from './core/event.js';
import {Bloom} from './history/bloom.js';
import {decodeLine} from './history/format.js';
import {parseIndex} from './history/index-builder.js';
import {gzPath, listSegments, type SegmentFiles} from './history/segments.js';
import {type HistoryQuery, type SegmentIndex} from './history/types.js';

// `logmon query`'s read of the stored segments (everything but --stats and --follow, which ask the
// store's reader). Built for a scan of days of history:
// - segments the sidecar rules out (event-time range, bloom filter of words) are not opened;
// - segments are gunzipped as streams on libuv's pool, a few at once, and only a few MiB of each
//   are held at a time, whatever its size;
// - lines are looked at as bytes first: when every match must hold some literal text (a --grep
//   literal, the service's field) a line without it is never turned into a string or parsed;
//   a line's time and level are read from its head before it is parsed.
// The store's reader could take these over; until then they live here, on its public pieces
// (segment listing, sidecar parsing, bloom filter, line decoding).

export type ScanQuery = HistoryQuery & {
	/** Every matching line holds one of these (byte strings), when set. */
	lineHolds?: string[] | undefined;
};

/** Segments read at once when lines are tested as bytes: gunzip is then the work, on libuv's threads. */
const inFlight = 3;

/** Bytes of decompressed text read ahead of the search, per segment. */
const readAhead = 2 * 1024 * 1024;

/** The complete lines of a segment in chunks (each ends with a newline); a torn last line is left out. */
class SegmentText {
	private readonly chunks: Buffer[] = [];
	private queued = 0;
	private carry: Buffer | undefined;
	private done = false;
	private failed: Error | undefined;
	private wake: (() => void) | undefined;
	private readonly stream: NodeJS.ReadableStream & {destroy(): void; pause(): void; resume(): void};

	/** `sealedAs`: for a raw segment, the gzip it becomes when sealed. */
	constructor(file: string, gz: boolean, readonly sealedAs?: string) {
		const input = createReadStream(file, {highWaterMark: 256 * 1024});
		this.stream = gz ? input.pipe(createGunzip({chunkSize: 256 * 1024})) : input;
		this.stream.on('data', (chunk: Buffer) => {
			this.take(chunk);
		});
		this.stream.on('end', () => {
			this.done = true;
			this.wake?.();
		});
		const fail = (error: Error): void => {
			this.failed = error;
			this.done = true;
			this.wake?.();
		};

		this.stream.on('error', fail);
		if (gz) {
			input.on('error', fail);
		}
	}

	private take(chunk: Buffer): void {
		const joined = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
		const end = joined.lastIndexOf(10);
		if (end < 0) {
			this.carry = joined;
			return;
		}

		this.carry = end + 1 < joined.length ? joined.subarray(end + 1) : undefined;
		this.chunks.push(joined.subarray(0, end + 1));
		this.queued += end + 1;
		if (this.queued > readAhead) {
			this.stream.pause();
		}

		this.wake?.();
	}

	/** The next chunk of whole lines; undefined at the end. Throws when the file cannot be read. */
	async next(): Promise<Buffer | undefined> {
		while (this.chunks.length === 0 && !this.done) {
			await new Promise<void>(resolve => {
				this.wake = resolve;
			});
			this.wake = undefined;
		}

		const chunk = this.chunks.shift();
		if (chunk) {
			this.queued -= chunk.length;
			if (this.queued <= readAhead / 2) {
				this.stream.resume();
			}

			return chunk;
		}

		if (this.failed) {
			throw this.failed;
		}

		return undefined;
	}

	close(): void {
		this.stream.destroy();
	}
}

const rankByInitial: Record<string, number> = {T: levelRank.TRACE, D: levelRank.DEBUG, I: levelRank.INFO, N: levelRank.NOTICE, W: levelRank.WARN, E: levelRank.ERROR, C: levelRank.CRITICAL};

/**
 * A test of a line's first fields (`{"seq":…,"time":…,"recv":…,"level":"…"`, history/format.ts)
 * read as text, before the line is parsed: out of the time window or below the level, it is
 * skipped. A line whose head reads otherwise is parsed and tested as usual.
 */
function headTest(since: number | undefined, until: number | undefined, minLevel: Level | undefined): ((line: string) => boolean) | undefined {
	const min = minLevel === undefined ? 0 : levelRank[minLevel];
	if (since === undefined && until === undefined && min === 0) {
		return undefined;
	}

	const from = since ?? Number.NEGATIVE_INFINITY;
	const to = until ?? Number.POSITIVE_INFINITY;
	return line => {
		const at = line.indexOf(',"time":');
		if (at < 0 || at > 32) {
			return true;
		}

		let time = 0;
		let i = at + 8;
		for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) {
			time = time * 10 + c - 48;
		}

		if (line.charCodeAt(i) === 44 /* , */ && i > at + 8 && (time < from || time > to)) {
			return false;
		}

		if (min > 0) {
			const l = line.indexOf(',"level":"', i);
			const rank = l < 0 || l > i + 40 ? undefined : rankByInitial[line.charAt(l + 10)];
			return rank === undefined || rank >= min;
		}

		return true;
	};
}

async function readHead(file: string, bytes: number): Promise<string> {
	const h = await fs.open(file, 'r');
	try {
		const buffer = Buffer.alloc(bytes);
		const {bytesRead} = await h.read(buffer, 0, bytes, 0);
		return buffer.toString('utf8', 0, bytesRead);
	} finally {
		await h.close();
	}
}

/** `{"version":1,"minTime":…,"maxTime":…,…,"events":…,` as IndexBuilder writes it; undefined when it reads otherwise. */
export function sidecarRange(head: string): Pick<SegmentIndex, 'minTime' | 'maxTime' | 'events'> | undefined {
	const m = /^\{"version":1,"minTime":(-?\d+),"maxTime":(-?\d+),[^{}]*?"events":(\d+),/.exec(head);
	return m ? {minTime: Number(m[1]), maxTime: Number(m[2]), events: Number(m[3])} : undefined;
}

type Search = {results(): AsyncGenerator<LogEvent[]>; close(): void};

/** Runs one segment's search ahead of its reader, holding at most `maxHeld` matches. */
class SearchAhead implements Search {
	private readonly held: LogEvent[][] = [];
	private count = 0;
	private done = false;
	private closed = false;
	private wakeReader: (() => void) | undefined;
	private wakeSearch: (() => void) | undefined;

	constructor(search: AsyncGenerator<LogEvent[]>, private readonly text: SegmentText, private readonly maxHeld = 10_000) {
		void this.pump(search);
	}

	private async pump(search: AsyncGenerator<LogEvent[]>): Promise<void> {
		try {
			for await (const events of search) {
				this.held.push(events);
				this.count += events.length;
				this.wakeReader?.();
				while (this.count >= this.maxHeld && !this.closed) {
					await new Promise<void>(resolve => {
						this.wakeSearch = resolve;
					});
				}

				if (this.closed) {
					break;
				}
			}
		} finally {
			this.done = true;
			this.wakeReader?.();
		}
	}

	async * results(): AsyncGenerator<LogEvent[]> {
		for (;;) {
			const events = this.held.shift();
			if (events) {
				this.count -= events.length;
				this.wakeSearch?.();
				yield events;
			} else if (this.done) {
				return;
			} else {
				await new Promise<void>(resolve => {
					this.wakeReader = resolve;
				});
				this.wakeReader = undefined;
			}
		}
	}

	close(): void {
		this.closed = true;
		this.wakeSearch?.();
		this.text.close();
	}
}

export type ScanCounts = {
	/** Segments that could not be read to their end (a damaged gzip): what came before was read. */
	damagedSegments: number;
	/** Lines that did not decode. */
	damagedLines: number;
};

export class QueryScan {
	readonly counts: ScanCounts = {damagedSegments: 0, damagedLines: 0};
	private readonly holds: Buffer[] | undefined;
	private readonly accept: (e: LogEvent) => boolean;
	private readonly head: ((line: string) => boolean) | undefined;

	constructor(private readonly dir: string, private readonly q: ScanQuery) {
		this.holds = q.lineHolds?.map(s => Buffer.from(s));
		const {since, until, filter} = q;
		this.accept = e => (since === undefined || e.time >= since) && (until === undefined || e.time <= until) && (filter === undefined || filter.test(e));
		this.head = headTest(since, until, filter?.spec.minLevel);
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
		// Segments are read a few at once, their gunzip on libuv's threads. When lines are tested as
		// bytes (few are decoded), the next segments are searched ahead too and their matches wait,
		// a bounded number, until this one's are handed out. Otherwise decoding is the work and it
		// waits its turn: only the next segment's first few MiB of text are held.
		const searchOf = (i: number): Search | undefined => {
			const text = i < segments.length ? this.open(segments[i]!) : undefined;
			if (!text) {
				return undefined;
			}

			const search = this.search(text);
			return this.holds ? new SearchAhead(search, text) : {results: () => search, close: () => text.close()};
		};

		const width = this.holds ? inFlight : 2;
		const window = Array.from({length: Math.min(width, segments.length)}, (_, i) => searchOf(i));
		try {
			for (let i = 0; i < segments.length && found < limit && !signal?.aborted; i++) {
				const search = window.shift();
				window.push(searchOf(i + width));
				if (search) {
					if (reverse) {
						// Lines come oldest first: keep this segment's newest matches, then hand them out newest first.
						const kept: LogEvent[] = [];
						for await (const events of search.results()) {
							kept.push(...events);
							if (kept.length > limit - found) {
								kept.splice(0, kept.length - (limit - found));
							}
						}

						found += kept.length;
						yield kept.reverse();
					} else {
						for await (const events of search.results()) {
							const room = limit - found;
							const out = events.length > room ? events.slice(0, room) : events;
							found += out.length;
							yield out;
							if (found >= limit || signal?.aborted) {
								break;
							}
						}
					}

					search.close();
				}
			}
		} finally {
			for (const search of window) {
				search?.close();
			}
		}
	}

	/** The segments the sidecars do not rule out, oldest first. */
	private async candidates(): Promise<SegmentFiles[]> {
		const all = await listSegments(this.dir, this.q.errorsOnly ? 'errors' : 'all');
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
			range = tokens?.length ? undefined : sidecarRange(await readHead(s.index, 512));
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

	/** The segment's text: its gzip once sealed, else its raw file. */
	private open(s: SegmentFiles): SegmentText | undefined {
		if (s.gz) {
			return new SegmentText(s.gz, true);
		}

		return s.raw ? new SegmentText(s.raw, false, gzPath(this.dir, s.stream, s.base)) : undefined;
	}

	private async * search(opened: SegmentText): AsyncGenerator<LogEvent[]> {
		let text = opened;
		try {
			for (;;) {
				let chunk: Buffer | undefined;
				try {
					chunk = await text.next();
				} catch (error) {
					const code = (error as NodeJS.ErrnoException).code;
					if (code === 'ENOENT' && text.sealedAs) {
						// Sealed between the listing and the read: all of it is in the gzip now.
						text = new SegmentText(text.sealedAs, true);
						continue;
					}

					if (code !== 'ENOENT') {
						this.counts.damagedSegments++;
					}

					return;
				}

				if (!chunk) {
					return;
				}

				const events = this.holds ? this.matchesHolding(chunk, this.holds) : this.matches(chunk.toString('utf8'));
				if (events.length > 0) {
					yield events;
				}
			}
		} finally {
			if (text !== opened) {
				text.close();
			}
		}
	}

	private decode(line: string, out: LogEvent[]): void {
		if (line === '' || (this.head && !this.head(line))) {
			return;
		}

		const e = decodeLine(line);
		if (!e) {
			this.counts.damagedLines++;
		} else if (this.accept(e)) {
			out.push(e);
		}
	}

	private matches(text: string): LogEvent[] {
		const out: LogEvent[] = [];
		let from = 0;
		for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
			this.decode(text.slice(from, nl), out);
			from = nl + 1;
		}

		return out;
	}

	/** Only the lines that hold one of `holds` are made strings and decoded, each once, in file order. */
	private matchesHolding(chunk: Buffer, holds: Buffer[]): LogEvent[] {
		const starts: number[] = [];
		for (const needle of holds) {
			for (let at = chunk.indexOf(needle); at >= 0;) {
				const end = chunk.indexOf(10, at);
				starts.push(chunk.lastIndexOf(10, at) + 1);
				at = chunk.indexOf(needle, end + 1);
			}
		}

		if (holds.length > 1) {
			starts.sort((a, b) => a - b);
		}

		const out: LogEvent[] = [];
		let last = -1;
		for (const start of starts) {
			if (start !== last) {
				this.decode(chunk.toString('utf8', start, chunk.indexOf(10, start)), out);
				last = start;
			}
		}

		return out;
	}
}
