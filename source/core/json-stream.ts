// A streaming decoder for concatenated JSON values: `{"a":1}{"b":2} [3]\n{"c":4}`.
// This is the logio publisher framing (protocols.md §2.1): values follow each other
// with optional whitespace, so NDJSON is accepted too. Chunks may be split at any
// byte, even inside a UTF-8 character: the decoder only finds where each value
// ends (brackets, strings, escapes) and hands whole values to JSON.parse, so
// decoding is exact. One value is capped in size and nesting depth; after the
// first error the decoder stops and the caller drops the connection. Pure: no I/O.

export const defaultMaxValueBytes = 1024 * 1024;
export const defaultMaxDepth = 128;

export type JsonStreamOptions = {
	/** Largest single value, bytes. */
	maxValueBytes?: number;
	/** Deepest nesting of objects and arrays. */
	maxDepth?: number;
};

const space = 0x20;
const tab = 0x09;
const lf = 0x0A;
const cr = 0x0D;
const quote = 0x22;
const backslash = 0x5C;
const openBrace = 0x7B;
const closeBrace = 0x7D;
const openBracket = 0x5B;
const closeBracket = 0x5D;

/** Bytes that end a bare top-level scalar (number, true, false, null). */
function endsScalar(c: number): boolean {
	return c === space || c === lf || c === cr || c === tab || c === openBrace || c === openBracket
		|| c === quote || c === closeBrace || c === closeBracket || c === 0x2C /* , */ || c === 0x3A /* : */;
}

function startsScalar(c: number): boolean {
	// - 0-9 t f n
	return c === 0x2D || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6E;
}

/** A byte as an error message shows it: 'x', or '\x00' when it is not printable ASCII. */
function describeByte(c: number): string {
	return c >= 0x20 && c < 0x7F ? `'${String.fromCharCode(c)}'` : `'\\x${c.toString(16).padStart(2, '0')}'`;
}

export class JsonStreamDecoder {
	/** Set on the first error; the decoder then ignores further input. */
	error: string | undefined;
	/** Complete values decoded so far. */
	values = 0;
	private readonly maxValueBytes: number;
	private readonly maxDepth: number;
	// The value in progress.
	private inValue = false;
	private parts: Buffer[] = []; // its bytes from earlier chunks
	private partBytes = 0;
	private depth = 0;
	private inString = false;
	private escaped = false; // a backslash ended the previous chunk
	private scalar = false; // a bare number or literal at the top level

	constructor(options: JsonStreamOptions = {}) {
		this.maxValueBytes = options.maxValueBytes ?? defaultMaxValueBytes;
		this.maxDepth = options.maxDepth ?? defaultMaxDepth;
	}

	/** Bytes held for a value that has not ended yet. */
	get pendingBytes(): number {
		return this.partBytes;
	}

	/** Feed a chunk; returns the values it completed. After an error, `error` is set and the rest is ignored. */
	push(chunk: Uint8Array): unknown[] {
		const out: unknown[] = [];
		if (this.error !== undefined) {
			return out;
		}

		const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
		const n = buf.length;
		let i = 0;
		let start = 0; // where the value in progress starts in this chunk
		while (i < n) {
			if (!this.inValue) {
				const c = buf[i]!;
				if (c === space || c === lf || c === cr || c === tab) {
					i++;
					continue;
				}

				start = i;
				this.inValue = true;
				this.depth = 0;
				if (c === openBrace || c === openBracket) {
					this.depth = 1;
				} else if (c === quote) {
					this.inString = true;
				} else if (startsScalar(c)) {
					this.scalar = true;
				} else {
					this.fail(`invalid character ${describeByte(c)} looking for beginning of value`);
					return out;
				}

				i++;
			}

			const end = this.scalar ? this.scanScalar(buf, i) : this.scan(buf, i);
			if (this.error !== undefined) {
				return out;
			}

			if (end === -1) {
				// The value goes on in the next chunk.
				this.keep(buf.subarray(start));
				return out;
			}

			if (this.partBytes + (end - start) > this.maxValueBytes) {
				this.tooLong();
				return out;
			}

			this.finish(buf, start, end, out);
			if (this.error !== undefined) {
				return out;
			}

			i = end;
		}

		return out;
	}

	/** End of input: a trailing bare scalar completes; an unfinished value is an error (returned and kept in `error`). */
	end(): {values: unknown[]; error: string | undefined} {
		const out: unknown[] = [];
		if (this.error === undefined && this.inValue) {
			if (this.scalar) {
				this.finish(Buffer.alloc(0), 0, 0, out);
			} else {
				this.fail('unexpected EOF');
			}
		}

		return {values: out, error: this.error};
	}

	/** The caller is closing the connection: free what is held and ignore further input. */
	discard(): void {
		if (this.error === undefined) {
			this.fail('input discarded');
		}
	}

	// Scan a string, object or array from `i`; returns the index after its end, or -1 when the chunk ends first.
	private scan(buf: Buffer, i: number): number {
		const n = buf.length;
		let depth = this.depth;
		let inString = this.inString;
		if (this.escaped) {
			this.escaped = false;
			i++;
		}

		while (i < n) {
			if (inString) {
				// Inside a string only a quote or a backslash matters.
				let c = buf[i]!;
				while (c !== quote && c !== backslash) {
					if (++i === n) {
						break;
					}

					c = buf[i]!;
				}

				if (i === n) {
					break;
				}

				if (c === backslash) {
					i += 2;
					if (i > n) {
						this.escaped = true;
						i = n;
					}

					continue;
				}

				inString = false;
				i++;
				if (depth === 0) {
					// A top-level string ends here.
					this.depth = 0;
					this.inString = false;
					return i;
				}

				continue;
			}

			const c = buf[i++]!;
			if (c === quote) {
				inString = true;
			} else if (c === openBrace || c === openBracket) {
				if (++depth > this.maxDepth) {
					this.fail(`JSON nested deeper than ${this.maxDepth} levels`);
					return -1;
				}
			} else if ((c === closeBrace || c === closeBracket) && --depth === 0) {
				this.depth = 0;
				this.inString = false;
				return i;
			}
		}

		this.depth = depth;
		this.inString = inString;
		return -1;
	}

	private scanScalar(buf: Buffer, i: number): number {
		const n = buf.length;
		while (i < n) {
			if (endsScalar(buf[i]!)) {
				return i;
			}

			i++;
		}

		return -1;
	}

	private keep(piece: Buffer): void {
		if (piece.length === 0) {
			return;
		}

		this.partBytes += piece.length;
		if (this.partBytes > this.maxValueBytes) {
			this.tooLong();
			return;
		}

		// Copy: the caller may reuse its buffer, and a small slice must not pin a large one.
		this.parts.push(Buffer.from(piece));
	}

	private finish(buf: Buffer, start: number, end: number, out: unknown[]): void {
		let text: string;
		if (this.parts.length === 0) {
			text = buf.toString('utf8', start, end);
		} else {
			this.parts.push(buf.subarray(start, end));
			text = Buffer.concat(this.parts).toString('utf8');
			this.parts = [];
			this.partBytes = 0;
		}

		this.inValue = false;
		this.scalar = false;
		this.inString = false;
		this.depth = 0;
		try {
			out.push(JSON.parse(text));
			this.values++;
		} catch (error) {
			this.fail(error instanceof Error ? error.message : String(error));
		}
	}

	private tooLong(): void {
		this.fail(`a JSON value is longer than ${this.maxValueBytes} bytes`);
	}

	private fail(reason: string): void {
		this.error = reason;
		this.parts = [];
		this.partBytes = 0;
		this.inValue = false;
	}
}
