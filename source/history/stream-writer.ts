import {constants} from 'node:fs';
import fs, {type FileHandle} from 'node:fs/promises';
import {type LogEvent} from '../core/event.js';
import {encodeEvent, encodeEventInto, hourMs, hourOf, segmentBase} from './format.js';
import {type Stream} from './retention-plan.js';
import {fileMode, makeDir, rawPath, streamDir} from './segments.js';

// One segment stream of the writer (all/ or errors/): the lines pending for it, split by receive
// hour, and its active segment file. Lines are encoded straight into 1 MiB buffers (off the JS
// heap, so the GC never copies them) and appended with one writev per hour's chunk.

/** Lines received within one hour, as UTF-8 bytes. */
export type Chunk = {hour: number; parts: Buffer[]; lines: number; bytes: number};

export type Active = {base: string; hour: number; file: string; handle: FileHandle; size: number};

/** Pending lines are encoded into buffers this big: off the JS heap, so the GC never copies them. */
const bufferBytes = 1024 * 1024;

/** One segment stream (all/ or errors/): its pending lines and its active segment. */
export class StreamWriter {
	chunks: Chunk[] = [];
	private current: Chunk | undefined;
	private hourStart = 0;
	private hourEnd = -1;
	private buf = Buffer.allocUnsafe(0);
	private start = 0; // where the current chunk's bytes begin in buf
	private offset = 0; // where the next line goes
	active: Active | undefined;
	/** The highest segment number used per hour. */
	readonly lastN = new Map<number, number>();

	constructor(readonly stream: Stream, private readonly dir: string) {}

	/** The chunk of this receive time's hour. */
	private chunkFor(receivedAt: number): Chunk {
		if (receivedAt >= this.hourEnd || receivedAt < this.hourStart) {
			this.closePart();
			this.hourStart = hourOf(receivedAt);
			this.hourEnd = this.hourStart + hourMs;
			this.current = {hour: this.hourStart, parts: [], lines: 0, bytes: 0};
			this.chunks.push(this.current);
		}

		return this.current!;
	}

	/** Make room for `bytes` more in buf, closing off the part written so far. */
	private room(bytes: number): void {
		if (this.offset + bytes > this.buf.length) {
			this.closePart();
			this.buf = Buffer.allocUnsafe(Math.max(bufferBytes, bytes));
			this.start = 0;
			this.offset = 0;
		}
	}

	/** Close off the bytes written into buf since `start` as a part of the current chunk. */
	private closePart(): void {
		if (this.current && this.offset > this.start) {
			this.current.parts.push(this.buf.subarray(this.start, this.offset));
			this.current.bytes += this.offset - this.start;
			this.start = this.offset;
		}
	}

	/** Encode one event; returns where its bytes are, for the errors stream to copy. */
	push(e: LogEvent): {buf: Buffer; from: number; to: number} {
		const chunk = this.chunkFor(e.receivedAt);
		let to = encodeEventInto(e, this.buf, this.offset);
		if (to < 0) {
			// A line longer than what is left: a new buffer, as big as it needs.
			const line = encodeEvent(e);
			this.room(Buffer.byteLength(line));
			to = this.offset + this.buf.write(line, this.offset);
		}

		const from = this.offset;
		this.offset = to;
		chunk.lines++;
		return {buf: this.buf, from, to};
	}

	pushBytes(bytes: Buffer, from: number, to: number, receivedAt: number): void {
		const chunk = this.chunkFor(receivedAt);
		this.room(to - from);
		this.offset += bytes.copy(this.buf, this.offset, from, to);
		chunk.lines++;
	}

	take(): Chunk[] {
		this.closePart();
		const out = this.chunks;
		this.chunks = [];
		this.current = undefined;
		this.hourEnd = -1;
		return out;
	}

	/** Append one chunk, rolling first when its hour differs or the segment is full. Returns a rolled segment. */
	async write(chunk: Chunk, segmentBytes: number): Promise<Active | undefined> {
		let rolled: Active | undefined;
		if (this.active && (this.active.hour !== chunk.hour || this.active.size >= segmentBytes)) {
			rolled = this.active;
			this.active = undefined;
			await rolled.handle.close();
		}

		this.active ??= await this.open(chunk.hour);
		const a = this.active;
		let parts = chunk.parts;
		let done = 0;
		try {
			// One writev per chunk; a short write (disk nearly full) continues with what is left.
			while (done < chunk.bytes) {
				const {bytesWritten} = await a.handle.writev(parts);
				done += bytesWritten;
				if (done < chunk.bytes) {
					parts = remainder(chunk.parts, done);
				}
			}
		} catch (error) {
			// Take back what landed of this batch, so the segment ends on a whole line.
			await a.handle.truncate(a.size).catch(() => undefined);
			throw error;
		}

		a.size += chunk.bytes;
		return rolled;
	}

	/** Close the active segment after a failure or at exit; returns it for sealing. */
	async abandon(): Promise<Active | undefined> {
		const a = this.active;
		this.active = undefined;
		await a?.handle.close().catch(() => undefined);
		return a;
	}

	private async open(hour: number): Promise<Active> {
		await makeDir(streamDir(this.dir, this.stream));
		for (;;) {
			const n = (this.lastN.get(hour) ?? -1) + 1;
			this.lastN.set(hour, n);
			const base = segmentBase(hour, n);
			const file = rawPath(this.dir, this.stream, base);
			let handle: FileHandle;
			try {
				handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, fileMode);
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
					continue;
				}

				throw error;
			}

			await handle.chmod(fileMode);
			return {base, hour, file, handle, size: 0};
		}
	}
}

/** The parts after the first `skip` bytes. */
function remainder(parts: Buffer[], skip: number): Buffer[] {
	const out: Buffer[] = [];
	for (const p of parts) {
		if (skip >= p.length) {
			skip -= p.length;
		} else {
			out.push(skip > 0 ? p.subarray(skip) : p);
			skip = 0;
		}
	}

	return out;
}

