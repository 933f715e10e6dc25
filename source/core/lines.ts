import {isAscii} from 'node:buffer';

// Splits a byte stream into lines. Chunks may end anywhere, including inside a
// UTF-8 character; lines are only cut at \n, so decoding whole lines is exact.
// A line longer than the cap is cut there, marked, and the rest of it skipped,
// so one endless line can neither hang logmon nor grow its memory.

export const defaultMaxLine = 1024 * 1024;

export type SplitLine = {
	text: string;
	/** Bytes cut off the end of an over-long line (0 when whole). */
	truncated: number;
};

export function truncationMarker(bytes: number): string {
	return ` …[truncated ${bytes} bytes]`;
}

export class LineSplitter {
	/** The unfinished line, copied: [0, pending). A view would hold the whole chunk it lies in, per piece. */
	private held = Buffer.alloc(0);
	private pending = 0;
	private skipping = 0; // bytes skipped of an over-long line
	private skippedHead: Buffer | undefined;

	constructor(private readonly maxLine = defaultMaxLine) {}

	/** Feed a chunk; returns the complete lines in it. */
	push(chunk: Buffer): SplitLine[] {
		const out: SplitLine[] = [];
		let start = 0;
		// A line begun in an earlier chunk ends at this chunk's first newline.
		if (this.pending > 0 || this.skipping > 0) {
			const nl = chunk.indexOf(0x0A);
			if (nl === -1) {
				this.keep(chunk);
				return out;
			}

			this.keep(chunk.subarray(0, nl));
			this.finishLine(out);
			start = nl + 1;
		}

		// Most chunks are ASCII: their whole lines are decoded a few KiB at a time and cut from
		// that text, where a decode per line costs three times as much. A line is a slice of its
		// piece's text and keeps it alive: the pieces are small, so an event kept alone (an error
		// group's latest) keeps some 4 KiB alive, not a whole chunk of 64.
		const last = chunk.lastIndexOf(0x0A);
		if (last > start && isAscii(chunk.subarray(start, last))) {
			while (start < last) {
				const to = last - start <= asciiPiece ? last : chunk.indexOf(0x0A, start + asciiPiece);
				this.asciiLines(chunk, start, to, out);
				start = to + 1;
			}
		}

		for (;;) {
			const nl = chunk.indexOf(0x0A, start);
			if (nl === -1) {
				this.keep(chunk.subarray(start));
				break;
			}

			if (nl - start <= this.maxLine) {
				// The usual line, whole in this chunk: decoded where it lies, no copy and no view made.
				const end = nl > start && chunk[nl - 1] === 0x0D ? nl - 1 : nl;
				out.push({text: chunk.toString('utf8', start, end), truncated: 0});
			} else {
				this.keep(chunk.subarray(start, nl));
				this.finishLine(out);
			}

			start = nl + 1;
		}

		return out;
	}

	/** The lines of chunk[from, to), `to` being a newline and the bytes ASCII (one byte, one character). */
	private asciiLines(chunk: Buffer, from: number, to: number, out: SplitLine[]): void {
		const text = chunk.toString('latin1', from, to);
		let start = 0;
		for (;;) {
			const found = text.indexOf('\n', start);
			const nl = found === -1 ? text.length : found;
			if (nl - start <= this.maxLine) {
				const end = nl > start && text.charCodeAt(nl - 1) === 0x0D ? nl - 1 : nl;
				out.push({text: text.slice(start, end), truncated: 0});
			} else {
				this.keep(chunk.subarray(from + start, from + nl));
				this.finishLine(out);
			}

			if (found === -1) {
				return;
			}

			start = nl + 1;
		}
	}

	/** End of input: the last line, if it had no newline. */
	end(): SplitLine[] {
		const out: SplitLine[] = [];
		if (this.pending > 0 || this.skipping > 0) {
			this.finishLine(out);
		}

		return out;
	}

	private keep(piece: Buffer): void {
		if (piece.length === 0) {
			return;
		}

		if (this.skipping > 0) {
			this.skipping += piece.length;
			return;
		}

		const room = this.maxLine - this.pending;
		this.append(piece.length <= room ? piece : piece.subarray(0, room));
		if (piece.length <= room) {
			return;
		}

		// Over the cap: keep the head, count the rest until the newline.
		this.skippedHead = this.held.subarray(0, this.pending);
		this.held = Buffer.alloc(0);
		this.pending = 0;
		this.skipping = piece.length - room;
	}

	private append(piece: Buffer): void {
		const needed = this.pending + piece.length;
		if (needed > this.held.length) {
			const larger = Buffer.allocUnsafe(Math.min(this.maxLine, Math.max(needed, 2 * this.held.length, 256)));
			this.held.copy(larger, 0, 0, this.pending);
			this.held = larger;
		}

		piece.copy(this.held, this.pending);
		this.pending = needed;
	}

	private finishLine(out: SplitLine[]): void {
		if (this.skipping > 0) {
			out.push({text: decode(this.skippedHead!), truncated: this.skipping});
			this.skippedHead = undefined;
			this.skipping = 0;
			return;
		}

		out.push({text: decode(this.held.subarray(0, this.pending)), truncated: 0});
		this.pending = 0;
		// A buffer grown for one long line is not kept for the next ones (a thousand files follow each their own).
		if (this.held.length > keptBytes) {
			this.held = Buffer.alloc(0);
		}
	}
}

/** Bytes of ASCII lines decoded at once: enough to spread the cost of a decode over some 30 lines. */
const asciiPiece = 4096;

/** The unfinished line's buffer kept between lines, at most. */
const keptBytes = 64 * 1024;

/** UTF-8 decode; invalid sequences become U+FFFD. Drops a trailing \r (CRLF input). */
function decode(buf: Buffer): string {
	const end = buf.length > 0 && buf[buf.length - 1] === 0x0D ? buf.length - 1 : buf.length;
	return buf.toString('utf8', 0, end);
}
