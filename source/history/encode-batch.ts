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

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Bytes written again and again (keys, a batch's repeating fields), also as 32-bit words to write four at a time. */
type Constant = {bytes: Uint8Array; words: Int32Array};

function constant(bytes: Uint8Array): Constant {
	const words = new Int32Array(Math.ceil(bytes.length / 4));
	new Uint8Array(words.buffer).set(bytes);
	return {bytes, words};
}

function ascii(text: string): Constant {
	return constant(Uint8Array.from(text, c => c.charCodeAt(0)));
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

/** Where a line is being written: its bytes, and a view to write words at any offset. */
type Output = {buf: Buffer; view: DataView<ArrayBufferLike>};

function put(out: Output, at: number, c: Constant): number {
	const {bytes, words} = c;
	const n = bytes.length;
	let i = 0;
	for (const view = out.view; i + 4 <= n; i += 4) {
		view.setInt32(at + i, words[i >> 2]!, littleEndian);
	}

	for (const buf = out.buf; i < n; i++) {
		buf[at + i] = bytes[i]!;
	}

	return at + n;
}

/** The number of digits of 0 <= n < 2^31. */
function digitsOf(n: number): number {
	if (n < 100_000) {
		return n < 100 ? (n < 10 ? 1 : 2) : (n < 1000 ? 3 : (n < 10_000 ? 4 : 5));
	}

	return n < 10_000_000 ? (n < 1_000_000 ? 6 : 7) : (n < 100_000_000 ? 8 : (n < 1_000_000_000 ? 9 : 10));
}

/** "00" to "99", to write two digits a step. */
const pairs = ascii(Array.from({length: 100}, (_, i) => String(i).padStart(2, '0')).join('')).bytes;

/** Digits of 0 <= n < 2^31, in 32-bit integer arithmetic. */
function putSmall(buf: Uint8Array, at: number, n: number): number {
	const end = at + digitsOf(n);
	let i = end;
	while (n >= 100) {
		const q = (n / 100) | 0;
		const pair = (n - (q * 100)) * 2;
		buf[--i] = pairs[pair + 1]!;
		buf[--i] = pairs[pair]!;
		n = q;
	}

	if (n >= 10) {
		buf[--i] = pairs[(n * 2) + 1]!;
		buf[--i] = pairs[n * 2]!;
	} else {
		buf[--i] = 48 + n;
	}

	return end;
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

		// The low half: six digits, leading zeros included.
		at += highLength;
		for (let i = at + 6; i > at;) {
			const q = (low / 100) | 0;
			const pair = (low - (q * 100)) * 2;
			buf[--i] = pairs[pair + 1]!;
			buf[--i] = pairs[pair]!;
			low = q;
		}

		return at + 6;
	}

	return at + buf.write(Number.isFinite(n) ? String(n) : 'null', at, 'latin1');
}

/** The escapes JSON.stringify writes for a byte (0: none), `\u00XX` for the controls without a short one. */
const escapeOf = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) {
	escapeOf[c] = 0x75; // u
}

escapeOf[0x08] = 0x62; // b
escapeOf[0x09] = 0x74; // t
escapeOf[0x0A] = 0x6E; // n
escapeOf[0x0C] = 0x66; // f
escapeOf[0x0D] = 0x72; // r
escapeOf[0x22] = 0x22;
escapeOf[0x5C] = 0x5C;

const hexDigits = ascii('0123456789abcdef').bytes;

/** True when one of the four bytes of `w` is below 0x20, a quote or a backslash (a JSON string escapes them). */
function escapesIn(w: number): boolean {
	const quote = w ^ 0x22_22_22_22;
	const backslash = w ^ 0x5C_5C_5C_5C;
	// A byte below n in x: (x - n·0x01010101) & ~x has its top bit set (exact for n <= 0x80).
	return ((((w - 0x20_20_20_20) & ~w) | ((quote - 0x01_01_01_01) & ~quote) | ((backslash - 0x01_01_01_01) & ~backslash)) & 0x80_80_80_80) !== 0;
}

/**
 * Text captured as UTF-8 (`text[from, to)`) as a JSON string at `at`, as JSON.stringify writes
 * it: the quote, the backslash and the controls escaped, every other byte as it is (non-ASCII
 * included: the text is well-formed UTF-8, and text with a lone surrogate was captured as JSON
 * already). Most text has nothing to escape: it is looked at and copied four bytes at a time.
 */
function putJsonText(out: Output, at: number, text: Text, from: number, to: number, isJson: boolean): number {
	const buf = out.buf;
	const bytes = text.bytes;
	if (isJson) {
		for (let i = from; i < to; i++) {
			buf[at++] = bytes[i]!;
		}

		return at;
	}

	buf[at++] = 0x22;
	let i = from;
	// Up to the first whole word of the text (the batch's text starts word-aligned in its slab).
	for (const head = Math.min(to, (from + 3) & ~3); i < head; i++) {
		const c = bytes[i]!;
		if (escapeOf[c] !== 0) {
			return putEscaped(out, at, text, i, to);
		}

		buf[at++] = c;
	}

	const words = text.words;
	const view = out.view;
	for (const end = Math.min(to & ~3, words.length * 4); i < end; i += 4) {
		const w = words[i >> 2]!;
		if (escapesIn(w)) {
			return putEscaped(out, at, text, i, to);
		}

		// Read and written in the machine's byte order: the bytes land as they were.
		view.setInt32(at, w, littleEndian);
		at += 4;
	}

	for (; i < to; i++) {
		const c = bytes[i]!;
		if (escapeOf[c] !== 0) {
			return putEscaped(out, at, text, i, to);
		}

		buf[at++] = c;
	}

	buf[at++] = 0x22;
	return at;
}

/** The rest of a JSON string from the first byte to escape, `text[from, to)`, and its closing quote. */
function putEscaped(out: Output, at: number, text: Text, from: number, to: number): number {
	const {buf, view} = out;
	const {bytes, words} = text;
	let i = from;
	for (const head = Math.min(to, (from + 3) & ~3); i < head; i++) {
		at = putJsonByte(buf, at, bytes[i]!);
	}

	for (const end = Math.min(to & ~3, words.length * 4); i < end; i += 4) {
		const w = words[i >> 2]!;
		if (escapesIn(w)) {
			for (let k = i; k < i + 4; k++) {
				at = putJsonByte(buf, at, bytes[k]!);
			}
		} else {
			view.setInt32(at, w, littleEndian);
			at += 4;
		}
	}

	for (; i < to; i++) {
		at = putJsonByte(buf, at, bytes[i]!);
	}

	buf[at++] = 0x22;
	return at;
}

/** One byte of a JSON string: as it is, or its escape. */
function putJsonByte(buf: Buffer, at: number, c: number): number {
	const e = escapeOf[c]!;
	if (e === 0) {
		buf[at] = c;
		return at + 1;
	}

	buf[at] = 0x5C;
	if (e !== 0x75) {
		buf[at + 1] = e;
		return at + 2;
	}

	buf[at + 1] = 0x75;
	buf[at + 2] = 0x30;
	buf[at + 3] = 0x30;
	buf[at + 4] = hexDigits[c >> 4]!;
	buf[at + 5] = hexDigits[c & 15]!;
	return at + 6;
}

/** A batch's text, as bytes and as 32-bit words over the same memory. */
type Text = {bytes: Uint8Array; words: Int32Array};

function textOf(bytes: Uint8Array): Text {
	// Captured text starts at the start of its slab; elsewhere it is read a byte at a time.
	const words = bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2) : new Int32Array(0);
	return {bytes, words};
}

/** Where the lines go: slabs (shared memory) from a pool, each cut to the lines written in it. */
export type Part = {slab: Slab; bytes: number};

/** Lines written into slabs of at least `partBytes`, a new one when the next line may not fit. */
class Parts {
	readonly parts: Part[] = [];
	bytes = 0;
	buf: Buffer = Buffer.alloc(0);
	view = new DataView(new SharedArrayBuffer(0));
	at = 0;
	private slab: Slab | undefined;

	constructor(private readonly partBytes: number, private readonly pool: SlabPool) {}

	/** Room for `bytes` more at `at`. */
	room(bytes: number): void {
		if (this.at + bytes > this.buf.length) {
			this.close();
			this.slab = this.pool.take(Math.max(this.partBytes, bytes));
			this.buf = Buffer.from(this.slab.buffer);
			this.view = new DataView(this.slab.buffer);
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
	const fields = b.fields.map(f => constant(Buffer.from(f)));
	let fieldsMax = 0;
	for (const f of fields) {
		fieldsMax = Math.max(fieldsMax, f.bytes.length);
	}

	// Most lines: the text, the fields, the numbers and keys. One slab, unless escapes grow them.
	const out = new Parts(b.textBytes + (b.count * (100 + fieldsMax)) + 4096, pool);
	const errors = new Parts(64 * 1024, pool);
	const {table} = b;
	const text = textOf(b.text);
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
		out.room(120 + head.bytes.length + (6 * (rawBytes + messageBytes)) + (3 * ((rec?.length ?? 0) + (marker?.length ?? 0))));
		const buf = out.buf;
		const start = out.at;
		let at = put(out, start, seqKey);
		at = putNumber(buf, at, table[s]!);
		at = put(out, at, timeKey);
		at = putNumber(buf, at, table[s + 1]!);
		at = put(out, at, recvKey);
		at = putNumber(buf, at, table[s + 2]!);
		at = put(out, at, head);
		if ((flags & flag.hasStatus) !== 0) {
			at = put(out, at, statusKey);
			at = putNumber(buf, at, table[s + 3]!);
		}

		const rawFrom = textAt;
		textAt += rawBytes;
		if ((flags & flag.hasMessage) !== 0) {
			at = put(out, at, msgKey);
			at = putJsonText(out, at, text, textAt, textAt + messageBytes, (flags & flag.messageJson) !== 0);
			textAt += messageBytes;
		}

		at = put(out, at, rawKey);
		at = putJsonText(out, at, text, rawFrom, rawFrom + rawBytes, (flags & flag.rawJson) !== 0);
		if ((flags & flag.rawRecord) !== 0) {
			at = put(out, at, rawRecord);
		} else if (rec !== undefined) {
			at = put(out, at, recKey);
			at += buf.write(rec, at);
		}

		if (marker !== undefined) {
			at = put(out, at, markerKey);
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
