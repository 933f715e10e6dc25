import {fingerprint, fingerprintLength} from './errors.js';

// Fingerprints for newTerm rules, remembered by the message's shape: its text with its digits
// alike. The fingerprint masks every digit (each is part of a number, an id, an address, a time…)
// and its mask depends on where digits are, not on which they are, but for one: a 0 before an x
// ("0x1f", hex). So messages that differ only in their other digits (counters, durations, ids and
// times of one width) share a fingerprint, worked out once. A shape costs a pass over the text; a
// fingerprint, a masking pass of a dozen patterns, several times more.

const zero = 48;
const nine = 57;
/** What a digit counts as in a shape; a 0 before an x or X counts as itself. */
const digit = 0x1_00_00;
const hexZero = 0x1_00_01;

function shapeCode(text: string, i: number): number {
	const c = text.charCodeAt(i);
	if (c < zero || c > nine) {
		return c;
	}

	if (c === zero && i + 1 < text.length) {
		const next = text.charCodeAt(i + 1);
		if (next === 120 || next === 88) {
			return hexZero;
		}
	}

	return digit;
}

/** Same length, and the same shape at every place. */
function sameShape(known: string, message: string, length: number): boolean {
	if (known.length !== length) {
		return false;
	}

	for (let i = 0; i < length; i++) {
		if (known.charCodeAt(i) !== message.charCodeAt(i) && shapeCode(known, i) !== shapeCode(message, i)) {
			return false;
		}
	}

	return true;
}

export class ShapeFingerprints {
	/** By a hash of the shape: the first message of that shape and its fingerprint. */
	private readonly known = new Map<number, {message: string; fingerprint: string}>();

	/** At most `max` shapes; then they are forgotten all at once, and learnt again. */
	constructor(readonly max = 4096) {}

	get(message: string): string {
		// The fingerprint reads the first `fingerprintLength` characters only: so does the shape.
		const length = Math.min(message.length, fingerprintLength);
		let hash = 0x81_1C_9D_C5 ^ length;
		for (let i = 0; i < length; i++) {
			hash = Math.imul(hash ^ shapeCode(message, i), 0x01_00_01_93);
		}

		const entry = this.known.get(hash);
		if (entry !== undefined && (entry.message === message || sameShape(entry.message, message, length))) {
			return entry.fingerprint;
		}

		const fp = fingerprint(message);
		if (message.length <= fingerprintLength) {
			// Longer ones are not kept (nor held alive): they rarely repeat.
			if (this.known.size >= this.max) {
				this.known.clear();
			}

			this.known.set(hash, {message, fingerprint: fp});
		}

		return fp;
	}
}
