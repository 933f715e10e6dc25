import {prefixRegex} from './regex-prefix.js';
import {fastRegex, isAscii, leadingFlags, quotable, simpleEscape, skipBracketed, topLevelChoice} from './regex-syntax.js';

// Cheap tests that tell a text a user's RE2 regex cannot match, run on V8's engine before re2js,
// which is many times slower (core/regex.ts). Every redaction and grep rule runs on every line,
// and most lines match none of them.
//
// Two tests, each a necessary condition, read off the pattern's top level:
// - plain text every match holds (`customer_id=(\d+)` holds `customer_id=`): String#includes;
// - the start of every match, written for V8 (core/regex-prefix.ts).
// A pattern with a top-level `|` gets neither.

/**
 * Plain text that every match of a valid RE2 pattern contains, read off its top level
 * (`customer_id=(\d+)` holds `customer_id=`), or undefined when there is none that is easy to be
 * sure of: a top-level `|`, and escapes or flags this reader does not follow, give up.
 */
export function requiredLiteral(pattern: string): {text: string; caseInsensitive: boolean} | undefined {
	const all = requiredLiterals(pattern);
	return all === undefined ? undefined : {text: all.texts[0]!, caseInsensitive: all.caseInsensitive};
}

/**
 * Every piece of plain text read off the pattern's top level that every match holds, longest first
 * (at most three; pieces of one character only when there is no longer one): `(?i)api[_-]?key`
 * holds both `api` and `key`, and a line must hold both.
 */
export function requiredLiterals(pattern: string): {texts: string[]; caseInsensitive: boolean} | undefined {
	const flags = leadingFlags(pattern);
	if (topLevelChoice(pattern, flags.at)) {
		return undefined;
	}

	const runs: string[] = [];
	let run = '';
	const flush = () => {
		if (run !== '') {
			runs.push(run);
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
	// The longest first (the first found first among equals); non-ASCII text under (?i) folds differently in V8.
	const usable = [...new Set(runs.filter(r => !flags.caseInsensitive || isAscii(r)))].sort((a, b) => b.length - a.length);
	if (usable.length === 0) {
		return undefined;
	}

	return {texts: usable.filter((r, i) => i === 0 || r.length > 1).slice(0, 3), caseInsensitive: flags.caseInsensitive};
}

/** Plain text as a V8 regex source, with or without the `u` flag. */
export function escapeLiteral(text: string): string {
	return text.replaceAll(/[\\^$.*+?()[\]{}|/]/g, String.raw`\$&`);
}

/** A test that is false only for texts the pattern cannot match. */
export function prefilter(pattern: string): (text: string) => boolean {
	const literals = requiredLiterals(pattern);
	const start = prefixRegex(pattern);
	const prefix = start && fastRegex(start.source, start.caseInsensitive);
	let hasLiteral: ((text: string) => boolean) | undefined;
	if (literals !== undefined) {
		const tests = literals.texts.map(needle => {
			if (literals.caseInsensitive) {
				const re = fastRegex(escapeLiteral(needle), true);
				return (text: string) => re.test(text);
			}

			return (text: string) => text.includes(needle);
		});
		hasLiteral = text => tests.every(test => test(text));
	}

	if (hasLiteral && prefix) {
		return text => hasLiteral(text) && prefix.test(text);
	}

	return hasLiteral ?? (prefix ? text => prefix.test(text) : () => true);
}
