// What a `--grep` pattern guarantees about every message it matches, so that `logmon query` reads
// less. Pure: no I/O. Exact or nothing: a guarantee a match could break would lose events.
//
// - Words, for the segments' bloom filters: a segment whose filter lacks one is not read.
//     `\bREQ-42\b`, `user=alice;`, ` timeout `, `\bERR\d+ at \w+`   the words with an edge on both sides;
//     `abc123`                                      nothing: it also matches inside `xabc123y`, a longer word;
//     `a|b`                                         nothing: alternation at the top.
// - Literal text, for a test of a stored line's bytes before it is decoded: `for user ` in
//   `session (opened|closed) for user \w+`.
// Several --grep patterns (any may match) guarantee only what they all guarantee.
//
// The pattern is read at its top level only: runs of literal characters, cut by anything else
// (groups, classes, `.`, escapes such as `\d`, a quantified character). A run's end is an edge of a
// word when `\b`, `^` or `$` stands there; the characters of a run that are not word characters are
// edges too. Anything not read here gives no guarantee.

/** How the index cuts text into words; must be the writer's own rule, or a query would miss events. */
export type WordRule = {
	/** True for a character that is part of a word (a UTF-16 code unit). */
	isWordChar(code: number): boolean;
	/** Words shorter or longer than this are not indexed, so they cannot be asked for. */
	minLength: number;
	maxLength: number;
};

/** Literal text every match holds, and whether an edge (`\b`, `^`, `$`) stands right before and after it. */
type Run = {text: string; leftEdge: boolean; rightEdge: boolean};

type Parsed = {runs: Run[]; caseInsensitive: boolean};

/** `{n}`, `{n,}`, `{n,m}` at `i`: its length, or 0 when `{` is a literal brace there (as RE2 reads it). */
function repeatLength(pattern: string, i: number): number {
	const m = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i, i + 24));
	return m ? m[0].length : 0;
}

/** Index just past the group or class opening at `i` (`(`, `[`), or -1 when it is not closed. */
function skipBracketed(pattern: string, i: number): number {
	if (pattern[i] === '[') {
		let j = i + 1;
		if (pattern[j] === '^') {
			j++;
		}

		if (pattern[j] === ']') {
			j++; // a leading ] is literal
		}

		for (; j < pattern.length; j++) {
			if (pattern[j] === '\\') {
				j++;
			} else if (pattern.startsWith('[:', j)) {
				const end = pattern.indexOf(':]', j + 2);
				if (end < 0) {
					return -1;
				}

				j = end + 1;
			} else if (pattern[j] === ']') {
				return j + 1;
			}
		}

		return -1;
	}

	let depth = 0;
	for (let j = i; j < pattern.length; j++) {
		const c = pattern[j];
		if (c === '\\') {
			j++;
		} else if (c === '[') {
			const end = skipBracketed(pattern, j);
			if (end < 0) {
				return -1;
			}

			j = end - 1;
		} else if (c === '(') {
			depth++;
		} else if (c === ')' && --depth === 0) {
			return j + 1;
		}
	}

	return -1;
}

/** One atom at `i`: a literal character, an edge, or something else; undefined for syntax not read here. */
function atomAt(pattern: string, i: number): {literal?: string; edge?: boolean; next: number} | undefined {
	const c = pattern[i]!;
	if (c === '\\') {
		const e = pattern[i + 1];
		if (e !== undefined && /[!-/:-@[-`{-~]/.test(e)) {
			return {literal: e, next: i + 2}; // quoted ASCII punctuation
		}

		if (e === 'b') {
			return {edge: true, next: i + 2};
		}

		if (e !== undefined && 'dDwWsSBAz'.includes(e)) {
			return {next: i + 2};
		}

		if ((e === 'p' || e === 'P') && pattern[i + 2] === '{') {
			const end = pattern.indexOf('}', i + 3);
			return end < 0 ? undefined : {next: end + 1};
		}

		if ((e === 'p' || e === 'P') && /[A-Za-z]/.test(pattern[i + 2] ?? '')) {
			return {next: i + 3};
		}

		return undefined; // \Q…\E, \x, octal, \C…
	}

	if (c === '(') {
		if (/^\(\?[A-Za-z-]*\)/.test(pattern.slice(i))) {
			return undefined; // flags for the rest, such as (?i) after the start
		}

		const next = skipBracketed(pattern, i);
		return next < 0 ? undefined : {next};
	}

	if (c === '[') {
		const next = skipBracketed(pattern, i);
		return next < 0 ? undefined : {next};
	}

	if (c === '^' || c === '$') {
		// Without (?m), RE2's ^ and $ match only at the ends of the text: nothing stands beyond them.
		return {edge: true, next: i + 1};
	}

	if (c === '.') {
		return {next: i + 1};
	}

	if (c === '|' || c === ')' || c === '*' || c === '+' || c === '?' || (c === '{' && repeatLength(pattern, i) > 0)) {
		return undefined; // alternation at the top, or a quantifier with nothing before it
	}

	return {literal: c, next: i + 1};
}

/** A quantifier at `i` (after an atom): its length, 0 when there is none. */
function quantifierAt(pattern: string, i: number): number {
	const c = pattern[i];
	const n = c === '*' || c === '+' || c === '?' ? 1 : (c === '{' ? repeatLength(pattern, i) : 0);
	return n > 0 && pattern[i + n] === '?' ? n + 1 : n;
}

function parse(pattern: string): Parsed | undefined {
	const caseInsensitive = pattern.startsWith('(?i)');
	const body = caseInsensitive ? pattern.slice(4) : pattern;
	const runs: Run[] = [];
	let run = '';
	let leftEdge = false;
	const cut = (rightEdge: boolean): void => {
		if (run.length > 0) {
			runs.push({text: run, leftEdge, rightEdge});
		}

		run = '';
	};

	for (let i = 0; i < body.length;) {
		const atom = atomAt(body, i);
		if (!atom) {
			return undefined;
		}

		const q = quantifierAt(body, atom.next);
		if (atom.literal !== undefined && q === 0) {
			run += atom.literal;
		} else if (atom.edge && q === 0) {
			cut(true);
			leftEdge = true;
		} else {
			// Anything else, or a quantified atom: what stands here is unknown.
			cut(false);
			leftEdge = false;
		}

		i = atom.next + q;
	}

	cut(false);
	return {runs, caseInsensitive};
}

function isAsciiWordChar(code: number): boolean {
	return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5A) || (code >= 0x61 && code <= 0x7A) || code === 0x5F;
}

const edgeCache = new WeakMap<WordRule, boolean>();

/**
 * RE2's `\b` is an edge of an indexed word only when every character the index keeps in words is
 * one RE2 counts as a word character (ASCII letters, digits, `_`): then a character that is not a
 * word character to RE2 is not one to the index either. (`^` and `$` are ends of the text: always edges.)
 */
function boundaryIsEdge(rule: WordRule): boolean {
	const known = edgeCache.get(rule);
	if (known !== undefined) {
		return known;
	}

	let edge = true;
	for (let code = 0; code <= 0xFF_FF && edge; code++) {
		edge = !rule.isWordChar(code) || isAsciiWordChar(code);
	}

	edgeCache.set(rule, edge);
	return edge;
}

/** Under (?i), RE2 folds `s` with the long s (U+017F) and `k` with the Kelvin sign: not ASCII, so cut differently. */
const foldsOutsideAscii = /[sk]/i;

/** The whole words one pattern guarantees (lower-cased), or [] when it guarantees none. */
export function patternWords(pattern: string, rule: WordRule): string[] {
	const parsed = parse(pattern);
	if (!parsed) {
		return [];
	}

	// `^` and `$` are always edges; `\b` only when the index's words are RE2's. Both parse as edges,
	// so with a wider rule every edge from the pattern is dropped.
	const patternEdges = boundaryIsEdge(rule);
	const words = new Set<string>();
	for (const {text, leftEdge, rightEdge} of parsed.runs) {
		let start = -1;
		for (let i = 0; i <= text.length; i++) {
			const inWord = i < text.length && rule.isWordChar(text.charCodeAt(i));
			if (inWord && start < 0) {
				start = i;
			} else if (!inWord && start >= 0) {
				const word = text.slice(start, i);
				const edgedLeft = start > 0 || (leftEdge && patternEdges);
				const edgedRight = i < text.length || (rightEdge && patternEdges);
				if (edgedLeft && edgedRight && word.length >= rule.minLength && word.length <= rule.maxLength
					&& [...word].every(c => isAsciiWordChar(c.charCodeAt(0))) && !(parsed.caseInsensitive && foldsOutsideAscii.test(word))) {
					words.add(word.toLowerCase());
				}

				start = -1;
			}
		}
	}

	return [...words];
}

/**
 * The words every match of the --grep patterns holds, for HistoryQuery.tokens: those common to all
 * patterns (any pattern may match), none when there is no pattern or one guarantees nothing.
 */
export function grepWords(patterns: readonly string[], rule: WordRule): string[] {
	if (patterns.length === 0) {
		return [];
	}

	let common: Set<string> | undefined;
	for (const p of patterns) {
		const words = new Set(patternWords(p, rule));
		common = common ? new Set([...common].filter(w => words.has(w))) : words;
		if (common.size === 0) {
			return [];
		}
	}

	return [...common!];
}

/**
 * A line stores the message as a JSON string, which changes only `"`, `\`, control characters and
 * lone surrogates: text without those is in the line exactly as in the message.
 */
function storedVerbatim(c: string): boolean {
	const code = c.charCodeAt(0);
	return code >= 0x20 && c !== '"' && c !== '\\' && !(code >= 0xD8_00 && code <= 0xDF_FF);
}

/**
 * The longest literal text every match of the pattern holds and a stored line keeps as it is;
 * undefined when there is none (case-insensitive, alternation at the top, or syntax not read here).
 */
export function patternLiteral(pattern: string): string | undefined {
	const parsed = parse(pattern);
	if (!parsed || parsed.caseInsensitive) {
		return undefined;
	}

	let best = '';
	for (const {text} of parsed.runs) {
		let piece = '';
		for (const c of text) {
			if (storedVerbatim(c)) {
				piece += c;
			} else {
				piece = '';
			}

			if (piece.length > best.length) {
				best = piece;
			}
		}
	}

	return best === '' ? undefined : best;
}

/** A literal per --grep pattern (any may match), or undefined when one of them has none. */
export function grepLiterals(patterns: readonly string[]): string[] | undefined {
	if (patterns.length === 0) {
		return undefined;
	}

	const out: string[] = [];
	for (const p of patterns) {
		const literal = patternLiteral(p);
		if (literal === undefined) {
			return undefined;
		}

		out.push(literal);
	}

	return out;
}
