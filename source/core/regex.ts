import {createRequire} from 'node:module';
import type {RE2JS} from 're2js';
import {type BoundedRegex, boundedRegex} from './regex-bounded.js';
import {escapeLiteral, prefilter} from './regex-prefilter.js';
import {isAscii, quotable} from './regex-syntax.js';

// Every regex a user gives logmon (--grep, --exclude, the `f` prompt, `/` search, logio
// subscriber parameters, and later alert, forward and redaction rules) is compiled here.
//
// The syntax and the meaning are RE2's, as Go's regexp package and the logio server have them,
// and matching takes time linear in the input whatever the pattern: V8's backtracking engine
// needs seconds for `.*foo.*bar` on one long line. Patterns that are plain text or a choice of
// plain texts (most of what people type: `ERROR`, `timeout|refused`) run on V8's engine, which
// is linear for them and several times faster than re2js; everything else runs on re2js.

// re2js is the largest module logmon has (260 KB of code: 10 to 20 ms to compile and run on
// every start, measured on Node 20) and most runs never use it: no regex at all, or only plain
// text ones, which run on V8's engine. So it is loaded the first time a pattern needs it. The
// bundle carries it as a file of its own and the single executable bundles it in: both build
// scripts rewrite the call below (scripts/bundle.mjs, scripts/build-exe.mjs).
let engine: typeof RE2JS | undefined;

function re2js(): typeof RE2JS {
	engine ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS;
	return engine;
}

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
	/** Does it run on V8's engine (then `mayMatch` is no cheaper than `test`)? */
	readonly native: boolean;
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

/**
 * Every match of a global V8 regex as Go's regexp finds them: an empty match steps on by a code
 * point, and one right after a match is left out. For a group, `withIndices` (the same regex, sticky,
 * with `d`) reads it where a match starts: V8 takes a slower way for every search with `d`.
 */
function findAll(global: RegExp, text: string, limit: number, group = 0, withIndices?: RegExp): Array<[number, number]> {
	const out: Array<[number, number]> = [];
	global.lastIndex = 0;
	let previousEnd = -1;
	let m: RegExpExecArray | null;
	while (out.length < limit && (m = global.exec(text)) !== null) {
		const end = m.index + m[0].length;
		const abutting = end === m.index && m.index === previousEnd;
		previousEnd = end;
		if (end === m.index) {
			const code = text.charCodeAt(end);
			global.lastIndex = end + (code >= 0xD8_00 && code <= 0xDB_FF && end + 1 < text.length ? 2 : 1);
			if (abutting) {
				continue;
			}
		}

		if (group === 0) {
			out.push([m.index, end]);
			continue;
		}

		withIndices!.lastIndex = m.index;
		const at = withIndices!.exec(text)?.indices?.[group];
		if (at !== undefined) {
			out.push([at[0], at[1]]);
		}
	}

	return out;
}

/** Plain text, or a choice of plain texts, on V8's engine: linear, since nothing can repeat. */
function nativeLiteral(source: string, alternatives: string[], caseInsensitive: boolean): UserRegex {
	const body = alternatives.map(a => escapeLiteral(a)).join('|');
	// With /u, V8 folds case as RE2 does (the Kelvin sign with k, the long s with s).
	const flags = caseInsensitive ? 'iu' : '';
	const re = new RegExp(body, flags);
	const global = new RegExp(body, flags + 'g');
	return {
		source,
		groups: 0,
		native: true,
		mayMatch: () => true,
		test: text => re.test(text),
		ranges: (text, limit = Number.POSITIVE_INFINITY) => findAll(global, text, limit, 0),
	};
}

/** A pattern core/regex-bounded.ts wrote for V8: matches found as Go's regexp finds them. */
function nativeBounded(source: string, bounded: BoundedRegex, groups: number): UserRegex {
	const re = new RegExp(bounded.source, bounded.flags);
	const global = new RegExp(bounded.source, bounded.flags + 'g');
	const withIndices = new RegExp(bounded.source, bounded.flags + 'yd');
	return {
		source,
		groups,
		native: true,
		mayMatch: () => true,
		test: text => re.test(text),
		ranges: (text, limit = Number.POSITIVE_INFINITY, group = 0) => findAll(global, text, limit, group, withIndices),
	};
}

/** `mayMatch`: false for texts the pattern cannot match (core/regex-prefilter.ts); V8 tells that many times faster than re2js. */
function re2(source: string, compiled: RE2JS, mayMatch: (text: string) => boolean = () => true): UserRegex {
	const absent = (text: string) => !mayMatch(text);
	return {
		source,
		groups: compiled.groupCount(),
		native: false,
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

	// Loaded outside the try: a failure to load it is not the pattern's fault.
	const RE2 = re2js();
	let compiled: RE2JS;
	try {
		compiled = RE2.compile(pattern);
	} catch (error) {
		throw new FilterError(flag, `invalid regular expression ${JSON.stringify(pattern)}: ${reason(error)}`);
	}

	const bounded = boundedRegex(pattern);
	return bounded ? nativeBounded(pattern, bounded, compiled.groupCount()) : re2(pattern, compiled, prefilter(pattern));
}

/** The UI's plain-text search: the text itself, optionally ignoring case. Quoted, it takes the same paths as a regex. */
export function compileLiteralSearch(text: string, caseInsensitive: boolean): UserRegex {
	return compileUserRegex((caseInsensitive ? '(?i)' : '') + re2js().quote(text), 'search');
}
