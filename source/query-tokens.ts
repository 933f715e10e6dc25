// Words a `--grep` pattern guarantees: every message it matches holds each of them as a whole word,
// so segments whose bloom filter lacks one are skipped without being read. Pure: no I/O.
//
// Exact or nothing. A pattern yields a word only when a match cannot happen without it:
//   `\bREQ-42\b`, `user=alice;`, ` timeout `   the pieces with a word boundary on both sides;
//   `abc123`                                     nothing: it also matches inside `xabc123y`, a longer word;
//   `a|b`, `fo+`, `[0-9]+`                       nothing: alternation, repetition or classes.
// Several --grep patterns (any may match) guarantee only the words they all guarantee.

/** How the index cuts text into words; must be the writer's own rule, or a query would miss events. */
export type WordRule = {
	/** True for a character that is part of a word (a UTF-16 code unit). */
	isWordChar(code: number): boolean;
	/** Words shorter or longer than this are not indexed, so they cannot be asked for. */
	minLength: number;
	maxLength: number;
};

/** RE2 reads a backslash before ASCII punctuation as that character. */
function quotedPunctuation(c: string | undefined): boolean {
	if (c === undefined) {
		return false;
	}

	const code = c.charCodeAt(0);
	return code < 0x80 && !/[0-9A-Za-z]/.test(c);
}

const special = new Set('.+*?()|[]{}^$');

/** A literal character, or a boundary: `\b`, `^` at the start, `$` at the end. */
type Piece = {char: string} | {boundary: true};

/** The pattern as literal characters and boundaries, or undefined when it uses other syntax. */
function pieces(pattern: string): Piece[] | undefined {
	const out: Piece[] = [];
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i]!;
		if (c === '\\') {
			const next = pattern[i + 1];
			if (next === 'b') {
				out.push({boundary: true});
			} else if (quotedPunctuation(next)) {
				out.push({char: next!});
			} else {
				return undefined;
			}

			i++;
		} else if ((c === '^' && i === 0) || (c === '$' && i === pattern.length - 1)) {
			out.push({boundary: true});
		} else if (special.has(c)) {
			return undefined;
		} else {
			out.push({char: c});
		}
	}

	return out;
}

function isAsciiWordChar(code: number): boolean {
	return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5A) || (code >= 0x61 && code <= 0x7A) || code === 0x5F;
}

/**
 * RE2's `\b` and the ends of the text are edges of an indexed word only when every character the
 * index keeps in words is one RE2 counts as a word character (ASCII letters, digits, `_`): then a
 * character that is not a word character to RE2 is not one to the index either.
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

const edgeCache = new WeakMap<WordRule, boolean>();

/** Under (?i), RE2 folds `s` with the long s (U+017F) and `k` with the Kelvin sign: not ASCII, so cut differently. */
const foldsOutsideAscii = /[sk]/i;

/** The whole words one pattern guarantees (lower-cased), or [] when it guarantees none. */
export function patternWords(pattern: string, rule: WordRule): string[] {
	const caseInsensitive = pattern.startsWith('(?i)');
	const parsed = pieces(caseInsensitive ? pattern.slice(4) : pattern);
	if (!parsed) {
		return [];
	}

	const edges = boundaryIsEdge(rule);
	const words = new Set<string>();
	// Whether the current run of word characters starts at a sure edge of an indexed word.
	let leftEdge = false;
	let run = '';
	const close = (rightEdge: boolean): void => {
		if (leftEdge && rightEdge && run.length >= rule.minLength && run.length <= rule.maxLength
			&& [...run].every(c => isAsciiWordChar(c.charCodeAt(0))) && !(caseInsensitive && foldsOutsideAscii.test(run))) {
			words.add(run.toLowerCase());
		}

		run = '';
	};

	for (const piece of parsed) {
		if ('boundary' in piece) {
			if (run.length > 0) {
				close(edges);
			}

			leftEdge = edges;
		} else if (rule.isWordChar(piece.char.charCodeAt(0))) {
			run += piece.char;
		} else {
			// A literal character the index cuts at: a sure edge on both of its sides.
			if (run.length > 0) {
				close(true);
			}

			leftEdge = true;
		}
	}

	if (run.length > 0) {
		close(false);
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

// Literal text every match holds, for a cheap test on a stored line before it is decoded. A line
// stores the message as a JSON string, which changes only `"`, `\`, control characters and lone
// surrogates: text without those appears in the line exactly as in the message.

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

function storedVerbatim(c: string): boolean {
	const code = c.charCodeAt(0);
	return code >= 0x20 && c !== '"' && c !== '\\' && !(code >= 0xD8_00 && code <= 0xDF_FF);
}

/**
 * The longest run of literal text every match of the pattern holds and a stored line keeps as it
 * is; undefined when there is none (case-insensitive, alternation at the top, or syntax not read here).
 */
export function patternLiteral(pattern: string): string | undefined {
	const runs: string[] = [];
	let run = '';
	const cut = (): void => {
		if (run.length > 0) {
			runs.push(run);
		}

		run = '';
	};

	/** A quantifier after the last atom: a literal character before it may be absent or repeated. */
	const quantifier = (i: number): number => {
		const c = pattern[i];
		const n = c === '*' || c === '+' || c === '?' ? 1 : (c === '{' ? repeatLength(pattern, i) : 0);
		return n > 0 && pattern[i + n] === '?' ? n + 1 : n;
	};

	for (let i = 0; i < pattern.length;) {
		const c = pattern[i]!;
		let atom: string | undefined; // a literal character, or undefined for any other atom
		let next: number;
		if (c === '\\') {
			const e = pattern[i + 1];
			if (e !== undefined && /[!-/:-@[-`{-~]/.test(e)) {
				atom = e;
				next = i + 2;
			} else if (e !== undefined && 'dDwWsSbBAz'.includes(e)) {
				next = i + 2;
			} else if ((e === 'p' || e === 'P') && pattern[i + 2] === '{') {
				const end = pattern.indexOf('}', i + 3);
				if (end < 0) {
					return undefined;
				}

				next = end + 1;
			} else if ((e === 'p' || e === 'P') && /[A-Za-z]/.test(pattern[i + 2] ?? '')) {
				next = i + 3;
			} else {
				return undefined; // \Q…\E, \x, octal, \C…: not read here
			}
		} else if (c === '(') {
			if (/^\(\?[A-Za-z-]*\)/.test(pattern.slice(i))) {
				return undefined; // flags for the rest, such as (?i)
			}

			next = skipBracketed(pattern, i);
			if (next < 0) {
				return undefined;
			}
		} else if (c === '[') {
			next = skipBracketed(pattern, i);
			if (next < 0) {
				return undefined;
			}
		} else if (c === '|') {
			return undefined;
		} else if (c === '.' || c === '^' || c === '$') {
			next = i + 1;
		} else if (c === '*' || c === '+' || c === '?' || c === ')' || (c === '{' && repeatLength(pattern, i) > 0)) {
			return undefined; // a quantifier with nothing before it: leave it to the regex
		} else {
			atom = c;
			next = i + 1;
		}

		const q = quantifier(next);
		if (atom !== undefined && q === 0 && storedVerbatim(atom)) {
			run += atom;
		} else {
			cut();
		}

		i = next + q;
	}

	cut();
	return runs.sort((a, b) => b.length - a.length)[0];
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
