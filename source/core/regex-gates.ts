import {commonness, escapeLiteral, needle, rareEnough, requiredLiterals} from './regex-prefilter.js';
import {prefixRegex} from './regex-prefix.js';
import {fastRegex} from './regex-syntax.js';

// Cheap tests that rule out most texts for many user regexes run on the same texts (the redaction
// rules): each test runs at most once per text, however many patterns share it, and a pattern
// whose tests fail costs nothing more.
//
// - A needle (core/regex-prefilter.ts): the plain text a pattern needs, looked for fastest. Patterns
//   that need the same (`=` of `(?i)session_id=` and of `(?i)passport=`) share one look, and a
//   pattern whose text holds another's needle (`sk_live_` holds the `k_` of `tok_`) is looked for
//   only in texts that hold that needle. Patterns that share a needle are then looked for by their
//   starts, all in one regex (below).
// - The patterns with no needle that rules much out (`\b\d{3}-\d{2}-\d{4}\b` needs only `-`,
//   `\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b` no plain text at all) are looked for by the start of their
//   matches (core/regex-prefix.ts), all in one V8 regex: one scan for them all instead of one each.
//   Linear: each start is a bounded sequence that V8 can follow only one way, so the scan reads each
//   character a bounded number of times from each place.

/** Tests past this many are left out (a pattern then runs its own prefilter more often, nothing worse). */
const maxGates = 30;

/** Patterns past this many have no gates (their bits would not fit). */
const maxPatterns = 31;

export class RegexGates {
	/** Plain text looked for as it is, run first. */
	private readonly literals: string[] = [];
	/** Per literal gate: the patterns that need it, as bits (it is looked for only while one of them may still match). */
	private readonly literalUsers: number[] = [];
	/** A letter in lower and upper case, either looked for (pairs of entries), run after the literals. */
	private readonly pairs: string[] = [];
	private readonly pairUsers: number[] = [];
	/** V8 regexes, run last. */
	private readonly regexes: Array<{test(text: string): boolean}> = [];
	/** Per regex gate: the patterns that need it, as bits. */
	private readonly regexUsers: number[] = [];
	/** Per regex gate: is it a V8 regex without flags, whose source another scan may join (`plainSources`)? */
	private readonly plain: boolean[] = [];
	/**
	 * The sources of the regex gates without flags: a scan the caller runs anyway may look for them too,
	 * and tell `check` when it found none of them.
	 */
	readonly plainSources: string[] = [];
	/** Every pattern that has gates, as bits. */
	private readonly all: number;
	/** Patterns past maxPatterns have no gates. */
	private readonly beyond: boolean;
	/** The patterns that passed every test on the current text, as bits. */
	private alive = 0;
	/** Did the current text pass every gate of at least one pattern? */
	any = true;

	constructor(patterns: readonly string[]) {
		const needles = patterns.map(p => needle(p));
		const starts = patterns.map((p, i) => (needles[i] === undefined || needles[i].common ? prefixRegex(p) : undefined));
		// Starts by case mode; alone, a start is the pattern's own prefilter already (core/regex.ts).
		const groups = [false, true].map(ci => patterns.flatMap((_, i) => (starts[i]?.caseInsensitive === ci ? [i] : []))).filter(g => g.length > 1);
		const grouped = new Set(groups.flat());
		const literalGates = new Map<string, number[]>();
		const pairGates = new Map<string, number[]>();
		const regexGates = new Map<string, {make: () => {test(text: string): boolean}; users: number[]}>();
		for (const [i, needs] of needles.entries()) {
			// A common character rules out little that the start would not.
			if (needs === undefined || (needs.common && grouped.has(i))) {
				continue;
			}

			if (needs.caseInsensitive) {
				const key = needs.text.toLowerCase();
				const gate = regexGates.get(key) ?? {make: () => fastRegex(escapeLiteral(needs.text), true), users: []};
				gate.users.push(i);
				regexGates.set(key, gate);
				// Before that regex: a letter of it rare in logs, in either case (two plain searches are
				// cheaper than one regex ignoring case). Not k or s, which RE2 also folds with other letters.
				const letter = [...key].filter(c => /[a-jl-rt-z]/.test(c)).sort((a, b) => commonness(a) - commonness(b))[0];
				if (letter !== undefined && commonness(letter) <= rareEnough) {
					pairGates.set(letter, [...(pairGates.get(letter) ?? []), i]);
				}
			} else {
				literalGates.set(needs.text, [...(literalGates.get(needs.text) ?? []), i]);
			}
		}

		// Another pattern's needle inside this one's plain text: looked for first (it is in the map already).
		for (const [i, p] of patterns.entries()) {
			const runs = requiredLiterals(p);
			if (runs === undefined || runs.caseInsensitive || needles[i] === undefined || needles[i].caseInsensitive) {
				continue;
			}

			for (const [text, users] of literalGates) {
				if (!users.includes(i) && text.length > 1 && runs.texts.some(run => run.includes(text))) {
					users.push(i);
				}
			}
		}

		for (const [k, group] of groups.entries()) {
			regexGates.set(`start ${k}`, {make: () => fastRegex(group.map(i => `(?:${starts[i]!.source})`).join('|'), starts[group[0]!]!.caseInsensitive), users: group});
		}

		// Patterns that share a needle (`=` of `customer_id=`, `session=`, `passport=`): after it, one
		// regex of their starts, by case mode, instead of a search for each on every text holding it.
		for (const [text, users] of literalGates) {
			for (const ci of [false, true]) {
				const sharing = users.filter(i => needles[i]?.text === text && !grouped.has(i) && prefixRegex(patterns[i]!)?.caseInsensitive === ci);
				if (sharing.length > 1) {
					const sources = sharing.map(i => `(?:${prefixRegex(patterns[i]!)!.source})`).join('|');
					regexGates.set(`after ${text} ${ci}`, {make: () => fastRegex(sources, ci), users: sharing});
				}
			}
		}

		this.all = patterns.length >= maxPatterns ? ~0 >>> 1 : (1 << patterns.length) - 1;
		const bits = (users: readonly number[]) => users.reduce((m, i) => (i < maxPatterns ? m | (1 << i) : m), 0);
		for (const [text, users] of literalGates) {
			if (this.literals.length < maxGates) {
				this.literals.push(text);
				this.literalUsers.push(bits(users));
			}
		}

		for (const [letter, users] of pairGates) {
			if (this.pairs.length < maxGates) {
				this.pairs.push(letter, letter.toUpperCase());
				this.pairUsers.push(bits(users));
			}
		}

		for (const gate of regexGates.values()) {
			if (this.regexes.length < maxGates) {
				const regex = gate.make();
				const plain = regex instanceof RegExp && regex.flags === '';
				this.regexes.push(regex);
				this.regexUsers.push(bits(gate.users));
				this.plain.push(plain);
				if (plain) {
					this.plainSources.push(regex.source);
				}
			}
		}

		this.beyond = patterns.length > maxPatterns;
	}

	/**
	 * Run the tests on a text: then `mayMatch` answers for it, and `any` says whether any pattern may match.
	 * `plainFailed`: the caller's scan found none of `plainSources` in the text, so those gates fail unrun.
	 */
	check(text: string, plainFailed = false): void {
		let alive = this.all;
		// A test runs only while a pattern that needs it has passed every test so far.
		for (let g = 0; g < this.literals.length; g++) {
			const users = this.literalUsers[g]!;
			if ((alive & users) !== 0 && !text.includes(this.literals[g]!)) {
				alive &= ~users;
			}
		}

		for (let g = 0; g < this.pairUsers.length; g++) {
			const users = this.pairUsers[g]!;
			if ((alive & users) !== 0 && !text.includes(this.pairs[2 * g]!) && !text.includes(this.pairs[(2 * g) + 1]!)) {
				alive &= ~users;
			}
		}

		for (let g = 0; g < this.regexes.length; g++) {
			const users = this.regexUsers[g]!;
			if ((alive & users) !== 0 && ((plainFailed && this.plain[g]!) || !this.regexes[g]!.test(text))) {
				alive &= ~users;
			}
		}

		this.alive = alive;
		this.any = alive !== 0 || this.beyond;
	}

	/** False when pattern `i` cannot match the text last checked. */
	mayMatch(i: number): boolean {
		return i >= maxPatterns || ((this.alive >>> i) & 1) === 1;
	}
}
