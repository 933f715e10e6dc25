import {controlEscapes, leadingFlags, quotable, skipBracketed, topLevelChoice} from './regex-syntax.js';

// The start of every match of a user's RE2 pattern, written as a V8 regex (with the `u` flag where
// it must read code points as RE2 does, core/regex-syntax.ts): a necessary condition, run before
// re2js (core/regex-prefilter.ts).
// `\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b` starts with `[A-Z][A-Z]\d\d[A-Z0-9]…` (eleven times), and
// `(?i)session(?:_id)?=([A-Za-z0-9]{16,})` with `session(?:_id)?=[A-Za-z0-9]…` (sixteen times).
//
// Linear time: the start is a sequence of single characters and classes (fixed counts written out,
// which V8 also runs faster than a count), and of groups of such sequences. An item that may be
// absent (`?`) is kept only when no character it can start with can start the item after it: V8
// then never has more than one way to go on, so it reads each character of the start a bounded
// number of times from each place. Assertions (\b, ^) are left out, which only lets more texts
// through; whatever this reader does not follow ends the start there.

/** A code point for a V8 regex: ASCII letters and digits as they are, other ASCII as \xHH, the rest as \u{…} (which needs `u`). */
function char(cp: number): string {
	if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5A) || (cp >= 0x61 && cp <= 0x7A)) {
		return String.fromCodePoint(cp);
	}

	return cp < 0x80 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** The characters an item can start with: ASCII ones, and whether any other; undefined: any at all. */
type First = {ascii: Set<number>; other: boolean} | undefined;

function firstOf(codes: Iterable<number>, caseInsensitive: boolean, other = false): First {
	const ascii = new Set<number>();
	let more = other;
	for (const cp of codes) {
		if (cp >= 0x80) {
			more = true;
			continue;
		}

		ascii.add(cp);
		const lower = cp | 0x20;
		if (caseInsensitive && lower >= 0x61 && lower <= 0x7A) {
			ascii.add(lower);
			ascii.add(lower - 0x20);
			// (?i) folds k with the Kelvin sign and s with the long s.
			more ||= lower === 0x6B || lower === 0x73;
		}
	}

	return {ascii, other: more};
}

function range(from: number, to: number): number[] {
	return Array.from({length: to - from + 1}, (_, i) => from + i);
}

const digits = range(0x30, 0x39);
const word = [...digits, ...range(0x41, 0x5A), ...range(0x61, 0x7A), 0x5F];
const spaces = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20];

function disjoint(a: First, b: First): boolean {
	if (a === undefined || b === undefined || (a.other && b.other)) {
		return false;
	}

	for (const c of a.ascii) {
		if (b.ascii.has(c)) {
			return false;
		}
	}

	return true;
}

/** An RE2 class at `from` for V8 (`u` flag), with where it ends; undefined for what is not followed. */
function translateClass(pattern: string, from: number, caseInsensitive: boolean): {source: string; end: number; first: First} | undefined {
	let j = from + 1;
	let negated = false;
	if (pattern[j] === '^') {
		negated = true;
		j++;
	}

	// Negated classes fold differently under (?i) in the two engines.
	if (negated && caseInsensitive) {
		return undefined;
	}

	const items: string[] = [];
	const codes: number[] = [];
	let other = false;
	let first = true;
	while (j < pattern.length && (pattern[j] !== ']' || first)) {
		first = false;
		let cp: number;
		const c = pattern[j]!;
		if (c === '\\') {
			const e = pattern[j + 1];
			if (e === 'd' || e === 'w' || e === 's') {
				items.push(`\\${e}`);
				codes.push(...(e === 'd' ? digits : (e === 'w' ? word : spaces)));
				// V8's \s holds Unicode spaces; under (?i) with `u`, its \w holds the Kelvin sign and the long s.
				other ||= e === 's' || (e === 'w' && caseInsensitive);
				j += 2;
				continue;
			}

			if (e !== undefined && controlEscapes[e] !== undefined) {
				cp = controlEscapes[e]!;
			} else if (e !== undefined && quotable(e)) {
				cp = e.charCodeAt(0);
			} else {
				return undefined;
			}

			j += 2;
		} else if (c === '[') {
			return undefined; // [:alpha:] and friends
		} else {
			cp = pattern.codePointAt(j)!;
			j += cp > 0xFFFF ? 2 : 1;
		}

		if (pattern[j] === '-' && pattern[j + 1] !== ']' && pattern[j + 1] !== undefined) {
			const e = pattern[j + 1]!;
			if (e === '\\' || e === '[') {
				return undefined;
			}

			const to = pattern.codePointAt(j + 1)!;
			if (to < cp) {
				return undefined;
			}

			items.push(`${char(cp)}-${char(to)}`);
			codes.push(...range(cp, Math.min(to, 0x80)));
			j += to > 0xFFFF ? 3 : 2;
		} else {
			items.push(char(cp));
			codes.push(cp);
		}
	}

	if (pattern[j] !== ']' || items.length === 0) {
		return undefined;
	}

	return {source: `[${negated ? '^' : ''}${items.join('')}]`, end: j + 1, first: negated ? undefined : firstOf(codes, caseInsensitive, other)};
}

type Item = {source: string; first: First; optional: boolean};

/** One character, class or escape at `i`: its V8 source and first characters, or undefined. */
function readAtom(pattern: string, i: number, ci: boolean): {source: string; first: First; next: number} | undefined {
	const c = pattern[i]!;
	if (c === '\\') {
		const e = pattern[i + 1];
		const next = i + 2;
		if (e === 'd') {
			return {source: '\\d', first: firstOf(digits, false), next};
		}

		if (e === 'w') {
			return {source: '\\w', first: firstOf(word, false, ci), next};
		}

		if (e === 's') {
			return {source: '\\s', first: firstOf(spaces, false, true), next};
		}

		if (e === 'D' || (e === 'W' && !ci)) {
			return {source: `\\${e}`, first: undefined, next};
		}

		if (e === 'S' && !ci) {
			return {source: '[^\\t\\n\\f\\r ]', first: undefined, next}; // RE2's \S is not ASCII whitespace; V8's is not any whitespace
		}

		if (e !== undefined && controlEscapes[e] !== undefined) {
			return {source: char(controlEscapes[e]!), first: firstOf([controlEscapes[e]!], false), next};
		}

		return e !== undefined && quotable(e) ? {source: char(e.charCodeAt(0)), first: firstOf([e.charCodeAt(0)], ci), next} : undefined;
	}

	if (c === '[') {
		const cls = translateClass(pattern, i, ci);
		return cls && {source: cls.source, first: cls.first, next: cls.end};
	}

	if (c === '.') {
		return ci ? undefined : {source: '[^\\n]', first: undefined, next: i + 1};
	}

	if ('^$()|*+?{}'.includes(c)) {
		return undefined;
	}

	const cp = pattern.codePointAt(i)!;
	return {source: char(cp), first: firstOf([cp], ci), next: i + (cp > 0xFFFF ? 2 : 1)};
}

/** Where the body of a group at `i` starts: (…), (?:…), (?P<name>…), (?<name>…); -1 for others (flags, lookarounds). */
function groupBody(pattern: string, i: number): number {
	if (pattern[i + 1] !== '?') {
		return i + 1;
	}

	if (pattern.startsWith('(?:', i)) {
		return i + 3;
	}

	const named = /^\(\?P?<\w+>/.exec(pattern.slice(i, i + 64));
	return named ? i + named[0].length : -1;
}

/** Items that V8 can run without more than one way to go on: cut before an optional item that breaks that. */
function deterministic(items: Item[]): Item[] {
	for (let k = 0; k < items.length; k++) {
		const item = items[k]!;
		const after = items[k + 1];
		if (item.optional && (after === undefined || after.optional || !disjoint(item.first, after.first))) {
			return items.slice(0, k);
		}
	}

	return items;
}

function render(items: Item[]): string {
	return items.map(x => (x.optional ? `${x.source.startsWith('(?:') || x.source.length === 1 || x.source.startsWith('[') ? x.source : `(?:${x.source})`}?` : x.source)).join('');
}

const maxAtoms = 256;

/**
 * The items every match starts with, read from `from` up to `to`: `complete` when the whole stretch
 * was read (so a group made of it is known whole).
 */
function readSequence(pattern: string, from: number, to: number, ci: boolean, depth: number): {items: Item[]; complete: boolean} {
	const items: Item[] = [];
	let i = from;
	while (i < to && items.length < maxAtoms) {
		const c = pattern[i]!;
		if (c === '^' || (c === '\\' && (pattern[i + 1] === 'b' || pattern[i + 1] === 'B' || pattern[i + 1] === 'A'))) {
			i += c === '^' ? 1 : 2; // an assertion: left out
			if ('*+?{'.includes(pattern[i] ?? '')) {
				return {items, complete: false};
			}

			continue;
		}

		let unit: {source: string; first: First; next: number} | undefined;
		let whole = true;
		let inner: Item[] = [];
		if (c === '(') {
			const body = groupBody(pattern, i);
			const end = skipBracketed(pattern, i);
			if (body === -1 || end === -1 || depth > 8 || topLevelChoice(pattern.slice(body, end - 1), 0)) {
				return {items, complete: false};
			}

			const read = readSequence(pattern, body, end - 1, ci, depth + 1);
			inner = deterministic(read.items);
			whole = read.complete && inner.length === read.items.length;
			if (inner.length === 0) {
				return {items, complete: false};
			}

			// A group whose first item may be absent can also start as the one after it: taken as any character.
			unit = {source: `(?:${render(inner)})`, first: inner[0]!.optional ? undefined : inner[0]!.first, next: end};
		} else {
			unit = readAtom(pattern, i, ci);
		}

		if (!unit) {
			return {items, complete: false};
		}

		// Its count: a group known only in part ends the start after that part, when it must be there.
		const q = pattern[unit.next];
		if (!whole) {
			if (q !== '?' && q !== '*' && !(q === '{' && pattern[unit.next + 1] === '0')) {
				items.push(...inner);
			}

			return {items, complete: false};
		}

		let next = unit.next;
		let count = 1;
		let more = false; // the count may go on past what is taken
		if (q === '*') {
			return {items, complete: false};
		}

		if (q === '?') {
			next++;
			if (pattern[next] === '?') {
				next++; // lazy: the same texts
			}

			items.push({source: unit.source, first: unit.first, optional: true});
			i = next;
			continue;
		}

		if (q === '+') {
			next++;
			more = true;
		} else if (q === '{') {
			const m = /^\{(\d+)(,\d*)?\}/.exec(pattern.slice(next));
			if (!m) {
				return {items, complete: false};
			}

			count = Math.min(Number(m[1]), maxAtoms);
			more = m[2] !== undefined;
			next += m[0].length;
		}

		if (more || q === '{') {
			if (pattern[next] === '?') {
				next++; // lazy
			}
		}

		for (let k = 0; k < count && items.length < maxAtoms; k++) {
			items.push({source: unit.source, first: unit.first, optional: false});
		}

		if (more || count === 0) {
			return {items, complete: false};
		}

		i = next;
	}

	return {items, complete: i >= to};
}

/** The start of every match, as a V8 regex source (see the top of this file), or undefined. */
export function prefixRegex(pattern: string): {source: string; caseInsensitive: boolean} | undefined {
	const flags = leadingFlags(pattern);
	if (flags.other || topLevelChoice(pattern, flags.at)) {
		return undefined;
	}

	const items = deterministic(readSequence(pattern, flags.at, pattern.length, flags.caseInsensitive, 0).items);
	if (items.length === 0) {
		return undefined;
	}

	const source = render(items);
	try {
		new RegExp(source, flags.caseInsensitive ? 'iu' : 'u'); // eslint-disable-line no-new
		new RegExp(source, flags.caseInsensitive ? 'i' : ''); // eslint-disable-line no-new
	} catch {
		return undefined;
	}

	return {source, caseInsensitive: flags.caseInsensitive};
}
