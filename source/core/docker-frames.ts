import {LineSplitter} from './lines.js';

// The byte streams of the Docker Engine's logs endpoint, to lines. Pure: no I/O.
//
// - A container without a TTY is read as a multiplexed stream of frames: an 8-byte header
//   [stream (1 stdout, 2 stderr), 0, 0, 0, payload size as uint32 big-endian], then the
//   payload. Frames do not line up with HTTP chunks: a header or payload may be cut anywhere.
// - A TTY container's stream is raw: no headers, stderr merged into stdout, lines end in CR LF.
// - With timestamps=1 each log message starts with its RFC 3339 time and a space.
// - Docker cuts a line longer than 16 KiB into partial messages of 16,384 bytes without a
//   newline, each with the timestamp of the line's first part. They are joined per stream
//   until the newline, and the repeated timestamps dropped.

export type DockerStream = 'stdout' | 'stderr';

export type DockerLine = {
	stream: DockerStream;
	/** The line without its timestamp and line end. */
	text: string;
	/** The timestamp as Docker wrote it; '' when there was none. */
	stamp: string;
	/** Bytes cut off an over-long line (0 when whole). */
	truncated: number;
};

/** Docker's log copier cuts lines at this many bytes into partial messages. */
export const partialBytes = 16 * 1024;
/** Longest timestamp prefix looked for, with its space. */
const maxStamp = 40;
const stampPattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/;

/** Length of the timestamp and space at `from`, or 0 when none starts there. */
function stampLength(buf: Buffer, from: number): number {
	const first = buf[from];
	if (first === undefined || first < 0x30 || first > 0x39) {
		return 0;
	}

	const end = Math.min(buf.length, from + maxStamp);
	for (let i = from + 20; i < end; i++) {
		if (buf[i] === 0x20) {
			return stampPattern.test(buf.toString('latin1', from, i)) ? i - from + 1 : 0;
		}
	}

	return 0;
}

/** Splits "stamp text" into its parts; a line without a timestamp keeps it all as text. */
function splitStamp(line: string, timestamps: boolean): {stamp: string; text: string} {
	if (!timestamps) {
		return {stamp: '', text: line};
	}

	const space = line.indexOf(' ');
	if (space < 20 || space > maxStamp || !stampPattern.test(line.slice(0, space))) {
		return {stamp: '', text: line};
	}

	return {stamp: line.slice(0, space), text: line.slice(space + 1)};
}

/**
 * One stream's messages (frames, or the messages cut from a raw stream) to lines. A message
 * that starts while a line is unfinished is a partial message's continuation: its copy of
 * the line's timestamp is dropped.
 */
class StreamLines {
	private readonly splitter: LineSplitter;
	/** The timestamp prefix (with its space) of the unfinished line. */
	private lineStamp: Buffer | undefined;
	private midLine = false;

	constructor(readonly stream: DockerStream, private readonly maxLine: number, private readonly timestamps: boolean) {
		// Room for the stamp, which is not part of the line; what is left past maxLine is cut in collect.
		this.splitter = new LineSplitter(maxLine + maxStamp);
	}

	/** `start`: this piece begins a message (a frame). */
	push(piece: Buffer, start: boolean, out: DockerLine[]): void {
		if (piece.length === 0) {
			return;
		}

		if (start && this.midLine && this.lineStamp && piece.length >= this.lineStamp.length && piece.subarray(0, this.lineStamp.length).equals(this.lineStamp)) {
			piece = piece.subarray(this.lineStamp.length);
		}

		if (this.timestamps) {
			const nl = piece.lastIndexOf(0x0A);
			if (nl === -1) {
				if (!this.midLine) {
					this.rememberStamp(piece, 0);
				}
			} else if (nl < piece.length - 1) {
				this.rememberStamp(piece, nl + 1);
			}
		}

		this.midLine = piece.length > 0 ? piece[piece.length - 1] !== 0x0A : this.midLine;
		this.collect(this.splitter.push(piece), out);
	}

	end(out: DockerLine[]): void {
		this.midLine = false;
		this.collect(this.splitter.end(), out);
	}

	private rememberStamp(piece: Buffer, from: number): void {
		const n = stampLength(piece, from);
		this.lineStamp = n > 0 ? Buffer.from(piece.subarray(from, from + n)) : undefined;
	}

	private collect(lines: Array<{text: string; truncated: number}>, out: DockerLine[]): void {
		for (const {text, truncated} of lines) {
			const {stamp, text: rest} = splitStamp(text, this.timestamps);
			// UTF-16 units never outnumber bytes, and a unit is at most 3 bytes: most lines need no count.
			if (rest.length * 3 > this.maxLine && Buffer.byteLength(rest) > this.maxLine) {
				const bytes = Buffer.from(rest);
				let cut = this.maxLine;
				while (cut > 0 && (bytes[cut]! & 0xC0) === 0x80) {
					cut--; // not inside a character
				}

				// When the splitter cut the line, its end may be half a character (one U+FFFD): count from what came.
				const came = truncated > 0 ? this.maxLine + maxStamp + truncated - (stamp === '' ? 0 : stamp.length + 1) : bytes.length;
				out.push({stream: this.stream, text: bytes.toString('utf8', 0, cut), stamp, truncated: came - cut});
				continue;
			}

			out.push({stream: this.stream, text: rest, stamp, truncated});
		}
	}
}

export type FrameOptions = {
	/** Longest line kept whole, bytes (without its timestamp). */
	maxLine: number;
	/** The stream was asked for with timestamps=1. */
	timestamps: boolean;
};

/** A non-TTY container's multiplexed stream. */
export class FrameDemuxer {
	/** Frames with a stream byte other than 1 or 2 (stdin's 0 included): their payload is skipped. */
	badFrames = 0;
	private readonly streams: [StreamLines, StreamLines];
	private readonly header = Buffer.alloc(8);
	private headerFill = 0;
	private remaining = 0;
	private current: StreamLines | undefined;
	/** Parts of the current frame, joined when it completes (frames up to `frameCap`). */
	private parts: Buffer[] = [];
	private streaming = false;
	/** Some of the current (streamed) frame was already passed on. */
	private streamedSome = false;
	private readonly frameCap: number;

	constructor(options: FrameOptions) {
		this.streams = [new StreamLines('stdout', options.maxLine, options.timestamps), new StreamLines('stderr', options.maxLine, options.timestamps)];
		this.frameCap = Math.max(options.maxLine + maxStamp, 64 * 1024);
	}

	push(chunk: Buffer): DockerLine[] {
		const out: DockerLine[] = [];
		let at = 0;
		while (at < chunk.length) {
			if (this.remaining === 0 && this.headerFill < 8) {
				const n = Math.min(8 - this.headerFill, chunk.length - at);
				chunk.copy(this.header, this.headerFill, at, at + n);
				this.headerFill += n;
				at += n;
				if (this.headerFill < 8) {
					break;
				}

				this.beginFrame();
				continue;
			}

			const n = Math.min(this.remaining, chunk.length - at);
			this.take(chunk.subarray(at, at + n), out);
			at += n;
			this.remaining -= n;
			if (this.remaining === 0) {
				this.finishFrame(out);
			}
		}

		return out;
	}

	/** End of the stream: unfinished lines, as they are. */
	end(): DockerLine[] {
		const out: DockerLine[] = [];
		if (this.remaining > 0) {
			this.finishFrame(out);
		}

		for (const s of this.streams) {
			s.end(out);
		}

		return out;
	}

	private beginFrame(): void {
		const type = this.header[0]!;
		const size = this.header.readUInt32BE(4);
		this.headerFill = 0;
		this.current = type === 1 || type === 2 ? this.streams[type - 1] : undefined;
		if (!this.current) {
			this.badFrames++;
		}

		this.remaining = size;
		this.streaming = size > this.frameCap;
		this.streamedSome = false;
		this.parts = [];
		if (size === 0) {
			this.current = undefined;
		}
	}

	private take(piece: Buffer, out: DockerLine[]): void {
		if (!this.current) {
			return;
		}

		if (this.streaming) {
			// Too big to hold: passed on as it comes (only the first piece can drop a repeated timestamp).
			this.current.push(piece, !this.streamedSome, out);
			this.streamedSome = true;
			return;
		}

		this.parts.push(piece);
	}

	private finishFrame(out: DockerLine[]): void {
		const s = this.current;
		if (s && !this.streaming && this.parts.length > 0) {
			const payload = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
			s.push(payload, true, out);
		}

		this.parts = [];
		this.current = undefined;
		this.remaining = 0;
		this.streaming = false;
	}
}

/**
 * A TTY container's raw stream. Its messages have no headers, so they are found again:
 * a message ends at a newline, or, with timestamps, after 16 KiB past its timestamp (a partial one).
 */
export class RawLines {
	private readonly lines: StreamLines;
	/** Bytes of the current message's timestamp seen so far, until its space. */
	private head: Buffer[] = [];
	private headBytes = 0;
	/** Bytes left in the current message before a partial message's cut; -1 while reading the timestamp. */
	private left = -1;

	constructor(private readonly options: FrameOptions) {
		this.lines = new StreamLines('stdout', options.maxLine, options.timestamps);
	}

	push(chunk: Buffer): DockerLine[] {
		const out: DockerLine[] = [];
		if (!this.options.timestamps) {
			this.lines.push(chunk, false, out);
			return out;
		}

		let at = 0;
		while (at < chunk.length) {
			if (this.left === -1) {
				at = this.readStamp(chunk, at, out);
				continue;
			}

			const end = Math.min(chunk.length, at + this.left);
			const nl = chunk.indexOf(0x0A, at);
			if (nl !== -1 && nl < end) {
				this.lines.push(chunk.subarray(at, nl + 1), false, out);
				at = nl + 1;
				this.left = -1;
				continue;
			}

			this.lines.push(chunk.subarray(at, end), false, out);
			this.left -= end - at;
			at = end;
			if (this.left === 0) {
				// A partial message ends here; the next one repeats the timestamp.
				this.left = -1;
			}
		}

		return out;
	}

	end(): DockerLine[] {
		const out: DockerLine[] = [];
		if (this.headBytes > 0) {
			this.lines.push(Buffer.concat(this.head), true, out);
			this.head = [];
			this.headBytes = 0;
		}

		this.lines.end(out);
		return out;
	}

	/** Gathers a message's start until its timestamp's space (or a newline, or too long for one), then hands it on. */
	private readStamp(chunk: Buffer, at: number, out: DockerLine[]): number {
		const limit = Math.min(chunk.length, at + maxStamp - this.headBytes);
		let stop = -1;
		for (let i = at; i < limit; i++) {
			const b = chunk[i];
			if (b === 0x20 || b === 0x0A) {
				stop = i;
				break;
			}
		}

		if (stop === -1 && limit === chunk.length && this.headBytes + (limit - at) < maxStamp) {
			// The timestamp may go on in the next chunk.
			this.head.push(Buffer.from(chunk.subarray(at)));
			this.headBytes += chunk.length - at;
			return chunk.length;
		}

		const end = stop === -1 ? limit : stop + 1;
		this.head.push(chunk.subarray(at, end));
		const message = Buffer.concat(this.head);
		this.head = [];
		this.headBytes = 0;
		this.lines.push(message, true, out);
		const stamped = stop !== -1 && chunk[stop] === 0x20 && stampLength(message, 0) === message.length;
		if (message[message.length - 1] === 0x0A) {
			this.left = -1;
		} else {
			this.left = stamped ? partialBytes : Number.POSITIVE_INFINITY;
		}

		return end;
	}
}
