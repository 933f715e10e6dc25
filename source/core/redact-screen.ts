import {redactScreenWasm} from './redact-screen-wasm.js';

// The redaction screen in WebAssembly (wasm/redact-screen.ts): which texts of a batch hold a mark
// of the built-in rules or a card mark, sixteen bytes at a time, so that the rules' own scans
// (V8 regexes, one character at a time) run on those texts only. It flags exactly the texts the
// marks' regexes would find something in, and besides those only texts too long for its memory.
// It is used only where the marks are all it must know: no user rules and no built-in rule with a
// scan of its own but the card rule's.

/** The strings a mark's regex source matches: `k[Ee][Yy]` → key, kEy, keY, kEY; undefined past `(?:…|…)`, `[…]`, `\.`. */
export function markStrings(source: string): string[] | undefined {
	let i = 0;
	const choice = (): string[] | undefined => {
		let out = sequence();
		while (out !== undefined && source[i] === '|') {
			i++;
			const more = sequence();
			out = more === undefined ? undefined : [...out, ...more];
		}

		return out;
	};

	const sequence = (): string[] | undefined => {
		let out: string[] | undefined = [''];
		while (out !== undefined && i < source.length && source[i] !== '|' && source[i] !== ')') {
			const item = atom();
			out = item === undefined ? undefined : out.flatMap(head => item.map(tail => head + tail));
		}

		return out;
	};

	const atom = (): string[] | undefined => {
		const c = source[i]!;
		if (c === '(') {
			if (!source.startsWith('(?:', i)) {
				return undefined;
			}

			i += 3;
			const inner = choice();
			if (source[i] !== ')') {
				return undefined;
			}

			i++;
			return inner;
		}

		if (c === '[') {
			const close = source.indexOf(']', i);
			const body = source.slice(i + 1, close);
			// ASCII only: the texts are screened as UTF-8, the strings written as single bytes.
			if (close === -1 || body === '' || /[\\\-^\]]|[^\x20-\x7E]/.test(body)) {
				return undefined;
			}

			i = close + 1;
			return [...body];
		}

		if (c === '\\') {
			const escaped = source[i + 1];
			if (escaped === undefined || /[\dA-Za-z]/.test(escaped)) {
				return undefined;
			}

			i += 2;
			return [escaped];
		}

		if ('*+?{}.^$'.includes(c) || c.charCodeAt(0) >= 0x80) {
			return undefined;
		}

		i++;
		return [c];
	};

	const strings = choice();
	return strings !== undefined && i === source.length && strings.length <= 256 && strings.every(s => s.length >= 2 && s.length <= 64) ? strings : undefined;
}

const buckets = 8;
/** Where the host writes: the tables and literals (wasm/redact-screen.ts), the texts' ends, their flags, the texts. */
const literalsEnd = 4032;
const endsAt = 4096;
const maxTexts = 4096;
const flagsAt = endsAt + (4 * maxTexts);
const textsAt = flagsAt + maxTexts + 64;
/** Texts are joined this many at a time: longer strings cost V8 more a character to make. */
const joinCount = 128;

type Bucket = {sets: Array<Set<number>>; any: boolean[]};

/**
 * How often a byte turns up in logs, roughly: lower-case letters by their frequency in English,
 * capitals a fifth of that, digits, blanks and punctuation. Weighs what a table lets through.
 */
function weight(c: number): number {
	const lower = 'etaoinshrdlcumwfgypbvkjxqz';
	const letter = c >= 0x61 && c <= 0x7A ? c : (c >= 0x41 && c <= 0x5A ? c + 0x20 : 0);
	if (letter !== 0) {
		const rank = lower.indexOf(String.fromCharCode(letter));
		return (letter === c ? 1 : 0.2) * 12 * (0.88 ** rank);
	}

	if (c >= 0x30 && c <= 0x39) {
		return 3;
	}

	return c === 0x20 ? 15 : (c > 0x20 && c < 0x7F ? 1 : 0.05);
}

const weights = Array.from({length: 256}, (_, c) => weight(c));
const allWeights = weights.reduce((a, b) => a + b, 0);

/** How much of a log's text a bucket's tables let through: at each place, the weight of its low nibbles times its high ones. */
function spread(b: Bucket): number {
	let product = 1;
	for (let j = 0; j < 3; j++) {
		if (b.any[j]) {
			product *= allWeights;
			continue;
		}

		const lows = new Set([...b.sets[j]!].map(c => c & 15));
		const highs = new Set([...b.sets[j]!].map(c => c >> 4));
		let sum = 0;
		for (const high of highs) {
			for (const low of lows) {
				sum += weights[(high << 4) | low]!;
			}
		}

		product *= sum;
	}

	return product;
}

/**
 * Literals in 8 buckets by their first two bytes: those alike in all but case share one, and each
 * group goes where it widens what the tables let through least (a place let through is then checked
 * against the literals, so this decides speed only).
 */
function plan(literals: readonly string[]): number[] {
	const groups = new Map<string, string[]>();
	for (const l of literals) {
		const key = l.slice(0, 2).toLowerCase();
		groups.set(key, [...(groups.get(key) ?? []), l]);
	}

	const table: Bucket[] = Array.from({length: buckets}, () => ({sets: [new Set<number>(), new Set<number>(), new Set<number>()], any: [false, false, false]}));
	const used = table.map(() => false);
	const bucketOf = new Map<string, number>();
	const add = (b: Bucket, group: readonly string[]): Bucket => {
		const next = {sets: b.sets.map(s => new Set(s)), any: [...b.any]};
		for (const l of group) {
			for (let j = 0; j < 3; j++) {
				if (j < l.length) {
					next.sets[j]!.add(l.charCodeAt(j));
				} else {
					next.any[j] = true;
				}
			}
		}

		return next;
	};

	// The widest groups first, each weighed once.
	const empty = table[0]!;
	const alone = new Map([...groups].map(([key, group]) => [key, spread(add(empty, group))]));
	for (const [key, group] of [...groups].sort((a, b) => alone.get(b[0])! - alone.get(a[0])! || (a[0] < b[0] ? -1 : 1))) {
		let best = 0;
		let bestCost = Number.POSITIVE_INFINITY;
		for (let k = 0; k < buckets; k++) {
			const cost = spread(add(table[k]!, group)) - (used[k] ? spread(table[k]!) : 0);
			if (cost < bestCost) {
				best = k;
				bestCost = cost;
			}
		}

		table[best] = add(table[best]!, group);
		used[best] = true;
		bucketOf.set(key, best);
	}

	return literals.map(l => bucketOf.get(l.slice(0, 2).toLowerCase())!);
}

type Exports = {memory: {buffer: ArrayBuffer}; scan: (start: number, end: number, ends: number, flags: number, cards: number) => number};
/** The parts of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
type Wasm = {Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => {exports: unknown}};
const wasm = (globalThis as unknown as {WebAssembly: Wasm}).WebAssembly;
let compiled: object | undefined;

export class RedactScreen {
	private readonly exports: Exports;
	private readonly bytes: Buffer;
	private readonly ends: Int32Array;
	private readonly capacity: number;

	/**
	 * `literals`: the marks' strings (markStrings); `cards`: look for card marks too; `within[k]`: a
	 * literal k is a mark only with `=` or `:` at most this many bytes past its end, in its text (a
	 * rule's separatorWithin). Throws where WebAssembly SIMD is missing.
	 */
	constructor(literals: readonly string[], private readonly cards: boolean, within: readonly number[] = []) {
		compiled ??= new wasm.Module(Buffer.from(redactScreenWasm, 'base64'));
		this.exports = new wasm.Instance(compiled, {}).exports as Exports;
		const {buffer} = this.exports.memory;
		this.bytes = Buffer.from(buffer);
		this.ends = new Int32Array(buffer, endsAt, maxTexts);
		// The scan reads up to 64 bytes past the last text.
		this.capacity = buffer.byteLength - textsAt - 128;
		const inBucket = plan(literals);
		for (const [k, l] of literals.entries()) {
			const bit = 1 << inBucket[k]!;
			for (let j = 0; j < 3; j++) {
				// Low nibble tables at 32 j, high ones at 32 j + 16: a bucket's bit where its literals' bytes have that nibble.
				for (let n = 0; n < 16; n++) {
					if (j >= l.length || (l.charCodeAt(j) & 15) === n) {
						this.bytes[32 * j + n]! |= bit;
					}

					if (j >= l.length || l.charCodeAt(j) >> 4 === n) {
						this.bytes[(32 * j) + 16 + n]! |= bit;
					}
				}
			}
		}

		// Each bucket's literals, after the offsets of the lists.
		let at = 96 + (2 * buckets);
		for (let b = 0; b < buckets; b++) {
			this.bytes.writeUInt16LE(at - 96, 96 + (2 * b));
			for (const [k, l] of literals.entries()) {
				if (inBucket[k] === b) {
					if (at + 3 + l.length >= literalsEnd) {
						throw new Error('too many marks for the redaction screen');
					}

					if ((within[k] ?? 0) > 64) {
						throw new Error('a separator too far for the redaction screen');
					}

					this.bytes[at] = l.length;
					this.bytes[at + 1] = within[k] ?? 0;
					this.bytes.write(l, at + 2, 'latin1');
					at += 2 + l.length;
				}
			}

			this.bytes[at++] = 0;
		}
	}

	/**
	 * A flag per text into `flags[0, texts.length)` (an array kept from batch to batch): 1 where it
	 * holds a mark or is too long to screen, 0 where neither. Returns how many are 1.
	 */
	screen(texts: readonly string[], flags: Uint8Array): number {
		flags.fill(0, 0, texts.length);
		let flagged = 0;
		let first = 0; // the first text in memory
		let used = 0; // bytes in memory
		let k = 0;
		// UTF-8 takes at most 3 bytes a UTF-16 unit: a write that fits this never falls short.
		const fits = (text: string): boolean => 3 * (text.length + 1) <= this.capacity - used;
		while (k < texts.length) {
			let count = Math.min(joinCount, texts.length - k, maxTexts - (k - first));
			let joined = count === 0 ? '' : (count === 1 ? texts[k]! : texts.slice(k, k + count).join('\n'));
			if (count === 0 || !fits(joined)) {
				if (k > first) {
					flagged += this.run(first, k, used, flags);
					first = k;
					used = 0;
					continue;
				}

				count = 1;
				joined = texts[k]!;
				if (!fits(joined)) {
					// Too long to screen: it goes through the rules.
					flags[k] = 1;
					flagged++;
					k++;
					first = k;
					continue;
				}
			}

			const written = this.bytes.write(joined, textsAt + used, 'utf8');
			let end = textsAt + used;
			for (let g = k; g < k + count; g++) {
				// Past ASCII a text's bytes outnumber its characters: count them.
				end += written === joined.length ? texts[g]!.length : Buffer.byteLength(texts[g]!, 'utf8');
				this.ends[g - first] = end;
				this.bytes[end] = 0x0A;
				end++;
			}

			used = end - textsAt;
			k += count;
		}

		if (k > first) {
			flagged += this.run(first, k, used, flags);
		}

		return flagged;
	}

	/** Scan texts [first, end), written in `used` bytes from textsAt; returns how many it flagged. */
	private run(first: number, end: number, used: number, flags: Uint8Array): number {
		this.bytes[textsAt - 1] = 0x0A;
		this.bytes.fill(0, textsAt + used, textsAt + used + 128);
		this.bytes.fill(0, flagsAt, flagsAt + (end - first));
		// The last text's newline is at textsAt + used - 1.
		const found = this.exports.scan(textsAt, textsAt + used - 1, endsAt, flagsAt, this.cards ? 1 : 0);
		flags.set(this.bytes.subarray(flagsAt, flagsAt + (end - first)), first);
		return found;
	}
}
