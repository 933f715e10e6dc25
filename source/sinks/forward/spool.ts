import {unlinkSync} from 'node:fs';
import {chmod, mkdir, open, readdir, type FileHandle} from 'node:fs/promises';
import path from 'node:path';
import {type LogEvent, eventChars} from '../../core/event.js';
import {decodeRecord, encodeRecord, segmentId, segmentName} from '../../core/forward-spool-format.js';
import {acquireLock} from '../../history/lock.js';
import {type Feed, type FeedCounters, type FeedItem, defaultFeedChars, fitting} from './feed.js';
import {AckMark, ackedSuffix, readAcked, removeAcked} from './spool-acks.js';

// A forwarder's disk spool: every event it takes is appended to a segment file (one JSON
// record a line, core/forward-spool-format.ts) before anything else, so a destination down for
// an hour or a logmon killed with -9 loses nothing up to the cap. Events are read back into a
// memory queue, bounded in events and in text, as the delivery loop has room; while the loop
// keeps up they are handed over as they are written (no read back). Past either bound they wait
// on disk, in order, and are read back as room frees up. A segment is deleted once every record
// in it was acknowledged; on start, what remains is sent again but for each segment's first
// records that were all acknowledged (spool-acks.ts): at-least-once, so the events of the batches
// in flight at a crash may go twice. Past `maxBytes` the oldest segment is dropped and its unread
// events counted. Directory 0700, files 0600.

export type SpoolOptions = {
	/** Events held in memory at most. */
	capacity: number;
	/** Their text at most (UTF-16 units, core/event.ts eventChars); one event always goes into an empty queue. Default 64 Mi. */
	maxChars?: number;
	/** Bytes on disk at most. */
	maxBytes: number;
	log: (level: 'info' | 'warn' | 'error', text: string) => void;
	/** Default: a sixteenth of maxBytes, between 64 KiB and 4 MiB (what the cap drops at once). */
	segmentBytes?: number;
	flushMs?: number;
};

type Segment = {
	id: number;
	file: string;
	/** Bytes of its records, written or pending. */
	size: number;
	/** Bytes on disk. */
	written: number;
	pending: string[];
	pendingBytes: number;
	records: number;
	/** Records handed to memory (or skipped as damaged). */
	read: number;
	acked: number;
	/** Bytes read (or handed over as written). */
	readOffset: number;
	sealed: boolean;
	readDone: boolean;
	dropped: boolean;
	/** How many of its first records were all acknowledged, kept beside it. */
	mark: AckMark;
};

/** Pending bytes not yet on disk at most: past it (a disk that cannot keep up or cannot be written) events are dropped and counted. */
const maxPendingBytes = 48 * 1024 * 1024;
const readChunk = 1024 * 1024;

function newSegment(dir: string, id: number): Segment {
	const file = path.join(dir, segmentName(id));
	return {id, file, size: 0, written: 0, pending: [], pendingBytes: 0, records: 0, read: 0, acked: 0, readOffset: 0, sealed: false, readDone: false, dropped: false, mark: new AckMark(file)};
}

/**
 * Count the records of a segment left by an earlier run, cutting a torn last record; the first
 * `skip` of them (acknowledged before) are counted read and acknowledged, not to be sent again.
 */
async function scanSegment(seg: Segment, skip: number): Promise<{torn: boolean}> {
	const h = await open(seg.file, 'r+');
	try {
		const {size} = await h.stat();
		const buf = Buffer.allocUnsafe(readChunk);
		let lastNewline = -1;
		for (let pos = 0; pos < size;) {
			const {bytesRead} = await h.read(buf, 0, Math.min(readChunk, size - pos), pos);
			if (bytesRead === 0) {
				break;
			}

			for (let i = buf.indexOf(0x0A, 0); i >= 0 && i < bytesRead; i = buf.indexOf(0x0A, i + 1)) {
				seg.records++;
				lastNewline = pos + i;
				if (seg.records === skip) {
					seg.readOffset = lastNewline + 1;
				}
			}

			pos += bytesRead;
		}

		const whole = lastNewline + 1;
		if (whole < size) {
			await h.truncate(whole);
		}

		seg.size = whole;
		seg.written = whole;
		// A count past the records it has does not belong to this file as it is: nothing is skipped.
		const skipped = skip <= seg.records ? skip : 0;
		if (skipped === 0) {
			seg.readOffset = 0;
		}

		seg.read = skipped;
		seg.acked = skipped;
		seg.mark = new AckMark(seg.file, skipped);
		return {torn: whole < size};
	} finally {
		await h.close();
	}
}

export class Spool implements Feed {
	readonly durable = true;
	onReady: (() => void) | undefined;
	dropped = 0;
	damaged = 0;
	writeErrors = 0;
	lastWriteError: string | undefined;
	/** Events found on disk at start, from an earlier run. */
	restored = 0;
	private readonly segments: Segment[] = [];
	private readonly byId = new Map<number, Segment>();
	private head: Segment;
	private total = 0;
	private pendingTotal = 0;
	private memory: FeedItem[] = [];
	private memoryHead = 0;
	/** Text of the events in memory. */
	private memoryChars = 0;
	/** Text of the next record on disk, once it was found not to fit: nothing is read until it does. */
	private nextChars = 0;
	private readonly maxChars: number;
	private flushing: Promise<void> | undefined;
	private flushTimer: NodeJS.Timeout | undefined;
	private retryTimer: NodeJS.Timeout | undefined;
	private reading = false;
	private writer: {seg: Segment; h: FileHandle} | undefined;
	private reader: {seg: Segment; h: FileHandle} | undefined;
	private readonly segmentBytes: number;
	private closed = false;

	constructor(readonly dir: string, private readonly options: SpoolOptions, existing: Segment[], private readonly release: () => void) {
		this.segmentBytes = options.segmentBytes ?? Math.min(4 * 1024 ** 2, Math.max(64 * 1024, Math.floor(options.maxBytes / 16)));
		this.maxChars = options.maxChars ?? defaultFeedChars;
		for (const seg of existing) {
			this.addSegment(seg);
		}

		this.head = newSegment(dir, (existing.at(-1)?.id ?? 0) + 1);
		this.addSegment(this.head);
	}

	get length(): number {
		return this.memory.length - this.memoryHead;
	}

	push(events: readonly LogEvent[]): void {
		let handed = false;
		for (const event of events) {
			const line = encodeRecord(event);
			const bytes = Buffer.byteLength(line);
			if (this.pendingTotal + bytes > maxPendingBytes || this.closed) {
				this.dropped++;
				continue;
			}

			if (this.head.size >= this.segmentBytes) {
				this.roll();
			}

			const head = this.head;
			// Everything before it was handed over: this one can go to memory at once too.
			const caughtUp = head.readOffset === head.size && this.firstUnread() === head;
			head.pending.push(line);
			head.pendingBytes += bytes;
			head.size += bytes;
			head.records++;
			this.total += bytes;
			this.pendingTotal += bytes;
			const chars = caughtUp ? eventChars(event) : 0;
			if (caughtUp && this.fits(chars)) {
				this.memory.push({event, ref: head.id, index: head.records - 1});
				this.memoryChars += chars;
				head.read++;
				head.readOffset += bytes;
				handed = true;
			}
		}

		this.enforceCap();
		if (this.pendingTotal >= readChunk) {
			void this.flush();
		} else if (!this.flushTimer && this.pendingTotal > 0) {
			this.flushTimer = setTimeout(() => {
				this.flushTimer = undefined;
				void this.flush();
			}, this.options.flushMs ?? 50);
			this.flushTimer.unref();
		}

		if (handed) {
			this.onReady?.();
		}
	}

	take(max: number, maxChars = Number.POSITIVE_INFINITY): FeedItem[] {
		const {n, chars} = fitting(this.memory, this.memoryHead, Math.min(max, this.length), maxChars);
		const out = this.memory.slice(this.memoryHead, this.memoryHead + n);
		this.memoryHead += n;
		this.memoryChars -= chars;
		if (this.length === 0) {
			this.memoryChars = 0; // nothing can drift past an empty queue
		}

		if (this.memoryHead > 4096 && this.memoryHead * 2 > this.memory.length) {
			this.memory = this.memory.slice(this.memoryHead);
			this.memoryHead = 0;
		}

		if (this.length < this.options.capacity / 2 && this.memoryChars <= this.maxChars / 2) {
			void this.readMore();
		}

		return out;
	}

	ack(items: readonly FeedItem[]): void {
		let last: Segment | undefined;
		for (const item of items) {
			const seg = last?.id === item.ref ? last : this.byId.get(item.ref);
			if (!seg) {
				continue; // dropped past the cap meanwhile
			}

			seg.acked++;
			if (item.index !== undefined) {
				seg.mark.ack(item.index);
			}

			if (seg !== last && last) {
				this.settleAcks(last);
			}

			last = seg;
		}

		if (last) {
			this.settleAcks(last);
		}
	}

	details(): Record<string, number | string> {
		return {
			spoolDir: this.dir,
			restored: this.restored,
			segments: this.segments.length,
			spoolWriteErrors: this.writeErrors,
			...(this.lastWriteError ? {spoolError: this.lastWriteError} : {}),
		};
	}

	counters(): FeedCounters {
		let spooled = 0;
		for (const seg of this.segments) {
			spooled += seg.records - seg.acked;
		}

		return {queued: this.length, queuedChars: this.memoryChars, spooled, spoolBytes: this.total, dropped: this.dropped, damaged: this.damaged};
	}

	async close(): Promise<void> {
		clearTimeout(this.flushTimer);
		clearTimeout(this.retryTimer);
		this.flushTimer = undefined;
		await this.flush();
		this.closed = true;
		await this.writer?.h.close().catch(() => undefined);
		await this.reader?.h.close().catch(() => undefined);
		this.writer = undefined;
		this.reader = undefined;
		// Segments whose every record went: removed now rather than sent again next time.
		for (const seg of [...this.segments]) {
			seg.sealed = true;
			seg.readDone ||= seg.readOffset >= seg.size;
			this.maybeDelete(seg);
			seg.mark.close();
		}

		this.release();
	}

	/** After acknowledgements: the segment goes once all of it went, else its count is kept. */
	private settleAcks(seg: Segment): void {
		this.maybeDelete(seg);
		if (!seg.dropped) {
			seg.mark.save();
		}
	}

	private addSegment(seg: Segment): void {
		this.segments.push(seg);
		this.byId.set(seg.id, seg);
		this.total += seg.size;
	}

	/** Whether an event of `chars` goes into memory: under both bounds, or into an empty queue. */
	private fits(chars: number): boolean {
		return this.length < this.options.capacity && (this.length === 0 || this.memoryChars + chars <= this.maxChars);
	}

	/** Whether the next record on disk may go into memory, as far as is known before reading it. */
	private roomToRead(): boolean {
		return this.length < this.options.capacity && (this.length === 0 || this.memoryChars + Math.max(1, this.nextChars) <= this.maxChars);
	}

	private firstUnread(): Segment | undefined {
		return this.segments.find(s => !s.readDone);
	}

	private roll(): void {
		const old = this.head;
		old.sealed = true;
		if (old.readOffset >= old.size) {
			old.readDone = true;
		}

		this.head = newSegment(this.dir, old.id + 1);
		this.addSegment(this.head);
		this.maybeDelete(old);
	}

	/** Past the cap: the oldest segments go, their unread events counted as dropped. */
	private enforceCap(): void {
		while (this.total > this.options.maxBytes && this.segments.length > 1) {
			const seg = this.segments[0]!;
			const lost = seg.records - seg.read;
			this.dropped += lost;
			this.pendingTotal -= seg.pendingBytes;
			this.remove(seg);
			// A segment read to its end (its events sent or in flight) loses nothing: no warning.
			if (lost > 0) {
				this.options.log('warn', `spool past its cap (${this.options.maxBytes} bytes): the oldest ${lost} spooled event${lost === 1 ? ' was' : 's were'} dropped (${seg.file})`);
			}
		}
	}

	private remove(seg: Segment): void {
		seg.dropped = true;
		seg.pending = [];
		seg.pendingBytes = 0;
		const i = this.segments.indexOf(seg);
		if (i >= 0) {
			this.segments.splice(i, 1);
		}

		this.byId.delete(seg.id);
		this.total -= seg.size;
		if (this.reader?.seg === seg) {
			void this.reader.h.close().catch(() => undefined);
			this.reader = undefined;
		}

		if (this.writer?.seg !== seg) {
			this.unlink(seg.file);
		}

		// Its count after it: a kill in between leaves a count without its segment, which the next
		// start removes (openSpool), not an acknowledged segment without its count, sent again whole.
		seg.mark.remove();
	}

	/**
	 * At once, not through the thread pool: an unlink queued behind a burst of reads and writes
	 * could be cut off by a kill, and the whole acknowledged segment sent again next time.
	 */
	private unlink(file: string): void {
		try {
			unlinkSync(file);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				this.options.log('warn', `spool: cannot remove ${file}: ${error instanceof Error ? error.message : String(error)}`);
			}
		}
	}

	private maybeDelete(seg: Segment): void {
		if (seg.sealed && seg.readDone && seg.acked >= seg.read && seg.pendingBytes === 0 && seg.written >= seg.size && this.writer?.seg !== seg) {
			this.remove(seg);
		}
	}

	/** Write what is pending, oldest segment first. A failed write is tried again a second later. */
	private async flush(): Promise<void> {
		// The promise is set before the work can settle it: `finally` always runs later.
		this.flushing ??= this.writePending().finally(() => {
			this.flushing = undefined;
		});
		return this.flushing;
	}

	private async writePending(): Promise<void> {
		try {
			for (let seg = this.segments.find(s => s.pendingBytes > 0); seg && !this.closed; seg = this.segments.find(s => s.pendingBytes > 0)) {
				await this.writeSegment(seg);
			}
		} catch (error) {
			this.writeErrors++;
			const message = error instanceof Error ? error.message : String(error);
			if (this.lastWriteError !== message) {
				this.options.log('error', `spool: cannot write (${message}); events wait in memory, then are dropped and counted`);
			}

			this.lastWriteError = message;
			this.retryTimer ??= setTimeout(() => {
				this.retryTimer = undefined;
				void this.flush();
			}, 1000);
			this.retryTimer.unref();
		}
	}

	private async writeSegment(seg: Segment): Promise<void> {
		if (this.writer && this.writer.seg !== seg) {
			const old = this.writer;
			this.writer = undefined;
			await old.h.close();
			if (old.seg.dropped) {
				this.unlink(old.seg.file);
			} else {
				this.maybeDelete(old.seg);
			}
		}

		if (!this.writer) {
			this.writer = {seg, h: await open(seg.file, 'a', 0o600)};
		}

		const {h} = this.writer;
		const text = seg.pending.join('');
		const bytes = seg.pendingBytes;
		const count = seg.pending.length;
		const data = Buffer.from(text);
		try {
			for (let offset = 0; offset < data.length;) {
				const {bytesWritten} = await h.write(data, offset, data.length - offset);
				offset += bytesWritten;
			}
		} catch (error) {
			// Back to the last whole write: the same bytes go again at the same place.
			await h.truncate(seg.written).catch(() => undefined);
			throw error;
		}

		if (seg.dropped) {
			return;
		}

		seg.pending.splice(0, count);
		seg.pendingBytes -= bytes;
		seg.written += bytes;
		this.pendingTotal -= bytes;
		this.lastWriteError = undefined;
		if (seg.sealed && seg.pendingBytes === 0) {
			this.writer = undefined;
			await h.close();
			this.maybeDelete(seg);
		}

		void this.readMore();
	}

	/** Read records back from disk into memory while there is room. */
	private async readMore(): Promise<void> {
		if (this.reading || this.closed) {
			return;
		}

		this.reading = true;
		let added = false;
		try {
			let chunk = readChunk;
			while (this.roomToRead() && !this.closed) {
				const seg = this.firstUnread();
				if (!seg) {
					break;
				}

				if (seg.readOffset >= seg.size && seg.sealed) {
					seg.readDone = true;
					this.maybeDelete(seg);
					continue;
				}

				if (seg.readOffset >= seg.written) {
					break; // what is left is not on disk yet: the flush calls again
				}

				if (this.reader?.seg !== seg) {
					await this.reader?.h.close().catch(() => undefined);
					this.reader = {seg, h: await open(seg.file, 'r')};
				}

				const want = Math.min(chunk, seg.written - seg.readOffset);
				const buf = Buffer.allocUnsafe(want);
				const {bytesRead} = await this.reader.h.read(buf, 0, want, seg.readOffset);
				if (seg.dropped) {
					continue;
				}

				let start = 0;
				let full = false;
				for (let nl = buf.indexOf(0x0A, 0); nl >= 0 && nl < bytesRead; nl = buf.indexOf(0x0A, start)) {
					if (!this.roomToRead()) {
						full = true;
						break;
					}

					const event = decodeRecord(buf.toString('utf8', start, nl));
					const chars = event ? eventChars(event) : 0;
					if (event && !this.fits(chars)) {
						// Left on disk, unread: it is read again once there is room for it.
						this.nextChars = chars;
						full = true;
						break;
					}

					this.nextChars = 0;
					seg.read++;
					if (event) {
						this.memory.push({event, ref: seg.id, index: seg.read - 1});
						this.memoryChars += chars;
						added = true;
					} else {
						this.damaged++;
						seg.acked++;
						seg.mark.ack(seg.read - 1);
					}

					seg.readOffset += nl + 1 - start;
					start = nl + 1;
				}

				if (full) {
					break;
				}

				if (start === 0) {
					if (bytesRead < seg.written - seg.readOffset) {
						chunk *= 2; // one record longer than a chunk
					} else if (this.length < this.options.capacity) {
						// Bytes with no newline to end them: not a record.
						this.damaged++;
						seg.readOffset = seg.written;
					}
				} else {
					chunk = readChunk;
				}
			}
		} catch (error) {
			this.options.log('error', `spool: cannot read ${this.reader?.seg.file ?? this.dir}: ${error instanceof Error ? error.message : String(error)}`);
		} finally {
			this.reading = false;
		}

		if (added) {
			this.onReady?.();
		}
	}
}

export class SpoolBusyError extends Error {}

/** Open (or create) a spool directory; segments of an earlier run are counted, their torn tails cut, and sent first. */
export async function openSpool(dir: string, options: SpoolOptions): Promise<Spool> {
	const created = await mkdir(dir, {recursive: true, mode: 0o700});
	if (created !== undefined) {
		await chmod(dir, 0o700);
	}

	const lock = acquireLock(dir);
	if (!lock.ok) {
		throw new SpoolBusyError(`spool ${dir} is in use by another logmon${lock.holder ? ` (pid ${lock.holder.pid} on ${lock.holder.host})` : ''}; give this forwarder another name`);
	}

	try {
		const files = await readdir(dir);
		const names = files.flatMap(n => {
			const id = segmentId(n);
			return id === undefined ? [] : [{id, name: n}];
		}).sort((a, b) => a.id - b.id);
		// A count whose segment is gone (a crash between the two removals) must not meet a new segment of that name.
		const present = new Set(names.map(n => n.name));
		for (const n of files) {
			if (n.endsWith(ackedSuffix) && !present.has(n.slice(0, -ackedSuffix.length))) {
				removeAcked(path.join(dir, n));
			}
		}

		const segments: Segment[] = [];
		let torn = 0;
		for (const {id} of names) {
			const seg = newSegment(dir, id);
			if ((await scanSegment(seg, readAcked(seg.file))).torn) {
				torn++;
			}

			seg.sealed = true;
			segments.push(seg);
		}

		const spool = new Spool(dir, options, segments, lock.release);
		spool.damaged += torn;
		const waiting = segments.reduce((n, s) => n + s.records - s.acked, 0);
		const skipped = segments.reduce((n, s) => n + s.acked, 0);
		spool.restored = waiting;
		if (waiting > 0 || torn > 0) {
			options.log('info', `spool: ${waiting} events from an earlier run to send again${skipped > 0 ? ` (${skipped} acknowledged before are not)` : ''}${torn > 0 ? `; ${torn} torn record${torn === 1 ? '' : 's'} cut` : ''}`);
		}

		return spool;
	} catch (error) {
		lock.release();
		throw error;
	}
}
