// Cheap tests that tell a text a user's RE2 regex cannot match, run on V8's engine before re2js,
// which is many times slower (core/regex.ts). Every redaction and grep rule runs on every line,
// and most lines match none of them.
//
// Two tests, each a necessary condition, read off the pattern's top level:
// - plain text every match holds (`customer_id=(\d+)` holds `customer_id=`): String#includes;
// - the fixed-length start of every match (`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b` starts with
//   `[A-Z]{2}\d{2}[A-Z0-9]{11}`), written for V8 with the `u` flag, which reads code points as
//   RE2 does. Its atoms are single characters or classes repeated a fixed number of times, so V8
//   has nothing to backtrack into: linear time. Assertions (\b, ^) are left out, which only lets
//   more texts through; whatever this reader does not follow ends the start there.
// A pattern with a top-level `|` gets neither.

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
const simpleEscape = new Set('dDsSwWbBAzntrfva');

/** Leading flag groups: where the pattern proper starts, and whether (?i) was among them; undefined for (?s) or (?m). */
function leadingFlags(pattern: string): {at: number; caseInsensitive: boolean; other: boolean} {
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
function classEnd(pattern: string, from: number): number {
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
function skipBracketed(pattern: string, from: number): number {
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
function topLevelChoice(pattern: string, from: number): boolean {
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

/**
 * Plain text that every match of a valid RE2 pattern contains, read off its top level
 * (`customer_id=(\d+)` holds `customer_id=`), or undefined when there is none that is easy to be
 * sure of: a top-level `|`, and escapes or flags this reader does not follow, give up.
 */
export function requiredLiteral(pattern: string): {text: string; caseInsensitive: boolean} | undefined {
	const flags = leadingFlags(pattern);
	if (topLevelChoice(pattern, flags.at)) {
		return undefined;
	}

	let best = '';
	let run = '';
	const flush = () => {
		if (run.length > best.length) {
			best = run;
		}

		run = '';
	};

	let i = flags.at;
	while (i < pattern.length) {
		const c = pattern[i]!;
		let atom: string | undefined; // the literal character this item is, if it is one
		let next = i + 1;
		if (c === '\\') {
			const e = pattern[i + 1];
			if (e === undefined || (!quotable(e) && !simpleEscape.has(e))) {
				return undefined; // \p{…}, \x{…}, \Q…\E, octal: not followed here
			}

			atom = quotable(e) ? e : undefined;
			next = i + 2;
		} else if (c === '[' || c === '(') {
			if (c === '(' && pattern[i + 1] === '?' && !pattern.startsWith('(?:', i) && !pattern.startsWith('(?P<', i) && !pattern.startsWith('(?<', i)) {
				return undefined; // flags that change what follows, e.g. (?i) in the middle
			}

			next = skipBracketed(pattern, i);
			if (next === -1) {
				return undefined;
			}
		} else if (c === '*' || c === '+' || c === '?' || c === '{' || c === ')') {
			return undefined; // a quantifier here is handled after its atom; anything else is not followed
		} else if (c !== '.' && c !== '^' && c !== '$') {
			atom = c;
		}

		// A quantifier after the item: the item may be absent (* ? {0,}) or repeated.
		const q = pattern[next];
		if (q === '*' || q === '?' || q === '{') {
			flush();
			if (q === '{') {
				const close = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(next));
				if (!close) {
					return undefined;
				}

				next += close[0].length;
			} else {
				next++;
			}
		} else if (q === '+') {
			if (atom !== undefined) {
				run += atom;
			}

			flush();
			next++;
		} else if (atom === undefined) {
			flush();
		} else {
			run += atom;
		}

		if (pattern[next] === '?' && (q === '*' || q === '+' || q === '?' || q === '{')) {
			next++; // lazy
		}

		i = next;
	}

	flush();
	if (best === '' || (flags.caseInsensitive && !isAscii(best))) {
		return undefined;
	}

	return {text: best, caseInsensitive: flags.caseInsensitive};
}

/** A code point for a V8 `u` regex, escaped unless it is an ASCII letter or digit. */
function char(cp: number): string {
	return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5A) || (cp >= 0x61 && cp <= 0x7A) ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`;
}

const controlEscapes: Readonly<Record<string, number>> = {n: 0x0A, t: 0x09, r: 0x0D, f: 0x0C, v: 0x0B, a: 0x07};

/** An RE2 class at `from` for V8 (`u` flag), with where it ends; undefined for what is not followed. */
function translateClass(pattern: string, from: number, caseInsensitive: boolean): {source: string; end: number} | undefined {
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
	let first = true;
	while (j < pattern.length && (pattern[j] !== ']' || first)) {
		first = false;
		let cp: number;
		const c = pattern[j]!;
		if (c === '\\') {
			const e = pattern[j + 1];
			if (e === 'd' || e === 'w' || e === 's') {
				items.push(`\\${e}`);
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
			j += to > 0xFFFF ? 3 : 2;
		} else {
			items.push(char(cp));
		}
	}

	if (pattern[j] !== ']' || items.length === 0) {
		return undefined;
	}

	return {source: `[${negated ? '^' : ''}${items.join('')}]`, end: j + 1};
}

/** The fixed-length start of every match, as a V8 regex (see the top of this file), or undefined. */
export function prefixRegex(pattern: string): RegExp | undefined {
	const flags = leadingFlags(pattern);
	if (flags.other || topLevelChoice(pattern, flags.at)) {
		return undefined;
	}

	const ci = flags.caseInsensitive;
	const parts: string[] = [];
	let atoms = 0;
	let i = flags.at;
	while (i < pattern.length && atoms < 256) {
		const c = pattern[i]!;
		let atom: string | undefined;
		let next = i + 1;
		if (c === '\\') {
			const e = pattern[i + 1];
			if (e === 'b' || e === 'B' || e === 'A') {
				i += 2; // an assertion: left out
				if ('*+?{'.includes(pattern[i] ?? '')) {
					break;
				}

				continue;
			}

			next = i + 2;
			if (e === 'd' || e === 'D' || e === 'w' || e === 's') {
				atom = `\\${e}`;
			} else if (e === 'W' && !ci) {
				atom = '\\W';
			} else if (e === 'S' && !ci) {
				atom = '[^\\t\\n\\f\\r ]'; // RE2's \S is not ASCII whitespace; V8's is not any whitespace
			} else if (e !== undefined && controlEscapes[e] !== undefined) {
				atom = char(controlEscapes[e]!);
			} else if (e !== undefined && quotable(e)) {
				atom = char(e.charCodeAt(0));
			} else {
				break;
			}
		} else if (c === '[') {
			const cls = translateClass(pattern, i, ci);
			if (!cls) {
				break;
			}

			atom = cls.source;
			next = cls.end;
		} else if (c === '.') {
			if (ci) {
				break;
			}

			atom = '[^\\n]';
		} else if (c === '^') {
			i++; // an assertion: left out
			continue;
		} else if ('$()|*+?{}'.includes(c)) {
			break;
		} else {
			const cp = pattern.codePointAt(i)!;
			atom = char(cp);
			next = i + (cp > 0xFFFF ? 2 : 1);
		}

		// Its count: fixed counts go on; anything else ends the start, at its least.
		const q = pattern[next];
		if (q === '*' || q === '?') {
			break;
		}

		if (q === '+') {
			parts.push(atom);
			break;
		}

		if (q === '{') {
			const m = /^\{(\d+)(,\d*)?\}/.exec(pattern.slice(next));
			if (!m) {
				break;
			}

			const n = Math.min(Number(m[1]), 256);
			if (n > 0) {
				parts.push(`${atom}{${n}}`);
				atoms += n;
			}

			if (m[2] !== undefined || n === 0) {
				break;
			}

			next += m[0].length;
			if (pattern[next] === '?') {
				next++; // lazy: the same count
			}
		} else {
			parts.push(atom);
			atoms++;
		}

		i = next;
	}

	if (parts.length === 0) {
		return undefined;
	}

	try {
		return new RegExp(parts.join(''), ci ? 'iu' : 'u');
	} catch {
		return undefined;
	}
}

/** A test that is false only for texts the pattern cannot match. */
export function prefilter(pattern: string): (text: string) => boolean {
	const literal = requiredLiteral(pattern);
	const prefix = prefixRegex(pattern);
	let hasLiteral: ((text: string) => boolean) | undefined;
	if (literal !== undefined) {
		const {text: needle} = literal;
		if (literal.caseInsensitive) {
			const re = new RegExp(needle.replaceAll(/[\\^$.*+?()[\]{}|/]/g, String.raw`\$&`), 'iu');
			hasLiteral = text => re.test(text);
		} else {
			hasLiteral = text => text.includes(needle);
		}
	}

	if (hasLiteral && prefix) {
		return text => hasLiteral(text) && prefix.test(text);
	}

	return hasLiteral ?? (prefix ? text => prefix.test(text) : () => true);
}
