import {type LogEvent} from '../core/event.js';
import {type Batch, Capture, flag, slots} from './capture.js';
import {type Slab, SlabPool} from './slabs.js';

// A captured batch (capture.ts) to its JSON lines, as UTF-8: what the writer appends to the
// segments. Runs in the encoder worker (encoder.ts), off the ingest thread. No fs calls.
//
// One JSON object per line, keys short but readable so `zcat … | jq` stays usable:
//   {"seq":1,"time":…,"recv":…,"level":"INFO","service":"…","src":"…","kind":"logio-listen",
//    "host":"…","proc":"…","type":"…","status":200,"msg":"…","raw":"…","rec":{…},"marker":"gap"}
// Empty host/proc/type, a missing status, record and marker are left out; `msg` is written only
// when it differs from `raw` (most lines: the message is the raw text). `"rawrec":1` stands for
// "the record is JSON.parse(raw)", written instead of `rec` when the record's JSON is the raw text
// itself. A time that is not a number is written as null. The keys come in this order, always:
// the sealer reads the lines by it (line-index.ts).

function ascii(text: string): Uint8Array {
	return Uint8Array.from(text, c => c.charCodeAt(0));
}

const seqKey = ascii('{"seq":');
const timeKey = ascii(',"time":');
const recvKey = ascii(',"recv":');
const statusKey = ascii(',"status":');
const msgKey = ascii(',"msg":');
const rawKey = ascii(',"raw":');
const rawRecord = ascii(',"rawrec":1');
const recKey = ascii(',"rec":');
const markerKey = ascii(',"marker":"');

function put(buf: Uint8Array, at: number, bytes: Uint8Array): number {
	for (let i = 0; i < bytes.length; i++) {
		buf[at + i] = bytes[i]!;
	}

	return at + bytes.length;
}

/** Digits of 0 <= n < 2^31, in 32-bit integer arithmetic. */
function putSmall(buf: Uint8Array, at: number, n: number): number {
	let digits = 1;
	for (let x = n; x >= 10; x = (x / 10) | 0) {
		digits++;
	}

	for (let i = at + digits - 1; i >= at; i--) {
		const q = (n / 10) | 0;
		buf[i] = 48 + n - (q * 10);
		n = q;
	}

	return at + digits;
}

/** The digits of the last high half written: times in one batch mostly share it. */
let lastHigh = -1;
const highDigits = new Uint8Array(16);
let highLength = 0;

/** A number as JSON writes it (not finite: null). Times in ms are two 32-bit halves. */
function putNumber(buf: Buffer, at: number, n: number): number {
	if (n >= 0 && n < 2_147_483_648 && (n | 0) === n) {
		return putSmall(buf, at, n);
	}

	if (n >= 1e6 && Number.isSafeInteger(n)) {
		const high = Math.floor(n / 1e6);
		let low = n - (high * 1e6);
		if (high !== lastHigh) {
			lastHigh = high;
			highLength = putSmall(highDigits, 0, high);
		}

		for (let i = 0; i < highLength; i++) {
			buf[at + i] = highDigits[i]!;
		}

		at += highLength;
		for (let i = at + 5; i >= at; i--) {
			const q = (low / 10) | 0;
			buf[i] = 48 + low - (q * 10);
			low = q;
		}

		return at + 6;
	}

	return at + buf.write(Number.isFinite(n) ? String(n) : 'null', at, 'latin1');
}

/** Bytes a JSON string must escape: the controls, the quote, the backslash. */
const mustEscape = new Uint8Array(256);
mustEscape.fill(1, 0, 0x20);
mustEscape[0x22] = 1;
mustEscape[0x5C] = 1;

/**
 * Text captured as UTF-8 (`text[from, to)`) as a JSON string at `at`. Bytes with nothing to
 * escape are the JSON as they are (non-ASCII included: JSON keeps it, and text with a
 * surrogate was captured as JSON already); otherwise the text is decoded and stringified.
 */
function putJsonText(out: Buffer, at: number, text: Uint8Array, from: number, to: number, isJson: boolean): number {
	if (isJson) {
		for (let i = from; i < to; i++) {
			out[at++] = text[i]!;
		}

		return at;
	}

	// Copied while looked at: one pass, and no view made per line.
	const start = at;
	out[at++] = 0x22;
	for (let i = from; i < to; i++) {
		const c = text[i]!;
		if (mustEscape[c] !== 0) {
			const json = JSON.stringify(Buffer.from(text.buffer, text.byteOffset + from, to - from).toString('utf8'));
			return start + out.write(json, start);
		}

		out[at++] = c;
	}

	out[at++] = 0x22;
	return at;
}

/** Where the lines go: slabs (shared memory) from a pool, each cut to the lines written in it. */
export type Part = {slab: Slab; bytes: number};

/** Lines written into slabs of at least `partBytes`, a new one when the next line may not fit. */
class Parts {
	readonly parts: Part[] = [];
	bytes = 0;
	buf: Buffer = Buffer.alloc(0);
	at = 0;
	private slab: Slab | undefined;

	constructor(private readonly partBytes: number, private readonly pool: SlabPool) {}

	/** Room for `bytes` more at `at`. */
	room(bytes: number): void {
		if (this.at + bytes > this.buf.length) {
			this.close();
			this.slab = this.pool.take(Math.max(this.partBytes, bytes));
			this.buf = Buffer.from(this.slab.buffer);
			this.at = 0;
		}
	}

	take(): Part[] {
		this.close();
		return this.parts;
	}

	private close(): void {
		if (this.slab) {
			if (this.at > 0) {
				this.parts.push({slab: this.slab, bytes: this.at});
				this.bytes += this.at;
			} else {
				this.pool.give(this.slab);
			}

			this.slab = undefined;
		}
	}
}

export type Encoded = {
	/** Every line. */
	all: Part[];
	allBytes: number;
	/** The ERROR and CRITICAL lines, for the errors stream. */
	errors: Part[];
	errorBytes: number;
};

/** The lines of a batch, in slabs from `pool`. */
export function encodeBatch(b: Batch, pool: SlabPool): Encoded {
	const fields = b.fields.map(f => Buffer.from(f));
	let fieldsMax = 0;
	for (const f of fields) {
		fieldsMax = Math.max(fieldsMax, f.length);
	}

	// Most lines: the text, the fields, the numbers and keys. One slab, unless escapes grow them.
	const out = new Parts(b.textBytes + (b.count * (100 + fieldsMax)) + 4096, pool);
	const errors = new Parts(64 * 1024, pool);
	const {table, text} = b;
	let textAt = 0;
	let extra = 0;
	for (let i = 0; i < b.count; i++) {
		const s = i * slots;
		const rawBytes = table[s + 4]!;
		const messageBytes = table[s + 5]!;
		const head = fields[table[s + 6]!]!;
		const flags = table[s + 7]!;
		const rec = (flags & flag.hasRecord) === 0 ? undefined : b.extras[extra++]!;
		const marker = (flags & flag.hasMarker) === 0 ? undefined : b.extras[extra++]!;
		out.room(120 + head.length + (6 * (rawBytes + messageBytes)) + (3 * ((rec?.length ?? 0) + (marker?.length ?? 0))));
		const buf = out.buf;
		const start = out.at;
		let at = put(buf, start, seqKey);
		at = putNumber(buf, at, table[s]!);
		at = put(buf, at, timeKey);
		at = putNumber(buf, at, table[s + 1]!);
		at = put(buf, at, recvKey);
		at = putNumber(buf, at, table[s + 2]!);
		buf.set(head, at);
		at += head.length;
		if ((flags & flag.hasStatus) !== 0) {
			at = put(buf, at, statusKey);
			at = putNumber(buf, at, table[s + 3]!);
		}

		const rawFrom = textAt;
		textAt += rawBytes;
		if ((flags & flag.hasMessage) !== 0) {
			at = put(buf, at, msgKey);
			at = putJsonText(buf, at, text, textAt, textAt + messageBytes, (flags & flag.messageJson) !== 0);
			textAt += messageBytes;
		}

		at = put(buf, at, rawKey);
		at = putJsonText(buf, at, text, rawFrom, rawFrom + rawBytes, (flags & flag.rawJson) !== 0);
		if ((flags & flag.rawRecord) !== 0) {
			at = put(buf, at, rawRecord);
		} else if (rec !== undefined) {
			at = put(buf, at, recKey);
			at += buf.write(rec, at);
		}

		if (marker !== undefined) {
			at = put(buf, at, markerKey);
			at += buf.write(marker, at);
			buf[at++] = 0x22;
		}

		buf[at++] = 0x7D;
		buf[at++] = 0x0A;
		out.at = at;
		if ((flags & flag.error) !== 0) {
			errors.room(at - start);
			errors.at += buf.copy(errors.buf, errors.at, start, at);
		}
	}

	const all = out.take();
	const errorParts = errors.take();
	return {all, allBytes: out.bytes, errors: errorParts, errorBytes: errors.bytes};
}

/** The bytes of encoded parts. */
export function partBuffers(parts: Part[]): Buffer[] {
	return parts.map(p => Buffer.from(p.slab.buffer, 0, p.bytes));
}

const onePool = new SlabPool(1024 * 1024);

/** One event as one line, newline included: the bytes the writer appends for it. */
export function encodeEvent(e: LogEvent): string {
	const capture = new Capture(0, onePool, 1, 256);
	capture.push(e);
	const encoded = encodeBatch(capture.batch(), onePool);
	const line = Buffer.concat(partBuffers(encoded.all)).toString('utf8');
	for (const slab of [capture.tableSlab, capture.textSlab, ...[...encoded.all, ...encoded.errors].map(p => p.slab)]) {
		onePool.give(slab);
	}

	onePool.news();
	return line;
}
