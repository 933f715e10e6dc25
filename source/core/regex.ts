import {RE2JS} from 're2js';
import {prefilter} from './regex-prefilter.js';
import {isAscii, quotable} from './regex-syntax.js';

// Every regex a user gives logmon (--grep, --exclude, the `f` prompt, `/` search, logio
// subscriber parameters, and later alert, forward and redaction rules) is compiled here.
//
// The syntax and the meaning are RE2's, as Go's regexp package and the logio server have them,
// and matching takes time linear in the input whatever the pattern: V8's backtracking engine
// needs seconds for `.*foo.*bar` on one long line. Patterns that are plain text or a choice of
// plain texts (most of what people type: `ERROR`, `timeout|refused`) run on V8's engine, which
// is linear for them and several times faster than re2js; everything else runs on re2js.

export class FilterError extends Error {
	constructor(readonly flag: string, message: string) {
		super(`${flag}: ${message}`);
		this.name = 'FilterError';
	}
}

export type UserRegex = {
	/** The pattern as the user wrote it. */
	readonly source: string;
	/** Does it match anywhere in text (unanchored, like grep and Go's MatchString)? */
	test(text: string): boolean;
	/**
	 * Where it matches, leftmost-first and non-overlapping, as UTF-16 [start, end) pairs: for
	 * highlighting. With `group`, where that capture group matched (matches without it are left out).
	 */
	ranges(text: string, limit?: number, group?: number): Array<[number, number]>;
	/** How many capture groups the pattern has. */
	readonly groups: number;
	/** False for texts it cannot match, cheaply; true says nothing (core/regex-prefilter.ts). */
	mayMatch(text: string): boolean;
};

const special = new Set('\\.+*?()|[]{}^$');

/**
 * The alternatives of a pattern made only of plain text and `|`, with quoted punctuation
 * unquoted; undefined when the pattern uses any other syntax.
 */
export function literalAlternatives(pattern: string): string[] | undefined {
	const out: string[] = [];
	let current = '';
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i]!;
		const code = c.charCodeAt(0);
		if (code >= 0xD800 && code <= 0xDFFF) {
			return undefined; // astral text: RE2 counts code points, V8 without /u counts halves
		}

		if (c === '|') {
			out.push(current);
			current = '';
		} else if (c === '\\') {
			const next = pattern[i + 1];
			if (next === undefined || !quotable(next)) {
				return undefined;
			}

			current += next;
			i++;
		} else if (special.has(c)) {
			return undefined;
		} else {
			current += c;
		}
	}

	out.push(current);
	return out;
}

function escapeForV8(text: string): string {
	return text.replaceAll(/[\\^$.*+?()[\]{}|/]/g, String.raw`\$&`);
}

/** Text every match of a pattern holds: one of `literals`, ignoring case when `caseInsensitive`. */
export type RequiredText = {
	readonly literals: readonly string[];
	readonly caseInsensitive: boolean;
};

/** Index of the `]` closing the class opened at `start`, or -1. RE2: `[]a]` and `[^]a]` hold a `]`; `[[:alpha:]]` nests. */
function classEnd(pattern: string, start: number): number {
	let i = start + 1;
	if (pattern[i] === '^') {
		i++;
	}

	if (pattern[i] === ']') {
		i++;
	}

	while (i < pattern.length) {
		const c = pattern[i];
		if (c === '\\') {
			i += 2;
		} else if (c === '[' && pattern[i + 1] === ':') {
			const close = pattern.indexOf(':]', i + 2);
			if (close < 0) {
				return -1;
			}

			i = close + 2;
		} else if (c === ']') {
			return i;
		} else {
			i++;
		}
	}

	return -1;
}

/** Index of the `)` closing the group opened at `start`, or -1. */
function groupEnd(pattern: string, start: number): number {
	let depth = 0;
	for (let i = start; i < pattern.length; i++) {
		const c = pattern[i];
		if (c === '\\') {
			i++;
		} else if (c === '[') {
			i = classEnd(pattern, i);
			if (i < 0) {
				return -1;
			}
		} else if (c === '(') {
			depth++;
		} else if (c === ')' && --depth === 0) {
			return i;
		}
	}

	return -1;
}

/** Where an escape that is not quoted punctuation ends: `\d`, `\pL`, `\p{Greek}`, `\x41`, `\x{263a}`, `\123`. */
function escapeEnd(pattern: string, start: number): number {
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

/**
 * Of each top-level alternative of a pattern, the longest run of characters that every match
 * of it holds as they are: literal characters, none of them optional or repeated, outside
 * groups and classes. Undefined when an alternative has none.
 */
function longestRuns(pattern: string): string[] | undefined {
	const out: string[] = [];
	let best = '';
	let run = '';
	const endRun = (): void => {
		if (run.length > best.length) {
			best = run;
		}

		run = '';
	};

	let i = 0;
	while (i < pattern.length) {
		const c = pattern[i]!;
		const code = c.charCodeAt(0);
		if (code >= 0xD800 && code <= 0xDFFF) {
			return undefined;
		}

		if (c === '|') {
			endRun();
			if (best === '') {
				return undefined;
			}

			out.push(best);
			best = '';
			i++;
		} else if (c === '(' || c === '[') {
			endRun();
			const close = c === '(' ? groupEnd(pattern, i) : classEnd(pattern, i);
			if (close < 0) {
				return undefined;
			}

			i = close + 1;
		} else if (c === '?' || c === '*' || c === '+' || c === '{') {
			// The atom before may be absent or repeated: it is no part of a run.
			run = run.slice(0, -1);
			endRun();
			const repeat = c === '{' ? /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i)) : null;
			i += repeat ? repeat[0].length : 1;
		} else if (c === '\\') {
			const next = pattern[i + 1];
			if (next === undefined) {
				return undefined;
			}

			if (quotable(next)) {
				run += next;
				i += 2;
			} else {
				endRun();
				i = escapeEnd(pattern, i);
				if (i < 0) {
					return undefined;
				}
			}
		} else if (c === '.' || c === '^' || c === '$') {
			endRun();
			i++;
		} else {
			run += c;
			i++;
		}
	}

	endRun();
	if (best === '') {
		return undefined;
	}

	out.push(best);
	return out;
}

/**
 * Text that every match of a pattern (RE2 syntax) contains: a cheap test that rules out most
 * lines before the pattern itself runs. Undefined when a match may hold no fixed text (`\d+`,
 * `a|b*`) or the pattern uses syntax this reading does not follow (flags past the start, \Q…\E):
 * then the pattern has to run on every line. Case is ignored only with a leading (?i), and
 * then only for ASCII text, where V8 and RE2 fold case alike.
 */
export function requiredText(pattern: string): RequiredText | undefined {
	let body = pattern;
	let caseInsensitive = false;
	if (body.startsWith('(?i)')) {
		caseInsensitive = true;
		body = body.slice(4);
	}

	if (/\(\?[a-zA-Z-]*\)|\\Q/.test(body)) {
		return undefined;
	}

	const alternatives = literalAlternatives(body) ?? longestRuns(body);
	if (!alternatives || alternatives.some(a => a === '' || (caseInsensitive && !isAscii(a)))) {
		return undefined;
	}

	return {literals: alternatives, caseInsensitive};
}

/** One V8 regex that finds whether any of the texts occurs: linear, since nothing can repeat. */
export function anyOf(texts: readonly string[], caseInsensitive: boolean): RegExp {
	return new RegExp(texts.map(t => escapeForV8(t)).join('|'), caseInsensitive ? 'iu' : '');
}

/** Plain text, or a choice of plain texts, on V8's engine: linear, since nothing can repeat. */
function nativeLiteral(source: string, alternatives: string[], caseInsensitive: boolean): UserRegex {
	const body = alternatives.map(a => escapeForV8(a)).join('|');
	// With /u, V8 folds case as RE2 does (the Kelvin sign with k, the long s with s).
	const flags = caseInsensitive ? 'iu' : '';
	const re = new RegExp(body, flags);
	const global = new RegExp(body, flags + 'g');
	return {
		source,
		groups: 0,
		mayMatch: () => true,
		test: text => re.test(text),
		ranges(text, limit = Number.POSITIVE_INFINITY) {
			const out: Array<[number, number]> = [];
			global.lastIndex = 0;
			let m: RegExpExecArray | null;
			while (out.length < limit && (m = global.exec(text)) !== null) {
				const end = m.index + m[0].length;
				out.push([m.index, end]);
				if (end === m.index) {
					global.lastIndex++; // an empty alternative: step on
				}
			}

			return out;
		},
	};
}

/** `mayMatch`: false for texts the pattern cannot match (core/regex-prefilter.ts); V8 tells that many times faster than re2js. */
function re2(source: string, compiled: RE2JS, mayMatch: (text: string) => boolean = () => true): UserRegex {
	const absent = (text: string) => !mayMatch(text);
	return {
		source,
		groups: compiled.groupCount(),
		mayMatch,
		test: text => !absent(text) && compiled.test(text),
		ranges(text, limit = Number.POSITIVE_INFINITY, group = 0) {
			const out: Array<[number, number]> = [];
			if (absent(text)) {
				return out;
			}

			// Finding where, with groups, is slower still: only when there is something to find.
			if (group > 0 && !compiled.test(text)) {
				return out;
			}

			const m = compiled.matcher(text);
			while (out.length < limit && m.find()) {
				const start = m.start(group);
				if (start !== -1) {
					out.push([start, m.end(group)]);
				}
			}

			return out;
		},
	};
}

function reason(error: unknown): string {
	const text = (error instanceof Error ? error.message : String(error)).replace(/^error parsing regexp: /, '');
	// Say why the usual Perl and JavaScript habits are refused.
	if (/`\\(?:[1-9]|k)/.test(text)) {
		return `${text} (backreferences are not supported: logmon's regexes are RE2's, which run in linear time)`;
	}

	if (/`\(\?<?[=!]/.test(text)) {
		return `${text} (lookarounds are not supported: logmon's regexes are RE2's, which run in linear time)`;
	}

	return text;
}

/** Compile a user regex in RE2 syntax, or throw a FilterError naming the flag (or parameter) it came from. */
export function compileUserRegex(pattern: string, flag: string): UserRegex {
	let body = pattern;
	let caseInsensitive = false;
	// A leading (?i) is the common case-insensitive switch (grep -P, RE2, logio).
	if (body.startsWith('(?i)')) {
		caseInsensitive = true;
		body = body.slice(4);
	}

	const alternatives = literalAlternatives(body);
	// Case folding beyond ASCII differs in detail between the engines (RE2 folds the Kelvin sign into k).
	if (alternatives && (!caseInsensitive || isAscii(body))) {
		return nativeLiteral(pattern, alternatives, caseInsensitive);
	}

	try {
		return re2(pattern, RE2JS.compile(pattern), prefilter(pattern));
	} catch (error) {
		throw new FilterError(flag, `invalid regular expression ${JSON.stringify(pattern)}: ${reason(error)}`);
	}
}

/** The UI's plain-text search: the text itself, optionally ignoring case. Quoted, it takes the same paths as a regex. */
export function compileLiteralSearch(text: string, caseInsensitive: boolean): UserRegex {
	return compileUserRegex((caseInsensitive ? '(?i)' : '') + RE2JS.quote(text), 'search');
}
