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
