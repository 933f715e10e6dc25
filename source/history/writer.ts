import fs from 'node:fs/promises';
import {type Bus} from '../core/bus.js';
import {type LogEvent, eventChars} from '../core/event.js';
import {Capture} from './capture.js';
import {type Encoded, partBuffers} from './encode-batch.js';
import {Encoder} from './encoder.js';
import {hourMs, hourOf} from './format.js';
import {type Chunk, StreamWriter} from './stream-writer.js';
import {planRetention, type PlannedSegment, type RetentionLimits, type Stream} from './retention-plan.js';
import {type Sealer} from './seal.js';
import {defaultSealDelay, SealDelay, type SealDelayOptions} from './seal-delay.js';
import {type SealResult} from './seal-file.js';
import {failureReason, gzPath, indexPath, listSegments, makeDir, rawPath, type SegmentFiles, streamDir, streams} from './segments.js';
import {type HistoryStatus} from './types.js';

// The history writer. The bus calls `append` synchronously: it only captures each event into a
// pending batch (capture.ts). As soon as `flushBytes` are pending, and at least every `flushMs`,
// the batches go to the encoder worker (encoder.ts), which makes their lines while earlier ones
// are written; the lines that are back are appended to the active segment together, one async
// write in flight, so neither the encoding nor a slow disk blocks a source. Memory is bounded:
// past `maxPendingBytes` captured and not yet written, events are dropped and counted. ERROR and
// CRITICAL lines also go to the errors stream.
//
// A segment holds the events received within one UTC hour and rolls at the hour or at
// `segmentBytes`; a rolled segment goes to the sealer once the writes calm down (seal-delay.ts).
// Each run starts new segments: any raw segment found at start is from an earlier run and is
// sealed (its torn last line cut off).
// When a write fails (disk full, read-only, file size limit) the status turns `failed`, the
// events are dropped and counted, and writing is tried again every `retryMs`.

export type WriterOptions = {
	flushMs: number;
	flushBytes: number;
	maxPendingBytes: number;
	segmentBytes: number;
	retryMs: number;
	maintenanceMs: number;
	limits: RetentionLimits;
	sealDelay: SealDelayOptions;
	clock: () => number;
};

export const defaultWriterOptions: WriterOptions = {
	flushMs: 1000,
	flushBytes: 2 * 1024 * 1024,
	maxPendingBytes: 32 * 1024 * 1024,
	segmentBytes: 64 * 1024 * 1024,
	retryMs: 3000,
	maintenanceMs: 60_000,
	limits: {maxAgeMs: 3 * 86_400_000, errorMaxAgeMs: 30 * 86_400_000, maxBytes: 2 * 1024 ** 3},
	sealDelay: defaultSealDelay,
	clock: Date.now,
};

export type StatusListener = (status: HistoryStatus) => void;

/** Batches written together at most. */
const maxGroup = 64;

function sum<T>(items: readonly T[], of: (item: T) => number): number {
	let n = 0;
	for (const item of items) {
		n += of(item);
	}

	return n;
}

/** A batch with the encoder or waiting to be written. */
type Queued = {
	capture: Capture;
	bytes: number;
	lines: Promise<Encoded>;
	/** Its lines, once the encoder has answered. */
	encoded?: Encoded;
	/** The write loop has its lines (and gives their memory back). */
	taken: boolean;
	/** Its lines are in all/. */
	written: boolean;
};

export class HistoryWriter {
	readonly options: WriterOptions;
	private readonly all: StreamWriter;
	private readonly errors: StreamWriter;
	private readonly encoder = new Encoder();
	/** Captured events not yet written, one batch per receive hour; the last one is being filled. */
	private pending: Capture[] = [];
	private current: Capture | undefined;
	private hourStart = 0;
	private hourEnd = -1;
	private pendingBytes = 0;
	/** Batches handed to the encoder, oldest first, until their lines are written (or dropped). */
	private queue: Queued[] = [];
	private queuedBytes = 0;
	/** The loop that writes the queue, one write at a time; undefined when it is idle. */
	private writing: Promise<void> | undefined;
	/** A new batch starts about as big as the last one grew, so it seldom has to grow. */
	private readonly sizeHint = {events: 1024, textBytes: 128 * 1024};
	private flushTimer: NodeJS.Timeout | undefined;
	private maintenanceTimer: NodeJS.Timeout | undefined;
	private retryTimer: NodeJS.Timeout | undefined;
	private readonly sealing = new Set<string>();
	private readonly sealRuns = new Set<Promise<unknown>>();
	/** Rolled segments not yet handed to the sealer. */
	private readonly sealDelay: SealDelay;
	/** False while failed and not yet trying again: events are dropped at once. */
	private accepting = true;
	private closed = false;
	private readonly listeners = new Set<StatusListener>();
	private unsubscribe: (() => void) | undefined;
	readonly state: HistoryStatus;

	/** False until the directory is set up (made, FORMAT checked, lock held); retried before each write. */
	private ready: boolean;

	/**
	 * `setup`, when given, has not run yet or failed: it is run again before writing (make the
	 * directory, check FORMAT, take the lock). It returns why the history is read-only, if it is.
	 */
	constructor(readonly dir: string, private readonly sealer: Sealer, options: Partial<WriterOptions> = {}, private readonly setup?: () => Promise<string | undefined>) {
		this.ready = setup === undefined;
		this.options = {...defaultWriterOptions, ...options};
		this.sealDelay = new SealDelay(this.options.sealDelay);
		this.all = new StreamWriter('all', dir);
		this.errors = new StreamWriter('errors', dir);
		this.state = {state: 'writing', dir, written: 0, dropped: 0, tornLines: 0, damagedSegments: 0, bytesOnDisk: 0, segments: 0};
	}

	/** Seal what earlier runs left, apply retention, start the timers. */
	async start(): Promise<void> {
		// The encoder's thread starts now, not at the first flush: starting it then would hold up
		// that flush, and the events that come in meanwhile, when ingest is at its busiest.
		this.encoder.warm();
		try {
			await (this.ready ? this.recover() : this.prepare());
		} catch (error) {
			this.fail(error);
		}

		if (this.ready && !this.closed) {
			// The seal thread too: started now, not when the first segment fills in the middle of a burst.
			this.sealer.warm();
		}

		this.flushTimer = setInterval(() => {
			void this.flush();
			this.sealDue();
		}, this.options.flushMs);
		this.flushTimer.unref();
		this.maintenanceTimer = setInterval(() => {
			void (this.ready ? this.maintain() : Promise.resolve()).catch(() => undefined);
		}, this.options.maintenanceMs);
		this.maintenanceTimer.unref();
	}

	/** Subscribe to the bus: every event it carries is written. */
	attach(bus: Bus): void {
		this.unsubscribe = bus.subscribe(events => {
			this.append(events);
		});
	}

	/** Called by the bus: encode into the pending buffer. Never waits. */
	append(events: readonly LogEvent[]): void {
		if (!this.accepting || this.closed) {
			this.state.dropped += events.length;
			return;
		}

		const max = this.options.maxPendingBytes;
		for (let i = 0; i < events.length;) {
			if (this.pendingBytes + this.queuedBytes > max) {
				this.state.dropped++;
				i++;
				continue;
			}

			const e = events[i]!;
			if (e.receivedAt >= this.hourEnd || e.receivedAt < this.hourStart) {
				this.hourStart = hourOf(e.receivedAt);
				this.hourEnd = this.hourStart + hourMs;
				this.current = new Capture(this.hourStart, this.encoder.pool, this.sizeHint.events, this.sizeHint.textBytes);
				this.pending.push(this.current);
			}

			// The events of this receive hour from here on (mostly all of them) go in together, as far
			// as a third of the room left: a character takes up to 3 bytes in UTF-8, and the room is
			// looked at again after each part, so a batch of long lines stops near the bound.
			const room = max - this.pendingBytes - this.queuedBytes;
			let text = eventChars(e);
			let end = i + 1;
			while (end < events.length && events[end]!.receivedAt >= this.hourStart && events[end]!.receivedAt < this.hourEnd && (text += eventChars(events[end]!)) * 3 <= room) {
				end++;
			}

			this.pendingBytes += this.current!.pushAll(events, i, end);
			i = end;
		}

		if (this.pendingBytes >= this.options.flushBytes) {
			this.dispatch();
		}
	}

	/** Write what is pending; resolves when it is on disk (or counted as dropped). */
	async flush(): Promise<void> {
		this.dispatch();
		while (this.writing) {
			await this.writing;
		}
	}

	/**
	 * Hand the pending batches to the encoder now, and have them written in order as their lines
	 * come back: the encoder works on the next batches while one is being written.
	 */
	private dispatch(): void {
		for (const capture of this.take()) {
			const lines = this.encoder.encode(capture);
			const item: Queued = {capture, bytes: capture.bytes, lines, taken: false, written: false};
			// A failure is handled where the lines are awaited (or dropped); this keeps one waiting behind another from going unhandled.
			lines.then(encoded => {
				item.encoded = encoded;
			}, () => undefined);
			this.queue.push(item);
			this.queuedBytes += capture.bytes;
		}

		if (this.queue.length === 0) {
			return;
		}

		this.writing ??= this.writeQueue().finally(() => {
			this.writing = undefined;
			if (this.queue.length > 0 && this.accepting) {
				this.dispatch();
			}
		});
	}

	/** Resolves once what is pending is written and every seal started so far is done. */
	async settle(): Promise<void> {
		await this.flush();
		for (const w of this.sealDelay.all()) {
			this.seal(w.stream, w.base);
		}

		this.state.unsealed = 0;

		while (this.sealRuns.size > 0) {
			await Promise.all(this.sealRuns);
		}
	}

	status(): HistoryStatus {
		return this.state;
	}

	onStatus(listener: StatusListener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** The active segment's file of a stream (readers in this process read it like any other). */
	activeBase(stream: Stream): string | undefined {
		return (stream === 'all' ? this.all : this.errors).active?.base;
	}

	/** Flush, close the segments, stop the timers. Raw segments (waiting ones too) are sealed at the next start. */
	async close(): Promise<void> {
		this.unsubscribe?.();
		clearInterval(this.flushTimer);
		clearInterval(this.maintenanceTimer);
		clearTimeout(this.retryTimer);
		if (this.accepting) {
			await this.flush().catch(() => undefined);
		}

		this.closed = true;
		await this.encoder.close();
		await this.all.abandon();
		await this.errors.abandon();
	}

	/** The pending batches, taken to be written (or dropped). */
	private take(): Capture[] {
		const out = this.pending;
		const last = out.at(-1);
		if (last) {
			this.sizeHint.events = Math.min(1 << 16, Math.max(1024, Math.ceil(last.count * 1.25)));
			this.sizeHint.textBytes = Math.min(16 << 20, Math.max(128 * 1024, Math.ceil(last.textBytes * 1.25)));
		}

		this.pending = [];
		this.current = undefined;
		this.hourEnd = -1;
		this.pendingBytes = 0;
		return out;
	}

	private async prepare(): Promise<void> {
		if (this.ready) {
			return;
		}

		const readOnly = await this.setup!();
		if (readOnly !== undefined) {
			this.closed = true;
			this.accepting = false;
			this.setState('read-only', readOnly);
			return;
		}

		this.ready = true;
		await this.recover();
	}

	/** What a run does first: clear what a crash left half done, seal earlier runs' segments, apply retention. */
	private async recover(): Promise<void> {
		// Nothing is being sealed yet: any temporary file is one a crash cut short.
		for (const stream of streams) {
			await removeTemporaries(streamDir(this.dir, stream));
		}

		await this.maintain();
	}

	/** Write the queue's lines in order, one write at a time, until it is empty. */
	private async writeQueue(): Promise<void> {
		if (!this.ready) {
			try {
				await this.prepare();
			} catch (error) {
				this.fail(error);
				return;
			}

			if (this.closed) {
				// Read-only after all: another logmon writes the directory.
				this.dropQueue(false);
				return;
			}
		}

		const rolled: Array<{stream: Stream; active: {base: string; size: number}}> = [];
		try {
			while (this.queue.length > 0) {
				const head = this.queue[0]!;
				await head.lines;
				// The head, and the batches after it of the same hour whose lines are back too: one
				// write for all of them. A write costs a turn of the event loop, which ingest keeps busy.
				const group: Queued[] = [];
				for (const item of this.queue) {
					if (item.encoded === undefined || item.capture.hour !== head.capture.hour || group.length >= maxGroup) {
						break;
					}

					item.taken = true;
					group.push(item);
				}

				const hour = head.capture.hour;
				const encoded = group.map(item => item.encoded!);
				try {
					const all: Chunk = {hour, parts: encoded.flatMap(e => partBuffers(e.all)), lines: sum(group, item => item.capture.count), bytes: sum(encoded, e => e.allBytes)};
					const r = await this.all.write(all, this.options.segmentBytes);
					this.sealDelay.wrote(all.bytes, this.options.clock());
					this.state.written += all.lines;
					// Counted as written, until the next maintenance lists the files (and their sealed size).
					this.state.bytesOnDisk += all.bytes;
					for (const item of group) {
						item.written = true;
					}

					if (r) {
						rolled.push({stream: 'all', active: r});
					}

					const errors: Chunk = {hour, parts: encoded.flatMap(e => partBuffers(e.errors)), lines: sum(group, item => item.capture.errors), bytes: sum(encoded, e => e.errorBytes)};
					if (errors.bytes > 0) {
						const e = await this.errors.write(errors, this.options.segmentBytes);
						this.sealDelay.wrote(errors.bytes, this.options.clock());
						this.state.bytesOnDisk += errors.bytes;
						if (e) {
							rolled.push({stream: 'errors', active: e});
						}
					}
				} finally {
					for (const e of encoded) {
						this.encoder.recycle(e);
					}
				}

				if (this.queue[0] === head) {
					this.queue.splice(0, group.length);
					this.queuedBytes -= sum(group, item => item.bytes);
				}
			}

			if (this.state.state === 'failed') {
				this.setState('writing');
			}
		} catch (error) {
			this.fail(error);
		}

		for (const r of rolled) {
			this.sealDelay.add(r.stream, r.active.base, r.active.size, this.options.clock());
		}

		this.sealDue();
	}

	/** Seal the rolled segments whose wait is over. */
	private sealDue(): void {
		for (const w of this.sealDelay.due(this.options.clock())) {
			this.seal(w.stream, w.base);
		}

		this.state.unsealed = this.sealDelay.size;
	}

	/** Drop the queue: its events counted as dropped (when `count`), its memory given back as the encoder answers. */
	private dropQueue(count: boolean): void {
		for (const item of this.queue) {
			if (count && !item.written) {
				this.state.dropped += item.capture.count;
			}

			if (!item.taken) {
				item.lines.then(lines => {
					this.encoder.recycle(lines);
				}, () => undefined);
			}
		}

		this.queue = [];
		this.queuedBytes = 0;
	}

	private fail(error: unknown): void {
		// Drop what is pending and stop taking events until the retry.
		for (const c of this.take()) {
			this.state.dropped += c.count;
		}

		this.dropQueue(true);
		this.accepting = false;
		this.setState('failed', failureReason(error));
		void Promise.all([this.all.abandon(), this.errors.abandon()]).then(([a, e]) => {
			if (a) {
				this.seal('all', a.base);
			}

			if (e) {
				this.seal('errors', e.base);
			}
		});
		clearTimeout(this.retryTimer);
		this.retryTimer = setTimeout(() => {
			// Take events again; the next flush says whether the disk takes them.
			this.accepting = !this.closed;
		}, this.options.retryMs);
		this.retryTimer.unref();
	}

	private setState(state: HistoryStatus['state'], reason?: string): void {
		if (this.state.state === state && this.state.reason === reason) {
			return;
		}

		this.state.state = state;
		this.state.reason = reason;
		for (const l of this.listeners) {
			l(this.state);
		}
	}

	private seal(stream: Stream, base: string): void {
		const key = `${stream}/${base}`;
		if (this.sealing.has(key)) {
			return;
		}

		this.sealing.add(key);
		const job = {raw: rawPath(this.dir, stream, base), gz: gzPath(this.dir, stream, base), index: indexPath(this.dir, stream, base)};
		const run = this.sealer.seal(job).then(r => {
			this.sealed(r);
		}, () => {
			// Left raw; the next maintenance tries again (disk full, worker gone at exit).
		}).finally(() => {
			this.sealing.delete(key);
			this.sealRuns.delete(run);
		});
		this.sealRuns.add(run);
	}

	private sealed(r: SealResult): void {
		if (r.tornBytes > 0) {
			this.state.tornLines++;
		}

		if (r.badLines > 0) {
			this.state.damagedSegments++;
		}
	}

	/** Seal leftovers, rebuild missing sidecars, apply retention, refresh the disk figures. */
	async maintain(): Promise<void> {
		const listed: SegmentFiles[] = [];
		for (const stream of streams) {
			const w = stream === 'all' ? this.all : this.errors;
			const segments = await listSegments(this.dir, stream);
			for (const s of segments) {
				w.lastN.set(s.hour, Math.max(w.lastN.get(s.hour) ?? -1, s.n));
				if (s.base === w.active?.base || this.sealing.has(`${stream}/${s.base}`) || this.sealDelay.has(stream, s.base)) {
					continue;
				}

				if (s.raw && s.gz) {
					// Sealed, then stopped before the raw file was removed.
					if (!s.index) {
						await this.sealer.index({raw: s.raw, gz: s.gz, index: indexPath(this.dir, stream, s.base)}).catch(() => undefined);
					}

					await fs.unlink(s.raw).catch(() => undefined);
				} else if (s.raw) {
					this.seal(stream, s.base);
				} else if (s.gz && !s.index) {
					const key = `${stream}/${s.base}`;
					if (!this.sealing.has(key)) {
						this.sealing.add(key);
						await this.sealer.index({raw: rawPath(this.dir, stream, s.base), gz: s.gz, index: indexPath(this.dir, stream, s.base)}).catch(() => {
							this.state.damagedSegments++;
						}).finally(() => this.sealing.delete(key));
					}
				}
			}

			listed.push(...segments);
		}

		const planned: PlannedSegment[] = listed.map(s => ({
			stream: s.stream,
			hour: s.hour,
			n: s.n,
			base: s.base,
			// A segment holds one receive hour, so its newest event is before the hour's end.
			newest: s.hour + hourMs,
			bytes: s.bytes,
			active: s.base === (s.stream === 'all' ? this.all : this.errors).active?.base || this.sealing.has(`${s.stream}/${s.base}`) || this.sealDelay.has(s.stream, s.base),
		}));
		const plan = planRetention(planned, this.options.clock(), this.options.limits);
		const gone = new Set<string>();
		for (const s of plan.remove) {
			gone.add(`${s.stream}/${s.base}`);
			await Promise.all([gzPath, indexPath, rawPath].map(async p => fs.unlink(p(this.dir, s.stream, s.base)).catch(() => undefined)));
		}

		const left = listed.filter(s => !gone.has(`${s.stream}/${s.base}`));
		this.state.bytesOnDisk = plan.bytesAfter;
		this.state.segments = left.filter(s => s.stream === 'all').length;
		this.state.oldest = left.length > 0 ? Math.min(...left.map(s => s.hour)) : undefined;
	}
}

/** Remove `*.tmp` files: a seal or sidecar cut short by a crash. */
export async function removeTemporaries(dir: string): Promise<void> {
	let names: string[];
	try {
		names = await fs.readdir(dir);
	} catch {
		return;
	}

	await Promise.all(names.filter(n => n.endsWith('.tmp')).map(async n => fs.unlink(`${dir}/${n}`).catch(() => undefined)));
}

/** Make the history directory and its streams (mode 0700). */
export async function makeHistoryDirs(dir: string): Promise<void> {
	await makeDir(dir);
	for (const stream of streams) {
		await makeDir(streamDir(dir, stream));
	}
}
