// Finding a literal (a --grep literal, a service's field) in a chunk of stored text, fast.
// Buffer#indexOf looks for a needle of 7 bytes or more with Boyer-Moore-Horspool, about 2 GB/s
// on log text; for a shorter one it runs memchr on the needle's first byte, whose speed is set by
// how rare that byte is: `user ` runs at 9 GB/s, ` for user ` at 2. So a literal is looked for by
// a piece of 5 or 6 of its bytes (all of a shorter one) that begins with the rarest byte such a
// piece can begin with (counted in a sample of the text), and each place found is checked against the whole
// literal. No fs calls.

/** The longest piece Buffer#indexOf searches with memchr on its first byte. */
const pieceBytes = 6;

/** Bytes of the first chunk counted to tell a literal's rarest byte. */
const sampleBytes = 64 * 1024;

export class LiteralFinder {
	/** Where the searched piece starts in the literal. */
	private offset = 0;
	private piece: Uint8Array;
	private tuned = false;

	constructor(readonly literal: Uint8Array) {
		this.piece = literal.subarray(0, pieceBytes);
	}

	/** Where the literal is in `chunk` from `from` on; -1 when it is not. */
	indexOf(chunk: Buffer, from = 0): number {
		if (!this.tuned) {
			this.tune(chunk);
		}

		const {literal, offset, piece} = this;
		const whole = piece.length === literal.length;
		for (let at = chunk.indexOf(piece, from + offset); at >= 0; at = chunk.indexOf(piece, at + 1)) {
			const start = at - offset;
			if (whole || this.holdsAt(chunk, start)) {
				return start;
			}
		}

		return -1;
	}

	/** Pick the piece by the bytes of `sample`, the first text searched. */
	private tune(sample: Uint8Array): void {
		this.tuned = true;
		const {literal} = this;
		if (literal.length <= 1 || sample.length === 0) {
			return;
		}

		const counts = new Uint32Array(256);
		const end = Math.min(sample.length, sampleBytes);
		for (let i = 0; i < end; i++) {
			counts[sample[i]!]!++;
		}

		// A piece of at least 5 bytes (a shorter one is found in many places that are not the literal).
		const shortest = Math.min(literal.length, pieceBytes - 1);
		let rarest = 0;
		for (let i = 1; i + shortest <= literal.length; i++) {
			if (counts[literal[i]!]! < counts[literal[rarest]!]!) {
				rarest = i;
			}
		}

		this.offset = rarest;
		this.piece = literal.subarray(rarest, rarest + pieceBytes);
	}

	private holdsAt(chunk: Uint8Array, start: number): boolean {
		const {literal} = this;
		if (start < 0 || start + literal.length > chunk.length) {
			return false;
		}

		for (let i = 0; i < literal.length; i++) {
			if (chunk[start + i] !== literal[i]) {
				return false;
			}
		}

		return true;
	}
}
