import {type Stats, constants, readSync} from 'node:fs';
import {type FileHandle, open} from 'node:fs/promises';
import {LineSplitter, type SplitLine, truncationMarker} from '../core/lines.js';
import {MultilineJoiner, type MultilineOptions} from '../core/multiline.js';
import {compareRotations, type RotatedCopy} from './file-names.js';
import {eventsArrive} from './file-poll.js';

/**
 * Open `file` for reading if it is a regular file; throws ENOTFILE when it is not. Without
 * blocking: opening a FIFO (or a device) waits for a writer, and would hold one of libuv's
 * threads, and logmon's stop, until one came.
 */
export async function openRegular(file: string): Promise<{fd: FileHandle; st: Stats}> {
	const fd = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
	try {
		const st = await fd.stat();
		if (!st.isFile()) {
			throw Object.assign(new Error(st.isDirectory() ? 'a directory, not a file' : 'not a regular file'), {code: 'ENOTFILE'});
		}

		return {fd, st};
	} catch (error) {
		await fd.close().catch(() => undefined);
		throw error;
	}
}

// One followed file: an open descriptor, the position read up to, the lines cut from what
// was read, joined into multi-line events. The source (file.ts) decides when to read
// (change events, polling) and what rotation means; this reads in order and never twice.
//
// Each read starts a few bytes before the position and checks that they are still the
// bytes read last time: when they are not (or the file is shorter), the file was truncated
// (copy-truncate rotation, or rewritten) and reading starts over from its beginning, after
// the rest of the old content has been read from the rotated copy, when one is found: a copy
// is taken only if it starts with the bytes this file started with and holds, just before the
// position, the bytes read last (log lines alike at their end do not fool it).

// On a local filesystem the reads are synchronous, one per turn of the event loop: what was just
// written is in the page cache and comes in microseconds, where a read through the thread pool
// wakes a thread on the other vCPU each time and left this one waiting (a third of the time, on
// this machine's kind). Elsewhere (NFS, FUSE: a read may block) they go through the thread pool.
//
// Small reads: the events of one read fit a pipe's buffer when written, so they are written and
// let go at once; bigger reads left most of them queued behind a full pipe, and the GC paid for it.
const chunkSize = 32 * 1024;
/** Bytes before the position checked at each read: what was read last is still there. */
const fingerprintSize = 64;
/** Bytes of the file's start kept: a rotated copy must begin with them to be taken for this file's old content. */
const headSize = 4096;

type Chunk = {buf: Buffer; bytesRead: number};

export type TailerOptions = {
	maxLine: number;
	multiline: MultilineOptions;
	/** A held multi-line event is let go after this long without more, ms. */
	multilineMs: number;
	/** A last line without its newline is let go after this long, ms. */
	partialMs: number;
};

/** What the sink is told about: a followed file or a compressed one read whole. */
export type FileReader = {
	readonly path: string;
	/** The name it was first seen under: its service and proc stay those. */
	readonly firstPath: string;
};

export type TailerSink = {
	/** One event's lines (several when joined). */
	event(file: FileReader, first: string, rest: string[] | undefined, trace: boolean): void;
	/** A read is done: publish what `event` gathered. */
	done(file: FileReader): void;
	bytes(n: number): void;
	/** Lines longer than the cap were cut. */
	cutLine(file: FileReader, bytes: number): void;
	/** The file was truncated and the rest of its old content could not be found. */
	lost(file: FileReader): void;
	/** Rotated copies that may hold the rest of this file's old content, newest first. */
	copies(file: FileReader): Promise<RotatedCopy[]>;
	/** Reading failed (EIO...): the source closes this tailer. */
	failed(file: FileReader, reason: string): void;
};

export class FileTailer implements FileReader {
	/** Where the file is now (changes when it is renamed and still matched). */
	path: string;
	position: number;
	/** When a check last found it under its name (ms since the epoch). */
	seenAt = 0;
	/** Copy-truncate rotations seen, and rotations whose old content was found in the copy. */
	truncations = 0;
	private fingerprint: Buffer;
	/** The first bytes of the file (as far as read, up to headSize). */
	private head: Buffer;
	private readonly splitter: LineSplitter;
	private readonly joiner: MultilineJoiner;
	/** Read synchronously: the file is on a local filesystem. */
	private readonly local: boolean;
	private reading: Promise<void> | undefined;
	private again = false;
	private paused = false;
	/** Set while the file that had this name before must be read first. */
	private after: Promise<void> | undefined;
	private readonly resumed: Array<() => void> = [];
	private closed = false;
	/** The last byte read was not a newline: a line is waiting for the rest of it. */
	private partial = false;
	private partialTimer: NodeJS.Timeout | undefined;
	private multilineTimer: NodeJS.Timeout | undefined;

	private constructor(
		readonly key: string,
		file: string,
		private readonly fd: FileHandle,
		position: number,
		fingerprint: Buffer,
		head: Buffer,
		private readonly options: TailerOptions,
		private readonly sink: TailerSink,
		/** The name it was first seen under: its service and proc stay those. */
		readonly firstPath = file,
	) {
		this.path = file;
		this.position = position;
		this.fingerprint = fingerprint;
		this.head = head;
		// The file's own filesystem: a link or a bind mount in a local directory may lead to NFS.
		this.local = eventsArrive(file);
		this.splitter = new LineSplitter(options.maxLine);
		this.joiner = new MultilineJoiner(options.multiline, (first, rest, trace) => {
			this.sink.event(this, first, rest, trace);
		});
	}

	/** Open a regular file, at its end or its beginning. Throws with the system's reason. */
	static async open(file: string, fromStart: boolean, options: TailerOptions, sink: TailerSink): Promise<FileTailer> {
		const {fd, st} = await openRegular(file);
		try {
			const position = fromStart ? 0 : st.size;
			let fingerprint = Buffer.alloc(0);
			let head = Buffer.alloc(0);
			if (position > 0) {
				const n = Math.min(fingerprintSize, position);
				const buf = Buffer.alloc(n);
				const {bytesRead} = await fd.read(buf, 0, n, position - n);
				fingerprint = buf.subarray(0, bytesRead);
				const h = Buffer.alloc(Math.min(headSize, position));
				head = h.subarray(0, (await fd.read(h, 0, h.length, 0)).bytesRead);
			}

			return new FileTailer(`${st.dev}:${st.ino}`, file, fd, position, fingerprint, head, options, sink);
		} catch (error) {
			await fd.close().catch(() => undefined);
			throw error;
		}
	}

	/** Something may have been written: read to the end (now, or after the read under way). */
	kick(): void {
		if (this.closed) {
			return;
		}

		if (this.reading || this.paused || this.after) {
			this.again = true;
			return;
		}

		this.reading = this.readToEnd().catch((error: unknown) => {
			this.sink.failed(this, (error as NodeJS.ErrnoException).code ?? String(error));
		}).finally(() => {
			this.reading = undefined;
			if (this.again && !this.paused) {
				this.kick();
			}
		});
	}

	/**
	 * Read nothing before `predecessor` has been read: the file that had this one's name before a
	 * rotation, whose lines come first.
	 */
	readAfter(predecessor: Promise<void>): void {
		const after = predecessor.catch(() => undefined).then(() => {
			if (this.after === after) {
				this.after = undefined;
				if (this.again) {
					this.kick();
				}
			}
		});
		this.after = after;
	}

	/** Read everything there is now (once the bus lets the sources read again, if paused), then resolve. */
	async drain(): Promise<void> {
		await this.after;
		for (;;) {
			await this.whilePaused(); // eslint-disable-line no-await-in-loop
			this.kick();
			while (this.reading) {
				await this.reading; // eslint-disable-line no-await-in-loop
			}

			if (!this.paused || this.closed) {
				return;
			}
		}
	}

	pause(): void {
		this.paused = true;
	}

	/** Resolves once the bus lets the sources read again (at once when it does already). */
	private async whilePaused(): Promise<void> {
		while (this.paused && !this.closed) {
			await new Promise<void>(resolve => { // eslint-disable-line no-await-in-loop
				this.resumed.push(resolve);
			});
		}
	}

	resume(): void {
		this.paused = false;
		for (const wake of this.resumed.splice(0)) {
			wake();
		}

		if (this.again) {
			this.kick();
		}
	}

	/** The last lines go out (a partial one too), then the descriptor is closed. */
	async close(): Promise<void> {
		if (this.closed) {
			return;
		}

		this.closed = true;
		for (const wake of this.resumed.splice(0)) {
			wake();
		}

		clearTimeout(this.partialTimer);
		clearTimeout(this.multilineTimer);
		await this.reading;
		this.lines(this.splitter.end());
		this.joiner.flush();
		this.sink.done(this);
		await this.fd.close().catch(() => undefined);
	}

	/** The held multi-line event goes out now: what comes after it is in another file. */
	flushHeld(): void {
		this.joiner.flush();
		this.sink.done(this);
	}

	/** Reading, or waiting for a predecessor. */
	get busy(): boolean {
		return this.reading !== undefined || this.after !== undefined;
	}

	get multilineCut(): number {
		return this.joiner.cut;
	}

	private async readToEnd(): Promise<void> {
		do {
			this.again = false;
			for (;;) {
				if (this.local) {
					// A turn of the event loop before each synchronous read: others get theirs (timers,
					// the sink's writes), and kick() or resume() never publish before they return (the
					// bus resumes the sources one by one, and one publishing there may pause them all).
					await new Promise(resolve => { // eslint-disable-line no-await-in-loop
						setImmediate(resolve);
					});
				}

				if (this.paused || this.closed) {
					this.again = true;
					return;
				}

				const n = await this.readOnce(); // eslint-disable-line no-await-in-loop
				if (n === 0) {
					break;
				}
			}
		} while (this.again);

		this.armTimers();
	}

	/** One read at the position; returns the new bytes (or 1 after a truncation, to read on). */
	private async readOnce(): Promise<number> {
		const back = this.fingerprint.length;
		const from = this.position - back;
		const {buf, bytesRead} = this.local ? this.readNow(from) : await this.readAt(from);
		if (bytesRead < back || buf.compare(this.fingerprint, 0, back, 0, back) !== 0) {
			await this.truncated();
			return 1;
		}

		if (bytesRead === back) {
			return 0;
		}

		this.take(buf.subarray(back, bytesRead));
		return bytesRead - back;
	}

	private readNow(from: number): Chunk {
		const buf = Buffer.allocUnsafe(chunkSize);
		return {buf, bytesRead: readSync(this.fd.fd, buf, 0, chunkSize, from)};
	}

	private async readAt(from: number): Promise<Chunk> {
		const buf = Buffer.allocUnsafe(chunkSize);
		const {bytesRead} = await this.fd.read(buf, 0, chunkSize, from);
		return {buf, bytesRead};
	}

	private take(data: Buffer): void {
		if (this.position < headSize && this.head.length === this.position) {
			this.head = Buffer.concat([this.head, data.subarray(0, headSize - this.position)]);
		}

		this.position += data.length;
		this.fingerprint = data.length >= fingerprintSize
			? Buffer.from(data.subarray(data.length - fingerprintSize))
			: Buffer.concat([this.fingerprint, data]).subarray(-fingerprintSize);
		this.partial = data[data.length - 1] !== 0x0A;
		this.sink.bytes(data.length);
		clearTimeout(this.partialTimer);
		this.partialTimer = undefined;
		this.lines(this.splitter.push(data));
		this.sink.done(this);
	}

	private lines(lines: SplitLine[]): void {
		const now = Date.now();
		for (const {text, truncated} of lines) {
			if (truncated > 0) {
				this.sink.cutLine(this, truncated);
				this.joiner.push(text + truncationMarker(truncated), now);
			} else {
				this.joiner.push(text, now);
			}
		}
	}

	/** The file is shorter than the position, or other bytes are there: read the old content's rest from its copy, then start over. */
	private async truncated(): Promise<void> {
		this.truncations++;
		// Newest first: the copy of what was being read may be older than others, made by rotations
		// that came while reading was paused; those newer copies hold whole generations not read yet,
		// oldest first, and more may come while they are read (the list is made again after each).
		let found = false;
		for (const copy of await this.sink.copies(this)) {
			if (await this.readRest(copy.path)) { // eslint-disable-line no-await-in-loop
				found = true;
				let last = copy;
				for (;;) {
					const newer = (await this.sink.copies(this)).filter(c => compareRotations(c, last) > 0); // eslint-disable-line no-await-in-loop
					const next = newer.at(-1);
					if (!next) {
						break;
					}

					this.position = 0;
					this.fingerprint = Buffer.alloc(0);
					this.head = Buffer.alloc(0);
					await this.readRest(next.path); // eslint-disable-line no-await-in-loop
					last = next;
				}

				break;
			}
		}

		if (!found) {
			this.sink.lost(this);
		}

		// A line the old content ended without its newline ends there.
		this.lines(this.splitter.end());
		this.sink.done(this);
		this.position = 0;
		this.fingerprint = Buffer.alloc(0);
		this.head = Buffer.alloc(0);
		this.partial = false;
	}

	/** Read `copy` from the position on, if its bytes before the position are the ones read here. */
	private async readRest(copy: string): Promise<boolean> {
		let fd: FileHandle;
		try {
			({fd} = await openRegular(copy));
		} catch {
			return false;
		}

		try {
			const back = this.fingerprint.length;
			const before = Buffer.alloc(back);
			const {bytesRead} = await fd.read(before, 0, back, this.position - back);
			if (bytesRead < back || !before.equals(this.fingerprint)) {
				return false;
			}

			const start = Buffer.alloc(this.head.length);
			const started = await fd.read(start, 0, start.length, 0);
			if (started.bytesRead < start.length || !start.equals(this.head)) {
				return false;
			}

			let at = this.position;
			for (;;) {
				await this.whilePaused(); // eslint-disable-line no-await-in-loop
				const buf = Buffer.allocUnsafe(chunkSize);
				const r = await fd.read(buf, 0, chunkSize, at); // eslint-disable-line no-await-in-loop
				if (r.bytesRead === 0) {
					break;
				}

				at += r.bytesRead;
				this.take(buf.subarray(0, r.bytesRead));
			}

			return true;
		} finally {
			await fd.close().catch(() => undefined);
		}
	}

	private armTimers(): void {
		if (this.partial && !this.partialTimer) {
			const at = this.position;
			this.partialTimer = setTimeout(() => {
				this.partialTimer = undefined;
				if (this.closed || this.reading || this.position !== at || !this.partial) {
					return;
				}

				this.partial = false;
				this.lines(this.splitter.end());
				this.sink.done(this);
				this.armTimers();
			}, this.options.partialMs);
			this.partialTimer.unref();
		}

		if (this.joiner.holding && !this.multilineTimer) {
			const wait = Math.max(1, this.options.multilineMs - this.joiner.heldFor(Date.now()));
			this.multilineTimer = setTimeout(() => {
				this.multilineTimer = undefined;
				if (this.closed) {
					return;
				}

				if (this.joiner.heldFor(Date.now()) >= this.options.multilineMs) {
					this.joiner.flush();
					this.sink.done(this);
				}

				this.armTimers();
			}, wait);
			this.multilineTimer.unref();
		}
	}
}
