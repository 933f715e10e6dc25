import {Hits, builtinRules, placeholder} from './redact-rules.js';
import {Memo, type RedactHealth, type RedactMode, type RedactSpec, type Rule, checkField, compileUserRules, ruleNames} from './redact-spec.js';
import {maxPaths, maxSteps} from './regex-bounded.js';
import {gateSource} from './regex-gate-source.js';
import {RegexGates} from './regex-gates.js';
import {escapeLiteral} from './regex-prefilter.js';
import {RedactScreen, markStrings} from './redact-screen.js';

// Redaction of one text: the rules compiled from a spec (built-in, user and field rules), one scan
// for the built-in rules' marks and what the user rules look for (a stretch of their matches that
// starts at a rare character, core/regex-gate-source.ts; a user rule with none has its gates,
// core/regex-gates.ts), each rule run where that scan stopped, the spans found replaced leftmost
// first, and each rule's hits counted. core/redact.ts builds the event stage on it.

export class TextRedactor {
	readonly mode: RedactMode;
	protected readonly rules: Rule[] = [];
	protected readonly enabled: ReadonlySet<string>;
	/** One scan for the marks every enabled built-in rule starts from; undefined when none is on. */
	private readonly trigger: RegExp | undefined;
	/** Built-in rule indices by the first character of their marks. */
	private readonly dispatch: number[][] = Array.from({length: 128}, () => []);
	/** Built-in rules that find their own marks (cards, e-mail and IP addresses), and how. */
	private readonly scanners: number[] = [];
	private readonly scanFns: Array<(text: string, hits: Hits) => void> = [];
	/** Per scanner: the V8 source of the marks it starts from, when the rule gives one. */
	private readonly scanMarks: Array<string | undefined> = [];
	protected readonly users: number[] = [];
	/** Cheap tests that rule out the user rules not in the joined scan for most texts, each run at most once per text. */
	private readonly gates: RegexGates;
	/**
	 * With user rules: one test for the marks of a built-in rule's own scan (the card rule's) and the
	 * user rules' plain regex gates. Most texts hold none of them, and pass over them once instead of
	 * twice: that scan and those gates are skipped. Undefined unless there is such a scan and such a gate.
	 */
	private readonly marksAndGates: RegExp | undefined;
	/** The scanner (its place in `scanners`) whose marks `marksAndGates` looks for, or -1. */
	private readonly markedScan: number = -1;
	/**
	 * With user rules: the built-in marks (group 1) and what each joined user rule looks for
	 * (core/regex-gate-source.ts), one scan for them all; undefined without user rules or when none joins.
	 */
	private readonly joined: RegExp | undefined;
	/** At a place the joined scan stopped: which joined user rules match there (group k + 1 for the k-th). */
	private readonly joinedAt: RegExp | undefined;
	/** Per ASCII character: may a joined user rule's stretch start with it? (Others may start beyond ASCII.) */
	private readonly userStart = new Uint8Array(128);
	/** The joined user rules' stretches alone: looked for inside what a built-in rule found, where the joined scan skips. */
	private readonly userOnly: RegExp | undefined;
	/** The user rules (by their place in `users`) in the joined scan, and the rest, which their gates test. */
	private readonly joinedUsers: number[] = [];
	private readonly gatedUsers: number[] = [];
	/** Per user rule: the stamp of the scan that found its gate source in the current text. */
	private readonly userFound: number[] = [];
	/** Field rules by the last key of their path. */
	protected readonly fieldsByKey = new Map<string, number[]>();
	/** Where each rule may look again in the current text (valid when its stamp is the scan's). */
	private readonly resume: number[];
	private readonly resumeStamp: number[];
	private scanStamp = 0;
	/** Counts the texts the joined scan has read: `userFound` holds it for the rules found in the current one. */
	private joinedStamp = 0;
	/** How many joined user rules the joined scan found in the current text. */
	private joinedFound = 0;
	protected readonly hits = new Hits();
	private readonly pseudonyms = new Memo<string>(10_000);
	/** Counts the event (or text) being redacted: a rule's hit counts once per event. */
	protected serial = 0;
	/** Texts shorter than this cannot hold a match of the enabled rules. */
	protected readonly shortest: number;
	/** Events at least one rule changed. */
	changed = 0;
	private changedStamp = 0;
	/**
	 * With the built-in rules alone (no user rules, no scanner but the card rule's): which texts of a
	 * batch hold a mark, in WebAssembly (core/redact-screen.ts); undefined where it cannot tell. Made
	 * for the first batch (`batchScreen`): a redactor of single lines never needs it.
	 */
	protected screener: RedactScreen | undefined;
	private screenMade = false;
	failures = 0;
	lastFailure: string | undefined;
	/** Why the screen failed, once it has (the rules' own scans answer from then on; nothing is let through). */
	screenFailure: string | undefined;

	/** `pseudonym`: the keyed hash of a value, for hash mode (made outside core: it needs the key). */
	constructor(spec: RedactSpec, private readonly pseudonym?: (value: string) => string) {
		this.mode = spec.mode;
		const on = new Set(builtinRules.filter(r => r.onByDefault).map(r => r.name));
		for (const n of ruleNames(spec.enable, spec.from?.enable ?? '--redact-enable')) {
			on.add(n);
		}

		for (const n of ruleNames(spec.disable, spec.from?.disable ?? '--redact-disable')) {
			on.delete(n);
		}

		this.enabled = on;
		// The marks by their first character: `A(?:KIA|…)|k(?:[Ee][Yy]|s\.slack…)|…`.
		const marks = new Map<string, string[]>();
		for (const b of builtinRules) {
			if (on.has(b.name)) {
				const index = this.add({name: b.name, kind: 'built-in', builtin: b});
				if ('scan' in b) {
					this.scanners.push(index);
					this.scanFns.push(b.scan);
					this.scanMarks.push(b.mark);
					continue;
				}

				for (const mark of b.marks) {
					const first = mark[0]!;
					const rules = this.dispatch[first.charCodeAt(0)]!;
					if (!rules.includes(index)) {
						rules.push(index);
					}

					marks.set(first, [...(marks.get(first) ?? []), mark.slice(1)]);
				}
			}
		}

		const grouped = [...marks].map(([first, rests]) => escapeLiteral(first) + (rests.length === 1 ? rests[0]! : `(?:${rests.join('|')})`));
		this.trigger = grouped.length > 0 ? new RegExp(grouped.join('|'), 'g') : undefined;
		for (const {name, user} of compileUserRules(spec.rules)) {
			this.users.push(this.add({name, kind: 'rule', user}));
		}

		// Linear: the marks have a bounded length, and each joined source has at most `paths` paths from
		// one start, each at most steps / paths long; the sums over the joined rules are held under the
		// bounds a single pattern on V8 has (maxPaths, maxSteps), so the joined scan reads each place of
		// a text a bounded number of times, as each rule's own search would. The eight of the bench's ten
		// rules that join sum to 57 paths and 978 steps (of 1,000 and 10,000). Rules past those sums, or
		// with no gate source, are tested by their gates (core/regex-gates.ts).
		let paths = 0;
		let steps = 0;
		const sources: string[] = [];
		const firsts: string[] = [];
		for (const [u, r] of spec.rules.entries()) {
			const gate = gateSource(r.pattern);
			if (gate !== undefined && paths + gate.paths <= maxPaths && steps + gate.steps <= maxSteps) {
				paths += gate.paths;
				steps += gate.steps;
				sources.push(gate.source);
				firsts.push(gate.first);
				this.joinedUsers.push(u);
			} else {
				this.gatedUsers.push(u);
			}
		}

		this.gates = new RegexGates(this.gatedUsers.map(u => spec.rules[u]!.pattern));
		// Linear: each alternative is, on its own (a mark of bounded length, a gate's bounded start).
		const marked = this.scanMarks.findIndex(mark => mark !== undefined);
		if (marked !== -1 && this.gates.plainSources.length > 0) {
			this.markedScan = marked;
			this.marksAndGates = new RegExp([this.scanMarks[marked]!, ...this.gates.plainSources].map(source => `(?:${source})`).join('|'));
		}

		this.userFound = spec.rules.map(() => 0);
		if (sources.length > 0) {
			const builtin = grouped.length > 0 ? grouped.join('|') : '(?!)';
			this.joined = new RegExp(`(${builtin})|${sources.map(s => `(?:${s})`).join('|')}`, 'g');
			this.joinedAt = new RegExp(sources.map(s => `(?:(?=(${s}))|)`).join(''), 'y');
			this.userOnly = new RegExp(sources.map(s => `(?:${s})`).join('|'), 'g');
			const first = new RegExp(`^(?:${firsts.join('|')})$`);
			for (let c = 0; c < 128; c++) {
				this.userStart[c] = first.test(String.fromCharCode(c)) ? 1 : 0;
			}
		}

		for (const f of spec.fields) {
			checkField(f, spec.from?.fields ?? '--redact-field');
			const segments = f.split('.');
			const index = this.add({name: f, kind: 'field', field: segments});
			const last = segments.at(-1)!;
			this.fieldsByKey.set(last, [...(this.fieldsByKey.get(last) ?? []), index]);
		}

		this.resume = this.rules.map(() => 0);
		this.resumeStamp = this.rules.map(() => 0);
		// `pwd=x` is five characters; an IPv6 address can be three (::1); a user rule, one.
		this.shortest = this.users.length > 0 ? 1 : (on.has('ipv6') ? 3 : 5);
		this.screenMade = this.users.length > 0;
	}

	private add(rule: Omit<Rule, 'hits' | 'stamp' | 'mask' | 'quotedMask'>): number {
		const mask = `[REDACTED:${rule.name}]`;
		this.rules.push({...rule, hits: 0, stamp: 0, mask, quotedMask: `"${mask}"`});
		return this.rules.length - 1;
	}

	health(): RedactHealth {
		return {mode: this.mode, rules: this.rules.map(r => ({name: r.name, kind: r.kind, hits: r.hits})), changed: this.changed, failures: this.failures, lastFailure: this.lastFailure, screenFailure: this.screenFailure};
	}

	/** Names of the rules that changed the last event (or text), in rule order. */
	fired(): string[] {
		return this.rules.filter(r => r.stamp === this.serial).map(r => r.name);
	}

	/** The screen for batches, made on first use; undefined where there is none. */
	protected batchScreen(): RedactScreen | undefined {
		if (!this.screenMade) {
			this.screenMade = true;
			this.screener = screenFor(this.enabled);
		}

		return this.screener;
	}

	/** One text on its own (`logmon redact --test`, tests): counted like an event. */
	redactLine(text: string): string {
		this.serial++;
		return this.text(text);
	}

	/** Would any rule change this text, or open a private key block? (It counts the hits, as `text` does.) */
	mayChange(text: string): boolean {
		this.text(text);
		return this.hits.length > 0 || this.hits.open;
	}

	protected count(index: number): void {
		const r = this.rules[index]!;
		if (r.stamp !== this.serial) {
			r.stamp = this.serial;
			r.hits++;
			if (this.changedStamp !== this.serial) {
				this.changedStamp = this.serial;
				this.changed++;
			}
		}
	}

	protected replacement(index: number, value: string, quote: boolean): string {
		this.count(index);
		if (this.mode !== 'hash') {
			return quote ? this.rules[index]!.quotedMask : this.rules[index]!.mask;
		}

		const pseudonym = this.pseudonym;
		if (!pseudonym) {
			throw new Error('hash mode without a key');
		}

		const text = `[${this.rules[index]!.name}:${this.pseudonyms.get(value, pseudonym)}]`;
		return quote ? `"${text}"` : text;
	}

	/** The text with every span the rules find replaced. */
	protected text(text: string): string {
		const hits = this.hits;
		hits.clear();
		const trigger = this.trigger;
		if (this.joined !== undefined) {
			this.scanJoined(text, this.joined);
		} else if (trigger !== undefined) {
			this.scan(text, trigger);
		}

		// Nothing the marked scan or the plain gates look for: both are skipped.
		const quiet = this.marksAndGates !== undefined && !this.marksAndGates.test(text);
		let sources = hits.length > 0 ? 1 : 0;
		for (let k = 0; k < this.scanners.length; k++) {
			if (quiet && k === this.markedScan) {
				continue;
			}

			const before = hits.length;
			hits.current = this.scanners[k]!;
			this.scanFns[k]!(text, hits);
			sources += hits.length > before ? 1 : 0;
		}

		if (this.users.length > 0) {
			sources += 2 * this.userRules(text, quiet); // user rules' spans may lie anywhere, placeholders included
		}

		return hits.length === 0 ? text : this.build(text, sources);
	}

	/** Add the spans the user rules find (`quiet`: the plain gates fail); returns how many rules found some. */
	private userRules(text: string, quiet: boolean): number {
		let rules = 0;
		// Joined rules run where the joined scan found what they look for (in this text: its stamp).
		if (this.joinedFound > 0) {
			for (const u of this.joinedUsers) {
				if (this.userFound[u] === this.joinedStamp) {
					rules += this.userRule(text, u);
				}
			}
		}

		if (this.gatedUsers.length > 0) {
			this.gates.check(text, quiet);
			if (this.gates.any) {
				for (let g = 0; g < this.gatedUsers.length; g++) {
					if (this.gates.mayMatch(g)) {
						rules += this.userRule(text, this.gatedUsers[g]!);
					}
				}
			}
		}

		return rules;
	}

	/** Add the spans user rule `u` finds; returns 1 when it found some. */
	private userRule(text: string, u: number): number {
		const hits = this.hits;
		const index = this.users[u]!;
		const user = this.rules[index]!.user!;
		if (!user.native && !user.mayMatch(text)) {
			return 0;
		}

		const found = user.ranges(text, Number.POSITIVE_INFINITY, user.groups > 0 ? 1 : 0);
		if (found.length === 0) {
			return 0;
		}

		hits.current = index;
		for (const [start, end] of found) {
			if (end > start) {
				hits.add(start, end);
			}
		}

		return 1;
	}

	/**
	 * The joined scan: the built-in rules as `scan` runs them, and the joined user rules found. Where it
	 * stops, the user rules are asked which of them match there (one may match where a mark starts);
	 * past what a built-in rule found it jumps as `scan` does, once the user rules' stretches there are
	 * looked for on their own.
	 */
	private scanJoined(text: string, joined: RegExp): void {
		const found = ++this.joinedStamp;
		this.joinedFound = 0;
		joined.lastIndex = 0;
		let m = joined.exec(text);
		if (m === null) {
			return;
		}

		const stamp = ++this.scanStamp;
		let builtinFrom = 0;
		let left = this.joinedUsers.length;
		for (; m !== null; m = joined.exec(text)) {
			const place = m.index;
			const code = text.charCodeAt(place);
			// At a mark, the user rules are asked only where one of their stretches may start.
			if (left > 0 && (m[1] === undefined || code >= 128 || this.userStart[code] === 1)) {
				left = this.usersAt(text, place, left, found);
			}

			if (m[1] !== undefined && place >= builtinFrom) {
				const next = this.builtinAt(text, place, code, stamp);
				if (next > place + 1 && left > 0) {
					// Marks inside what was found need no look; a user rule's stretch there still counts.
					left = this.userStretches(text, place + 1, next, left, found);
				}

				builtinFrom = next;
			}

			joined.lastIndex = place < builtinFrom ? builtinFrom : place + 1;
		}
	}

	/** The joined user rules whose stretches start in text[from, to): marked found; returns how many are left to find. */
	private userStretches(text: string, from: number, to: number, left: number, found: number): number {
		const only = this.userOnly!;
		only.lastIndex = from;
		let m: RegExpExecArray | null;
		while (left > 0 && (m = only.exec(text)) !== null && m.index < to) {
			left = this.usersAt(text, m.index, left, found);
			only.lastIndex = m.index + 1;
		}

		return left;
	}

	/** The joined user rules with a stretch starting at `place`: marked found; returns how many are left to find. */
	private usersAt(text: string, place: number, left: number, found: number): number {
		const at = this.joinedAt!;
		at.lastIndex = place;
		const here = at.exec(text)!;
		for (let k = 0; k < this.joinedUsers.length; k++) {
			const u = this.joinedUsers[k]!;
			if (here[k + 1] !== undefined && this.userFound[u] !== found) {
				this.userFound[u] = found;
				this.joinedFound++;
				left--;
			}
		}

		return left;
	}

	/**
	 * The built-in rules whose marks start with the character at `at` look there (a rule whose last look
	 * of this text, `stamp`, reached past `at` is skipped); returns where the scan goes on: past what
	 * was found, which is replaced whole, so other marks inside it need no look.
	 */
	private builtinAt(text: string, at: number, code: number, stamp: number): number {
		const hits = this.hits;
		let next = at + 1;
		const candidates = code < 128 ? this.dispatch[code]! : [];
		for (const index of candidates) {
			if (this.resumeStamp[index] === stamp && this.resume[index]! > at) {
				continue;
			}

			const before = hits.length;
			hits.current = index;
			const resume = (this.rules[index]!.builtin as {find: (text: string, at: number, hits: Hits) => number}).find(text, at, hits);
			this.resume[index] = resume;
			this.resumeStamp[index] = stamp;
			if (hits.length > before) {
				next = Math.max(next, hits.end[hits.length - 1]!, resume);
				break;
			}
		}

		return next;
	}

	private scan(text: string, trigger: RegExp): void {
		trigger.lastIndex = 0;
		let m = trigger.exec(text);
		if (m === null) {
			return;
		}

		// Where each rule may look again, for this text only: stamped, not cleared.
		const stamp = ++this.scanStamp;
		for (; m !== null; m = trigger.exec(text)) {
			trigger.lastIndex = this.builtinAt(text, m.index, text.charCodeAt(m.index), stamp);
		}
	}

	/**
	 * Replace the spans found, leftmost first; a span overlapping an earlier one is left out.
	 * `sources` > 1: spans came from more than one scan and need sorting.
	 */
	private build(text: string, sources: number): string {
		const {start, end, rule, quote, length} = this.hits;
		// One scan finds its spans leftmost first: only spans from several need sorting.
		let order: number[] | undefined;
		if (sources > 1) {
			order = [];
			for (let i = 0; i < length; i++) {
				order.push(i);
			}

			order.sort((a, b) => (start[a]! - start[b]!) || (rule[a]! - rule[b]!) || (end[b]! - end[a]!));
		}

		// A placeholder already in the text (logs redacted once before, a user rule's match inside one)
		// stays whole: a span that touches one is left out.
		const kept = placeholderRanges(text);
		const hash = this.mode === 'hash';
		let out = '';
		let last = 0;
		for (let k = 0; k < length; k++) {
			const i = order === undefined ? k : order[k]!;
			const s = start[i]!;
			const e = end[i]!;
			if (s < last || (kept && overlaps(kept, s, e))) {
				continue;
			}

			out += text.slice(last, s) + this.replacement(rule[i]!, hash ? text.slice(s, e) : '', quote[i]! || bareJsonValue(text, s, e));
			last = e;
		}

		return out + text.slice(last);
	}
}

/** Is text[start, end) a bare value in a JSON text (after `:`, `[` or `,`, in a text that starts as JSON)? */
function bareJsonValue(text: string, start: number, end: number): boolean {
	const first = text.trimStart().charCodeAt(0);
	if (first !== 0x7B && first !== 0x5B) {
		return false;
	}

	let i = start - 1;
	while (i >= 0 && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) {
		i--;
	}

	const before = i >= 0 ? text.charCodeAt(i) : 0;
	const after = end < text.length ? text.charCodeAt(end) : -1;
	return (before === 0x3A || before === 0x5B || before === 0x2C) && (after === -1 || after === 0x2C || after === 0x7D || after === 0x5D || after === 0x20);
}

function placeholderRanges(text: string): Array<[number, number]> | undefined {
	if (!text.includes('[')) {
		return undefined;
	}

	const out: Array<[number, number]> = [];
	placeholder.lastIndex = 0;
	let m: RegExpExecArray | null;
	while ((m = placeholder.exec(text)) !== null) {
		out.push([m.index, m.index + m[0].length]);
	}

	return out.length > 0 ? out : undefined;
}

function overlaps(ranges: Array<[number, number]>, start: number, end: number): boolean {
	return ranges.some(([s, e]) => start < e && end > s);
}

/** The WebAssembly screen for these built-in rules, when it can answer for them all. */
function screenFor(on: ReadonlySet<string>): RedactScreen | undefined {
	const literals: string[] = [];
	const within: number[] = [];
	for (const b of builtinRules) {
		if (!on.has(b.name)) {
			continue;
		}

		if ('scan' in b) {
			if (b.name !== 'card') {
				return undefined;
			}

			continue;
		}

		for (const mark of b.marks) {
			const strings = markStrings(mark);
			if (strings === undefined) {
				return undefined;
			}

			literals.push(...strings);
			within.push(...strings.map(() => b.separatorWithin ?? 0));
		}
	}

	try {
		return new RedactScreen(literals, on.has('card'), within);
	} catch {
		return undefined; // no WebAssembly SIMD here (or marks past its memory): the rules' scans alone
	}
}
