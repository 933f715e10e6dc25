import {prefixRegex} from './regex-prefix.js';
import {escapeEnd, fastRegex, isAscii, leadingFlags, quotable, skipBracketed, topLevelAlternatives, topLevelChoice} from './regex-syntax.js';

// The plain text every match of a user's RE2 regex holds, and cheap tests built on it that tell a
// text the regex cannot match, run on V8's engine before re2js, which is many times slower
// (core/regex.ts). Every redaction, grep and alert rule runs on every line, and most lines match
// none of them.
//
// - `requiredLiterals`, `needle`, `prefilter`: for one pattern without a top-level `|`, the runs of
//   plain text every match holds (`customer_id=(\d+)` holds `customer_id=`), looked for with
//   String#includes, and the start of every match, written for V8 (core/regex-prefix.ts);
// - `requiredText`, `anyOf`: for the alert rules' patterns, one piece of text per top-level
//   alternative, and one V8 regex that looks for the pieces of many patterns at once.

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
	const read = literalRuns(pattern);
	if (read === undefined || read.runs.length === 0) {
		return undefined;
	}

	return {texts: read.runs.filter((r, i) => i === 0 || r.length > 1).slice(0, 3), caseInsensitive: read.caseInsensitive};
}

/** Every run of plain text read off the top level, longest first (the first found first among equals), without repeats. */
function literalRuns(pattern: string): {runs: string[]; caseInsensitive: boolean} | undefined {
	const flags = leadingFlags(pattern);
	if (topLevelChoice(pattern, flags.at)) {
		return undefined;
	}

	const runs = runsOf(pattern.slice(flags.at), flags.caseInsensitive);
	return runs && {runs, caseInsensitive: flags.caseInsensitive};
}

/**
 * The runs of plain text a pattern without a top-level `|` (and without its leading flags) holds in
 * every match: literal characters, none of them optional or repeated past their first, outside groups
 * and classes. Longest first, without repeats; undefined for syntax this reader does not follow.
 */
function runsOf(pattern: string, caseInsensitive: boolean): string[] | undefined {
	const runs: string[] = [];
	let run = '';
	const flush = () => {
		if (run !== '') {
			runs.push(run);
		}

		run = '';
	};

	let i = 0;
	while (i < pattern.length) {
		const c = pattern[i]!;
		let atom: string | undefined; // the literal character this item is, if it is one
		let next = i + 1;
		if (c === '\\') {
			const e = pattern[i + 1];
			if (e === undefined || e === 'Q') {
				return undefined; // \Q…\E: not followed here
			}

			atom = quotable(e) ? e : undefined;
			next = escapeEnd(pattern, i); // \d, \pL, \p{Greek}, \x41: no plain text
			if (next === -1) {
				return undefined;
			}
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
			// One code point: a quantifier after an astral character repeats all of it.
			const cp = pattern.codePointAt(i)!;
			atom = String.fromCodePoint(cp);
			next = i + atom.length;
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
	// Non-ASCII text under (?i) folds differently in V8.
	return [...new Set(runs.filter(r => !caseInsensitive || isAscii(r)))].sort((a, b) => b.length - a.length);
}

/** Text every match of a pattern holds: one of `literals`, ignoring case when `caseInsensitive`. */
export type RequiredText = {
	readonly literals: readonly string[];
	readonly caseInsensitive: boolean;
};

/**
 * Text that every match of a pattern (RE2 syntax) contains, a choice when the pattern is one
 * (`timeout|refused`, `fail(ed|ure)|timeout` holds `fail` or `timeout`): the longest run of plain
 * text of each top-level alternative. A cheap test that rules out most lines before the pattern
 * itself runs (`anyOf`). Undefined when a match may hold no fixed text (`\d+`, `a|b*`) or the pattern
 * uses syntax this reader does not follow (flags past the start, \Q…\E): then the pattern has to run
 * on every line. Case is ignored only with a leading (?i), and then only for ASCII text, where V8
 * and RE2 fold case alike.
 */
export function requiredText(pattern: string): RequiredText | undefined {
	const flags = leadingFlags(pattern);
	const alternatives = topLevelAlternatives(pattern, flags.at);
	const literals: string[] = [];
	for (const alternative of alternatives ?? []) {
		const longest = runsOf(alternative, flags.caseInsensitive)?.[0];
		if (longest === undefined) {
			return undefined;
		}

		literals.push(longest);
	}

	return literals.length > 0 ? {literals, caseInsensitive: flags.caseInsensitive} : undefined;
}

/** One V8 regex that finds whether any of the texts occurs: linear, since nothing can repeat. */
export function anyOf(texts: readonly string[], caseInsensitive: boolean): RegExp {
	// With /u, V8 folds case as RE2 does (the Kelvin sign with k, the long s with s).
	return new RegExp(texts.map(t => escapeLiteral(t)).join('|'), caseInsensitive ? 'iu' : '');
}

/**
 * A piece of text every match holds, for String#includes, or under (?i) for a V8 regex ignoring case.
 * `common`: one character most log lines hold (`-`, `:`), which rules out few.
 */
export type Needle = {text: string; caseInsensitive: boolean; common: boolean};

/**
 * The cheapest look that rules out most texts a pattern cannot match: a piece of the plain text every
 * match holds. V8 finds a piece by its first character and compares the rest, so the piece starts at
 * the rarest character of a run (at least two characters long when the run is). Under (?i), a
 * character no case folds (the `=` of `(?i)session_id=`) is looked for as it is, when it is not common
 * in logs; else a run in any case. Undefined when every match may lack plain text.
 */
export function needle(pattern: string): Needle | undefined {
	const read = literalRuns(pattern);
	if (read === undefined || read.runs.length === 0) {
		return undefined;
	}

	if (read.caseInsensitive) {
		let best: string | undefined;
		for (const run of read.runs) {
			for (const c of run) {
				if (!/[a-z]/i.test(c) && (best === undefined || commonness(c) < commonness(best))) {
					best = c;
				}
			}
		}

		if (best !== undefined && commonness(best) <= rareEnough) {
			return {text: best, caseInsensitive: false, common: false};
		}

		// The longest run; among equals, the one of the rarer characters (`key` before `api`).
		const weight = (run: string) => [...run.toLowerCase()].reduce((sum, c) => sum + commonness(c), 0);
		const longest = read.runs.filter(r => r.length === read.runs[0]!.length);
		const text = longest.reduce((a, b) => (weight(b) < weight(a) ? b : a));
		return {text, caseInsensitive: true, common: text.length === 1 && commonness(text) > rareEnough};
	}

	let best = read.runs[0]!;
	let score = commonness(best[0]!);
	for (const run of read.runs) {
		for (let s = 0; s < run.length && (s === 0 || run.length - s >= 2); s++) {
			const c = commonness(run[s]!);
			if (c < score || (c === score && run.length - s > best.length)) {
				best = run.slice(s);
				score = c;
			}
		}
	}

	return {text: best, caseInsensitive: false, common: best.length === 1 && commonness(best) > rareEnough};
}

/**
 * The characters most common in logs, most common first (measured on the loghub corpus: a space is
 * 9% of all characters, `0` and `1` 6% each, `l` 1.4%); every other character is rarer than these.
 */
const commonInLogs = ' 01e2a5o.:-tr3sn4cid987u6lmpbhNfRg/vSk_';

/** How common a character is in logs: its place from the end of commonInLogs, 0 for rarer ones. */
export function commonness(c: string): number {
	const i = commonInLogs.indexOf(c);
	return i === -1 ? 0 : commonInLogs.length - i;
}

/** Under (?i), a character looked for as it is must be at least this rare (`=`, `_`, `/`, but not `-` or `:`). */
export const rareEnough = commonness('/');

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
		hasLiteral = tests.length === 1 ? tests[0] : text => {
			for (const test of tests) {
				if (!test(text)) {
					return false;
				}
			}

			return true;
		};
	}

	if (hasLiteral && prefix) {
		return text => hasLiteral(text) && prefix.test(text);
	}

	return hasLiteral ?? (prefix ? text => prefix.test(text) : () => true);
}
