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
	private parts: Buffer[] = [];
	private pending = 0; // bytes in parts
	private skipping = 0; // bytes skipped of an over-long line
	private skippedHead: Buffer | undefined;

	constructor(private readonly maxLine = defaultMaxLine) {}

	/** Feed a chunk; returns the complete lines in it. */
	push(chunk: Buffer): SplitLine[] {
		const out: SplitLine[] = [];
		let start = 0;
		for (;;) {
			const nl = chunk.indexOf(0x0A, start);
			if (nl === -1) {
				this.keep(chunk.subarray(start), out);
				break;
			}

			if (this.pending === 0 && this.skipping === 0 && nl - start <= this.maxLine) {
				// The usual line, whole in this chunk: decoded where it lies, no copy and no view made.
				const end = nl > start && chunk[nl - 1] === 0x0D ? nl - 1 : nl;
				out.push({text: chunk.toString('utf8', start, end), truncated: 0});
			} else {
				this.keep(chunk.subarray(start, nl), out);
				this.finishLine(out);
			}

			start = nl + 1;
		}

		return out;
	}

	/** End of input: the last line, if it had no newline. */
	end(): SplitLine[] {
		const out: SplitLine[] = [];
		if (this.pending > 0 || this.skipping > 0) {
			this.finishLine(out);
		}

		return out;
	}

	private keep(piece: Buffer, out: SplitLine[]): void {
		if (piece.length === 0) {
			return;
		}

		if (this.skipping > 0) {
			this.skipping += piece.length;
			return;
		}

		const room = this.maxLine - this.pending;
		if (piece.length <= room) {
			this.parts.push(piece);
			this.pending += piece.length;
			return;
		}

		// Over the cap: keep the head, count the rest until the newline.
		this.parts.push(piece.subarray(0, room));
		this.pending += room;
		this.skippedHead = Buffer.concat(this.parts, this.pending);
		this.parts = [];
		this.pending = 0;
		this.skipping = piece.length - room;
		void out;
	}

	private finishLine(out: SplitLine[]): void {
		if (this.skipping > 0) {
			out.push({text: decode(this.skippedHead!), truncated: this.skipping});
			this.skippedHead = undefined;
			this.skipping = 0;
			return;
		}

		const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.pending);
		this.parts = [];
		this.pending = 0;
		out.push({text: decode(buf), truncated: 0});
	}
}

/** UTF-8 decode; invalid sequences become U+FFFD. Drops a trailing \r (CRLF input). */
function decode(buf: Buffer): string {
	const end = buf.length > 0 && buf[buf.length - 1] === 0x0D ? buf.length - 1 : buf.length;
	return buf.toString('utf8', 0, end);
}
