import {LEVELS, type Level} from '../core/event.js';
import {hashWords, recordWords} from './bloom.js';
import {type IndexBuilder} from './index-builder.js';
import {errorLevels} from './types.js';

// Feeds the sidecar builder from a line's UTF-8 bytes, without JSON.parse of the line: the
// seal worker's main cost when it decoded every line. No fs calls.
//
// It reads only the exact shape encode-batch.ts writes (keys in its order, integer
// seq/time/recv, the fields that repeat in one run of bytes). Any other line, and a line with
// a `rec`, returns false with nothing counted: the sealer then decodes it the general way
// (decodeLine, IndexBuilder.add), which gives the same figures and the same words.
//
// Words are hashed straight from the bytes of the JSON strings. That gives the words of the
// decoded text: a word is ASCII letters, digits and `_`, and every byte of a multi-byte UTF-8
// character is >= 0x80, a separator, as the character is in bloom.ts's rule. A string holding
// a backslash (an escape) is decoded and its text hashed instead. The fields that repeat
// (level, service, src, kind, host, proc, type) are compared as bytes with the previous
// line's; their words are hashed only when they change.

const quote = 0x22;
const backslash = 0x5C;
const comma = 0x2C;
const colon = 0x3A;

const fnvOffset = 0x81_1C_9D_C5;
const fnvPrime = 0x01_00_01_93;

function bytes(text: string): Uint8Array {
	return Uint8Array.from(text, c => c.charCodeAt(0));
}

const seqKey = bytes('{"seq":');
const timeKey = bytes(',"time":');
const recvKey = bytes(',"recv":');
const levelKey = bytes(',"level":"');
const rawrecTail = bytes(',"rawrec":1');
const markerKey = bytes(',"marker":');
const status = bytes('status');
const msg = bytes('msg');
const raw = bytes('raw');

const levels = new Set<string>(LEVELS);

/** Per byte: the lower-cased byte when it is a word character (ASCII letter, digit, `_`), else 0. */
const wordByte = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
	if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95) {
		wordByte[c] = c;
	} else if (c >= 65 && c <= 90) {
		wordByte[c] = c + 32;
	}
}

/** Per byte: 1 when `\` and it make an escape that decodes to one character, none of them a word character. */
const shortEscape = new Uint8Array(256);
for (const c of '"\\/bfnrt') {
	shortEscape[c.charCodeAt(0)] = 1;
}

/** The repeating fields of a line, parsed once per run of lines that share their bytes. */
type Head = {bytes: Buffer; words: Int32Array; countsKey: string; error: boolean; texts: string[]};

/** The whole 32-bit words of `bytes`, little-endian, to compare four bytes a step. */
function wordsOf(bytes: Buffer): Int32Array {
	const words = new Int32Array(bytes.length >> 2);
	for (let i = 0; i < words.length; i++) {
		words[i] = bytes.readInt32LE(i * 4);
	}

	return words;
}

/** Heads remembered: lines from a few sources interleave, each with its own. */
const maxHeads = 32;

export class LineIndexer {
	/** Recent heads, newest first. */
	private readonly heads: Head[] = [];
	/** Word hashes of the line being read: added to the builder only when the whole line reads. */
	private pending = new Uint32Array(256);
	private pendingCount = 0;
	/** Set by readNumber and string: where reading stopped. */
	private at = 0;
	/** A view of the last buffer read, to compare heads four bytes a step. */
	private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
	private viewOf: Buffer | undefined;

	constructor(private readonly builder: IndexBuilder) {}

	/** Count one line (`buf[from, to)`, no newline); false, with nothing counted, when it is not in the writer's shape. */
	line(buf: Buffer, from: number, to: number): boolean {
		this.pendingCount = 0;
		let p = from;
		if (!matches(buf, p, seqKey)) {
			return false;
		}

		const seq = this.readNumber(buf, p + seqKey.length, to);
		p = this.at;
		if (seq < 0 || !matches(buf, p, timeKey)) {
			return false;
		}

		const time = this.readNumber(buf, p + timeKey.length, to);
		p = this.at;
		if (time < 0 || !matches(buf, p, recvKey)) {
			return false;
		}

		const receivedAt = this.readNumber(buf, p + recvKey.length, to);
		p = this.at;
		if (receivedAt < 0 || !matches(buf, p, levelKey)) {
			return false;
		}

		// The head: from `,"level"` up to the first key that is not a repeating field. Inside a JSON
		// string a quote is always escaped, so `,"` is where a key begins, and the search jumps there.
		const headStart = p;
		let head = this.cachedHead(buf, headStart, to);
		if (head) {
			p = headStart + head.bytes.length;
		}

		let key = 0;
		let keyEnd = 0;
		for (;;) {
			if (p + 1 >= to || buf[p] !== comma || buf[p + 1] !== quote) {
				return false;
			}

			key = p + 2;
			// Mostly the key after the head is one of these: looked for as bytes, without a search.
			keyEnd = knownKeyEnd(buf, key, to);
			if (keyEnd >= 0) {
				break;
			}

			keyEnd = buf.indexOf(quote, key);
			if (keyEnd < 0 || keyEnd >= to || buf[keyEnd + 1] !== colon) {
				return false;
			}

			if (isKey(buf, key, keyEnd, status) || isKey(buf, key, keyEnd, msg) || isKey(buf, key, keyEnd, raw)) {
				break;
			}

			p = buf.indexOf(commaQuote, keyEnd + 2);
			if (p < 0 || p >= to) {
				return false;
			}
		}

		let fresh = false;
		if (head === undefined || p !== headStart + head.bytes.length) {
			// Not a remembered head (or one that is only the start of this line's).
			head = readHead(buf, headStart, p);
			if (head === undefined) {
				return false;
			}

			fresh = true;
		}

		if (isKey(buf, key, keyEnd, status)) {
			const start = keyEnd + 2;
			if (this.readNumber(buf, start, to) < 0) {
				return false;
			}

			// Its digits are its one word, as String(status) would give.
			let h = fnvOffset;
			for (let i = start; i < this.at; i++) {
				h = Math.imul(h ^ buf[i]!, fnvPrime);
			}

			this.push(h >>> 0);
			p = this.at;
			if (buf[p] !== comma || buf[p + 1] !== quote) {
				return false;
			}

			key = p + 2;
			keyEnd = buf.indexOf(quote, key);
			if (keyEnd < 0 || keyEnd >= to || buf[keyEnd + 1] !== colon) {
				return false;
			}
		}

		if (isKey(buf, key, keyEnd, msg)) {
			if (this.string(buf, keyEnd + 2, to, true) < 0) {
				return false;
			}

			p = this.at;
			if (!matches(buf, p, rawKeyWithComma)) {
				return false;
			}

			key = p + 2;
			keyEnd = key + 3;
		}

		if (!isKey(buf, key, keyEnd, raw) || buf[keyEnd + 1] !== colon) {
			return false;
		}

		const rawStart = keyEnd + 2;
		const rawText = this.string(buf, rawStart, to, true);
		if (rawText < 0) {
			return false;
		}

		p = this.at;
		if (matches(buf, p, rawrecTail)) {
			// The record is the raw text parsed: its keys, strings and numbers are words too.
			p += rawrecTail.length;
			let text = this.decoded;
			if (text === undefined && this.escaped) {
				try {
					text = JSON.parse(buf.toString('utf8', rawStart, rawText + 1)) as string;
				} catch {
					return false;
				}
			}

			text ??= buf.toString('utf8', rawStart + 1, rawText);
			let record: unknown;
			try {
				record = JSON.parse(text);
			} catch {
				record = text;
			}

			recordWords(record, this.pushText);
		}

		if (matches(buf, p, markerKey)) {
			if (this.string(buf, p + markerKey.length, to, false) < 0) {
				return false;
			}

			p = this.at;
		}

		if (p !== to - 1 || buf[p] !== 0x7D) {
			return false;
		}

		// The whole line read: count it.
		if (fresh) {
			// New fields: their words, once.
			if (this.heads.length >= maxHeads) {
				this.heads.pop();
			}

			this.heads.unshift(head);
			for (const text of head.texts) {
				hashWords(text, this.addHash);
			}
		}

		this.builder.count(seq, time, receivedAt, head.countsKey, head.error);
		const hashes = this.builder.hashes;
		for (let i = 0; i < this.pendingCount; i++) {
			hashes.add(this.pending[i]!);
		}

		return true;
	}

	/** A remembered head whose bytes the line has at `at`, followed by a key; moved to the front when found. */
	private cachedHead(buf: Buffer, at: number, to: number): Head | undefined {
		const heads = this.heads;
		if (buf !== this.viewOf) {
			this.viewOf = buf;
			this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
		}

		const view = this.view;
		for (let i = 0; i < heads.length; i++) {
			const head = heads[i]!;
			const end = at + head.bytes.length;
			// Compared from the start: heads differ first in their level or service, near the start.
			if (end + 2 < to && buf[end] === comma && buf[end + 1] === quote && sameHead(view, buf, at, head)) {
				for (let j = i; j > 0; j--) {
					heads[j] = heads[j - 1]!;
				}

				heads[0] = head;
				return head;
			}
		}

		return undefined;
	}

	/** The text of the last string read with words when it held an escape; undefined when its bytes are its text. */
	private decoded: string | undefined;
	/** The last string read held an escape. */
	private escaped = false;

	private readonly addHash = (h: number): void => {
		this.builder.hashes.add(h);
	};

	private readonly pushText = (text: string): void => {
		hashWords(text, this.pushHash);
	};

	private readonly pushHash = (h: number): void => {
		this.push(h);
	};

	private push(h: number): void {
		if (this.pendingCount === this.pending.length) {
			const bigger = new Uint32Array(this.pending.length * 2);
			bigger.set(this.pending);
			this.pending = bigger;
		}

		this.pending[this.pendingCount++] = h;
	}

	/**
	 * A non-negative integer as the writer puts it (no sign, no leading zero, at most 15 digits);
	 * -1 for anything else. Sets `at` after it.
	 */
	private readNumber(buf: Buffer, p: number, to: number): number {
		let n = 0;
		const start = p;
		while (p < to) {
			const c = buf[p]!;
			if (c < 48 || c > 57) {
				break;
			}

			n = (n * 10) + c - 48;
			p++;
		}

		this.at = p;
		const digits = p - start;
		return digits === 0 || digits > 15 || (digits > 1 && buf[start] === 48) ? -1 : n;
	}

	/**
	 * A JSON string starting at its opening quote; returns the offset of its closing quote (-1
	 * when there is none before `to`) and sets `at` after it. With `withWords`, its words go to
	 * `pending`: from the bytes when its escapes are all short ones (`\"`, `\n`, …: each stands for
	 * a character that separates words), else from its decoded text (`decoded`).
	 */
	private string(buf: Buffer, p: number, to: number, words: boolean): number {
		this.decoded = undefined;
		this.escaped = false;
		if (buf[p] !== quote) {
			return -1;
		}

		const open = p++;
		if (words) {
			// A word at a time, each in a loop of its own, up to the closing quote or an escape.
			for (;;) {
				let c = 0;
				while (p < to && wordByte[c = buf[p]!] === 0 && c !== quote && c !== backslash) {
					p++;
				}

				if (p >= to) {
					return -1;
				}

				if (c === quote) {
					this.at = p + 1;
					return p;
				}

				if (c === backslash) {
					if (shortEscape[buf[p + 1]!] !== 1) {
						break;
					}

					this.escaped = true;
					p += 2;
					continue;
				}

				let h = fnvOffset;
				let w = 0;
				while (p < to && (w = wordByte[buf[p]!]!) !== 0) {
					h = Math.imul(h ^ w, fnvPrime);
					p++;
				}

				// A word cut by a `\u` escape may go on in the decoded text: that text's words are hashed below.
				if (p < to && (buf[p] !== backslash || shortEscape[buf[p + 1]!] === 1)) {
					this.push(h >>> 0);
				}
			}
		}

		// The rest (from a `\u` escape on, or a string whose words are not wanted): to the closing quote.
		let escaped = this.escaped;
		for (; p < to; p++) {
			const c = buf[p]!;
			if (c === quote) {
				break;
			}

			if (c === backslash) {
				escaped = true;
				p++;
			}
		}

		if (p >= to) {
			return -1;
		}

		this.at = p + 1;
		this.escaped = escaped;
		if (escaped && words) {
			// The words before the escape are words of the decoded text too: hashed again, kept once.
			try {
				this.decoded = JSON.parse(buf.toString('utf8', open, p + 1)) as string;
			} catch {
				return -1;
			}

			hashWords(this.decoded, this.pushHash);
		}

		return p;
	}
}

const rawKeyWithComma = bytes(',"raw":');
const commaQuote = Buffer.from(',"');

function matches(buf: Buffer, at: number, literal: Uint8Array): boolean {
	if (at + literal.length > buf.length) {
		return false;
	}

	for (let i = 0; i < literal.length; i++) {
		if (buf[at + i] !== literal[i]) {
			return false;
		}
	}

	return true;
}

/** The bytes of `head` are at `at` (`view` is over `buf`, which holds them all): a word a step, then the last bytes. */
function sameHead(view: DataView<ArrayBufferLike>, buf: Buffer, at: number, head: Head): boolean {
	const {words, bytes} = head;
	for (let i = 0; i < words.length; i++) {
		if (view.getInt32(at + (i * 4), true) !== words[i]) {
			return false;
		}
	}

	for (let i = words.length * 4; i < bytes.length; i++) {
		if (buf[at + i] !== bytes[i]) {
			return false;
		}
	}

	return true;
}

const knownKeys = [raw, msg, status];

/** The end of the key name at `key` when it is `raw`, `msg` or `status` followed by `":`; else -1. */
function knownKeyEnd(buf: Buffer, key: number, to: number): number {
	for (const name of knownKeys) {
		const end = key + name.length;
		if (end + 1 < to && buf[end] === quote && buf[end + 1] === colon && same(buf, key, name)) {
			return end;
		}
	}

	return -1;
}

/** `literal` is at `at` (a loop: Buffer#compare's checks cost more than these few bytes). */
function same(buf: Buffer, at: number, literal: Uint8Array): boolean {
	for (let i = 0; i < literal.length; i++) {
		if (buf[at + i] !== literal[i]) {
			return false;
		}
	}

	return true;
}

function isKey(buf: Buffer, from: number, to: number, name: Uint8Array): boolean {
	return to - from === name.length && matches(buf, from, name);
}

/** The repeating fields, parsed as JSON once per run of lines that share them. */
function readHead(buf: Buffer, from: number, to: number): Head | undefined {
	let o: Record<string, unknown>;
	try {
		// `,"level":…,"service":…` made into an object.
		o = JSON.parse('{' + buf.toString('utf8', from + 1, to) + '}') as Record<string, unknown>;
	} catch {
		return undefined;
	}

	const {level, service = '', src = '', host = '', proc = '', type = ''} = o;
	if (typeof level !== 'string' || !levels.has(level) || typeof service !== 'string' || typeof src !== 'string' || typeof host !== 'string' || typeof proc !== 'string' || typeof type !== 'string') {
		return undefined;
	}

	const bytes = Buffer.from(buf.subarray(from, to));
	return {
		bytes,
		words: wordsOf(bytes),
		countsKey: `${service}\t${level}`,
		error: errorLevels.has(level as Level),
		// As IndexBuilder.add: service, host, proc, type, source.
		texts: [service, host, proc, type, src],
	};
}
