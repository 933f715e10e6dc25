import {type LogEvent} from '../core/event.js';

// The words of an event and the bloom filter of a segment's words. No fs calls.
//
// A word is a maximal run of ASCII letters, digits and `_`, lower-cased: `Req-42.Foo:bar`
// holds `req`, `42`, `foo` and `bar`. Everything else (punctuation, spaces, any non-ASCII
// character) separates words. The same rule runs when a segment is indexed and when a
// query asks for words, so the filter never misses a word that is there: a search for
// `req-42` asks for `req` and `42`.
//
// An event's words come from its message, raw text, service, host, proc, type, source,
// status, and every key, string and number of its record.

function isWordChar(c: number): boolean {
	return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

function lower(c: number): number {
	return c >= 65 && c <= 90 ? c + 32 : c;
}

const fnvOffset = 0x81_1C_9D_C5;
const fnvPrime = 0x01_00_01_93;

/** Call `onWord` with every word of `text`, lower-cased. */
export function words(text: string, onWord: (word: string) => void): void {
	let start = -1;
	for (let i = 0; i <= text.length; i++) {
		const word = i < text.length && isWordChar(text.charCodeAt(i));
		if (word && start < 0) {
			start = i;
		} else if (!word && start >= 0) {
			onWord(text.slice(start, i).toLowerCase());
			start = -1;
		}
	}
}

/** The words of a search text, in order, without repeats: what a query passes as `tokens`. */
export function queryWords(text: string): string[] {
	const out = new Set<string>();
	words(text, w => out.add(w));
	return [...out];
}

/** The 32-bit hash of one (lower-cased) word: FNV-1a over its char codes. */
export function hashWord(word: string): number {
	let h = fnvOffset;
	for (let i = 0; i < word.length; i++) {
		h = Math.imul(h ^ word.charCodeAt(i), fnvPrime);
	}

	return h >>> 0;
}

/** Call `onHash` with the hash of every word of `text`, as `hashWord` would give, without making strings. */
export function hashWords(text: string, onHash: (hash: number) => void): void {
	let h = fnvOffset;
	let inWord = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (isWordChar(c)) {
			h = Math.imul(h ^ lower(c), fnvPrime);
			inWord = true;
		} else if (inWord) {
			onHash(h >>> 0);
			h = fnvOffset;
			inWord = false;
		}
	}

	if (inWord) {
		onHash(h >>> 0);
	}
}

function recordTexts(v: unknown, onText: (text: string) => void, depth: number): void {
	if (typeof v === 'string') {
		onText(v);
	} else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
		onText(String(v));
	} else if (v !== null && typeof v === 'object' && depth < 64) {
		if (Array.isArray(v)) {
			for (const x of v) {
				recordTexts(x, onText, depth + 1);
			}
		} else {
			for (const [k, x] of Object.entries(v)) {
				onText(k);
				recordTexts(x, onText, depth + 1);
			}
		}
	}
}

/** The texts of an event's record whose words are indexed: keys, strings, numbers, booleans. */
export function recordWords(record: unknown, onText: (text: string) => void): void {
	recordTexts(record, onText, 0);
}

/** Every text of an event whose words are indexed. */
export function eventTexts(e: LogEvent, onText: (text: string) => void): void {
	onText(e.raw);
	if (e.message !== e.raw) {
		onText(e.message);
	}

	onText(e.service);
	onText(e.host);
	onText(e.proc);
	onText(e.type);
	onText(e.sourceId);
	if (e.status !== undefined) {
		onText(String(e.status));
	}

	if (e.record !== undefined) {
		recordTexts(e.record, onText, 0);
	}
}

/** True when the event holds every one of `wanted` (lower-cased words) as a word. */
export function eventHasWords(e: LogEvent, wanted: readonly string[]): boolean {
	if (wanted.length === 0) {
		return true;
	}

	const missing = new Set(wanted);
	eventTexts(e, text => {
		if (missing.size > 0) {
			words(text, w => missing.delete(w));
		}
	});
	return missing.size === 0;
}

/** Mixes a word's hash into a second, independent-looking one for double hashing. */
function mix(h: number): number {
	h ^= h >>> 16;
	h = Math.imul(h, 0x85_EB_CA_6B);
	h ^= h >>> 13;
	h = Math.imul(h, 0xC2_B2_AE_35);
	h ^= h >>> 16;
	return (h | 1) >>> 0;
}

export type BloomJson = {bits: string; k: number; m: number};

/** A bloom filter over word hashes: positions h1 + i·h2 (mod m). */
export class Bloom {
	readonly bits: Uint8Array;

	constructor(readonly m: number, readonly k: number, bits?: Uint8Array) {
		this.bits = bits ?? new Uint8Array(Math.ceil(m / 8));
	}

	/** Sized for `n` distinct words at about 1% false positives. */
	static forCount(n: number): Bloom {
		const m = Math.max(1024, Math.ceil(Math.max(1, n) * 9.6 / 8) * 8);
		return new Bloom(m, 7);
	}

	static fromJson(json: BloomJson): Bloom | undefined {
		if (!json || typeof json.bits !== 'string' || !Number.isInteger(json.m) || !Number.isInteger(json.k) || json.m <= 0 || json.k <= 0 || json.k > 32) {
			return undefined;
		}

		const bits = new Uint8Array(Buffer.from(json.bits, 'base64'));
		return bits.length * 8 >= json.m ? new Bloom(json.m, json.k, bits) : undefined;
	}

	add(hash: number): void {
		const h2 = mix(hash);
		let p = hash % this.m;
		const step = h2 % this.m;
		for (let i = 0; i < this.k; i++) {
			this.bits[p >>> 3]! |= 1 << (p & 7);
			p = (p + step) % this.m;
		}
	}

	has(hash: number): boolean {
		const h2 = mix(hash);
		let p = hash % this.m;
		const step = h2 % this.m;
		for (let i = 0; i < this.k; i++) {
			if ((this.bits[p >>> 3]! & (1 << (p & 7))) === 0) {
				return false;
			}

			p = (p + step) % this.m;
		}

		return true;
	}

	/** True when every word may be in the set (false: at least one is surely absent). */
	hasAll(wanted: readonly string[]): boolean {
		return wanted.every(w => this.has(hashWord(w)));
	}

	toJson(): BloomJson {
		return {bits: Buffer.from(this.bits).toString('base64'), k: this.k, m: this.m};
	}
}
