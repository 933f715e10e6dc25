// Reading RE2 patterns enough to derive cheap V8 tests from them (core/regex-prefilter.ts,
// core/regex-prefix.ts): flags, classes, groups, top-level choices.

/** RE2 reads a backslash before ASCII punctuation as that character; any other escape is syntax. */
export function quotable(c: string): boolean {
	const code = c.charCodeAt(0);
	return code < 0x80 && !(code >= 0x30 && code <= 0x39) && !(code >= 0x41 && code <= 0x5A) && !(code >= 0x61 && code <= 0x7A);
}

export function isAscii(text: string): boolean {
	for (let i = 0; i < text.length; i++) {
		if (text.charCodeAt(i) > 0x7F) {
			return false;
		}
	}

	return true;
}

const flagGroup = /^\(\?([imsU]+)\)/;

/** Leading flag groups: where the pattern proper starts, and whether (?i) was among them; undefined for (?s) or (?m). */
export function leadingFlags(pattern: string): {at: number; caseInsensitive: boolean; other: boolean} {
	let at = 0;
	let caseInsensitive = false;
	let other = false;
	let m: RegExpExecArray | null;
	while ((m = flagGroup.exec(pattern.slice(at))) !== null) {
		caseInsensitive ||= m[1]!.includes('i');
		other ||= /[ms]/.test(m[1]!);
		at += m[0].length;
	}

	return {at, caseInsensitive, other};
}

/** The index just past the class that opens at `from` (`[…]`, escapes and `[:alpha:]` skipped), or -1. */
export function classEnd(pattern: string, from: number): number {
	let j = from + 1;
	if (pattern[j] === '^') {
		j++;
	}

	if (pattern[j] === ']') {
		j++;
	}

	for (; j < pattern.length && pattern[j] !== ']'; j++) {
		if (pattern[j] === '\\') {
			j++;
		} else if (pattern[j] === '[' && pattern[j + 1] === ':') {
			const close = pattern.indexOf(':]', j + 2);
			if (close !== -1) {
				j = close + 1;
			}
		}
	}

	return j < pattern.length ? j + 1 : -1;
}

/** The index just past the group or class that opens at `from`, or -1. */
export function skipBracketed(pattern: string, from: number): number {
	if (pattern[from] === '[') {
		return classEnd(pattern, from);
	}

	let depth = 0;
	for (let i = from; i < pattern.length; i++) {
		const c = pattern[i]!;
		if (c === '\\') {
			i++;
		} else if (c === '[') {
			const end = classEnd(pattern, i);
			if (end === -1) {
				return -1;
			}

			i = end - 1;
		} else if (c === '(') {
			depth++;
		} else if (c === ')' && --depth === 0) {
			return i + 1;
		}
	}

	return -1;
}

/** Does the pattern have a `|` outside every group and class? */
export function topLevelChoice(pattern: string, from: number): boolean {
	for (let i = from; i < pattern.length; i++) {
		const c = pattern[i];
		if (c === '\\') {
			i++;
		} else if (c === '[' || c === '(') {
			const end = skipBracketed(pattern, i);
			if (end === -1) {
				return true; // not followed: assume the worst
			}

			i = end - 1;
		} else if (c === '|') {
			return true;
		}
	}

	return false;
}

/** The top-level alternatives of a pattern from `from` on (`a|b(c|d)` is `a` and `b(c|d)`); undefined when a group or class does not close. */
export function topLevelAlternatives(pattern: string, from: number): string[] | undefined {
	const out: string[] = [];
	let start = from;
	for (let i = from; i < pattern.length; i++) {
		const c = pattern[i];
		if (c === '\\') {
			i++;
		} else if (c === '[' || c === '(') {
			const end = skipBracketed(pattern, i);
			if (end === -1) {
				return undefined;
			}

			i = end - 1;
		} else if (c === '|') {
			out.push(pattern.slice(start, i));
			start = i + 1;
		}
	}

	out.push(pattern.slice(start));
	return out;
}

/**
 * Where the escape at `start` ends: `\d`, `\.` and the like after two characters, `\pL`, `\p{Greek}`,
 * `\x41`, `\x{263a}`, `\123` after theirs; -1 when braces do not close.
 */
export function escapeEnd(pattern: string, start: number): number {
	const c = pattern[start + 1] ?? '';
	const braces = (from: number): number => {
		const close = pattern.indexOf('}', from);
		return close < 0 ? -1 : close + 1;
	};

	if (c === 'p' || c === 'P') {
		return pattern[start + 2] === '{' ? braces(start + 2) : start + 3;
	}

	if (c === 'x') {
		return pattern[start + 2] === '{' ? braces(start + 2) : start + 4;
	}

	if (c >= '0' && c <= '7') {
		let i = start + 2;
		while (i < start + 4 && pattern[i]! >= '0' && pattern[i]! <= '7') {
			i++;
		}

		return i;
	}

	return start + 2;
}

export const controlEscapes: Readonly<Record<string, number>> = {n: 0x0A, t: 0x09, r: 0x0D, f: 0x0C, v: 0x0B, a: 0x07};

/**
 * A V8 regex for a necessary condition, with V8's fastest flags: `u` only where its source needs
 * code points (a non-ASCII character, or something that matches any character: `.`, `[^…]`, \D, \W,
 * \S), and `i` without `u` for RE2's (?i), which folds the Kelvin sign with k and the long s with s
 * as `i` alone does not: a text holding either gets the `iu` form too.
 */
export function fastRegex(source: string, caseInsensitive: boolean): {test(text: string): boolean} {
	const unicode = /\\u\{|\[\^|\\[DWS]/.test(source);
	if (!caseInsensitive) {
		return new RegExp(source, unicode ? 'u' : '');
	}

	const full = new RegExp(source, 'iu');
	if (unicode) {
		return full;
	}

	// One scan finds the text in ASCII case, or a character that folds to ASCII (then the full test
	// decides). Without `u`, V8 folds no other character to ASCII, so only the class can match those.
	const ascii = new RegExp(`${source}|[\u212A\u017F]`, 'i');
	return {
		test(text) {
			const m = ascii.exec(text);
			return m !== null && ((m[0] !== '\u212A' && m[0] !== '\u017F') || full.test(text));
		},
	};
}
