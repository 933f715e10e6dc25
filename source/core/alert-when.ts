import {type LogEvent, LEVELS, levelRank} from './event.js';
import {emptySpec, parseFilterExpression} from './filter.js';
import {type UserRegex, compileUserRegex, literalAlternatives} from './regex.js';
import {anyOf, requiredText} from './regex-prefilter.js';

// The `when`s of all alert rules, tested together on each event. Each means what the
// same expression means as a filter (filter.ts compileFilter); what differs is the cost:
//
// - the cheap checks (level, service, host, type, source: numbers and set lookups) come
//   first, and a `when` that fails them never looks at the text;
// - a pattern used by several `when`s runs once per event;
// - one prefilter per case mode finds whether the text holds any of the literal text the
//   patterns require (`timeout|refused` requires one of its words, `conn.*refused` the word
//   "refused"): most lines hold none, and then no pattern with such text runs at all. Only
//   patterns with no text to require (`\d{3}`) run on every line that gets that far.

type Pattern = {
	readonly regex: UserRegex;
	/** Which prefilter rules it out: 0 none, 1 the case-sensitive one, 2 the one ignoring case. */
	prefilter: 0 | 1 | 2;
	/** Plain text or a choice of plain texts: alone in its prefilter, it would be that prefilter. */
	readonly literal: boolean;
	readonly caseInsensitive: boolean;
	readonly literals: readonly string[] | undefined;
};

type Condition = {
	readonly min: number;
	readonly services: Set<string> | undefined;
	readonly hosts: Set<string> | undefined;
	readonly types: Set<string> | undefined;
	readonly sources: Set<string> | undefined;
	/** Pattern indexes: one of `include` must match (when any), none of `exclude`. */
	readonly include: readonly number[];
	readonly exclude: readonly number[];
	readonly text: boolean;
};

function setOrUndefined(values: readonly string[]): Set<string> | undefined {
	return values.length > 0 ? new Set(values) : undefined;
}

/**
 * Per level rank, for one scope: 1 for each `when` whose level and scope checks pass (its text
 * aside), the `when`s among them that look at the text, the prefilter they all wait for (0: they
 * do not share one), and whether a `when` that does not look at the text passes.
 */
type Tables = {
	cheapHits: Uint8Array[];
	textWhens: number[][];
	textGates: number[];
	plainAny: boolean[];
};

const scopeSeparator = '\u001F';
const maxScopes = 256;

export type WhenOptions = {
	/** False: no literal prefilter, every pattern runs when the cheap checks pass (for comparison). */
	prefilter?: boolean;
};

export class Whens {
	readonly size: number;
	private readonly conditions: Condition[] = [];
	private readonly patterns: Pattern[] = [];
	/** The prefilters, by the number `Pattern.prefilter` holds; undefined when no pattern uses it. */
	private readonly prefilters: Array<RegExp | undefined> = [undefined, undefined, undefined];
	/** Per event: `epoch` stamps which pattern results (and prefilter results) are known. */
	private epoch = 0;
	private readonly known: Float64Array;
	private readonly results: Uint8Array;
	private readonly prefilterKnown = new Float64Array(3);
	private readonly prefilterFound = new Uint8Array(3);
	/**
	 * Per `when`: the prefilter that rules out every pattern one of which it needs (0: none does).
	 * On most lines that prefilter finds nothing, and then the `when` fails without a look at its patterns.
	 */
	private readonly gates: Uint8Array;
	/** Whether any `when` names services, hosts, types or sources. */
	private readonly scoped: boolean;
	/** The service, host, type and source `tables` are for (when `scoped`). */
	private scope: {service: string; host: string; type: string; sourceId: string} | undefined;
	private tables: Tables;
	/** Tables of the scopes met lately: publishers take turns, and each turn is a batch. */
	private readonly scopes = new Map<string, Tables>();
	/** What `test` hands out for an event whose text was looked at. */
	private readonly hits: Uint8Array;
	private readonly textHits: Uint8Array;

	/** Each `when` in the filter grammar; invalid ones throw a FilterError naming `flag`. */
	constructor(whens: readonly string[], options: WhenOptions = {}, flag = 'when') {
		const byPattern = new Map<string, number>();
		const patternIndex = (source: string): number => {
			let index = byPattern.get(source);
			if (index === undefined) {
				index = this.patterns.length;
				const required = requiredText(source);
				this.patterns.push({
					regex: compileUserRegex(source, flag),
					prefilter: required ? (required.caseInsensitive ? 2 : 1) : 0,
					literal: literalAlternatives(source.startsWith('(?i)') ? source.slice(4) : source) !== undefined,
					caseInsensitive: required?.caseInsensitive ?? false,
					literals: required?.literals,
				});
				byPattern.set(source, index);
			}

			return index;
		};

		for (const when of whens) {
			const spec = parseFilterExpression(when, emptySpec());
			const include = spec.grep.map(p => patternIndex(p));
			const exclude = spec.exclude.map(p => patternIndex(p));
			this.conditions.push({
				min: spec.minLevel === undefined ? -1 : levelRank[spec.minLevel],
				services: setOrUndefined(spec.services),
				hosts: setOrUndefined(spec.hosts),
				types: setOrUndefined(spec.types),
				sources: setOrUndefined(spec.sources),
				include,
				exclude,
				text: include.length > 0 || exclude.length > 0,
			});
		}

		this.size = this.conditions.length;
		this.scoped = this.conditions.some(c => c.services ?? c.hosts ?? c.types ?? c.sources);
		this.hits = new Uint8Array(this.size);
		this.textHits = new Uint8Array(this.size);
		this.known = new Float64Array(this.patterns.length);
		this.results = new Uint8Array(this.patterns.length);
		for (const group of [1, 2] as const) {
			const members = this.patterns.filter(p => p.prefilter === group);
			// A prefilter is worth a scan when it stands for several patterns, or for one that is not plain text.
			if (options.prefilter === false || (members.length === 1 && members[0]!.literal)) {
				for (const p of members) {
					p.prefilter = 0;
				}
			} else if (members.length > 0) {
				this.prefilters[group] = anyOf(members.flatMap(p => p.literals!), group === 2);
			}
		}

		// After the prefilters are settled: a pattern alone in its prefilter has none.
		this.gates = Uint8Array.from(this.conditions, c => {
			const groups = new Set(c.include.map(p => this.patterns[p]!.prefilter));
			const [group] = groups;
			return groups.size === 1 && group !== 0 ? group! : 0;
		});
		this.tables = this.makeTables(undefined);
	}

	/**
	 * Which `when`s the event passes: 1 at their index, 0 at the others; undefined when none does.
	 * The array is the set's own, good until the next call. Markers are not asked about: the
	 * engine never counts them.
	 */
	test(e: LogEvent): Uint8Array | undefined {
		const rank = this.rank(e);
		const cheap = this.tables.cheapHits[rank]!;
		const texts = this.tables.textWhens[rank]!;
		if (texts.length === 0) {
			return this.tables.plainAny[rank] ? cheap : undefined;
		}

		const {hits} = this;
		hits.set(cheap);
		this.epoch++;
		const any = this.testText(texts, e.message, hits);
		return any || this.tables.plainAny[rank] ? hits : undefined;
	}

	/**
	 * For a run of events of one scope (see `sameScope`): the level rank of `e`, the tables made for
	 * its scope first. `cheapPass(rank)` and `textPass(rank, message)` then say what it passes.
	 */
	rank(e: LogEvent): number {
		if (this.scoped && !this.sameScope(e)) {
			this.rescope(e);
		}

		return levelRank[e.level];
	}

	/** The `when`s passed at a level rank without a look at the text: 1 at their index (text `when`s included, their text aside). */
	cheapPass(rank: number): Uint8Array {
		return this.tables.cheapHits[rank]!;
	}

	/** True when a `when` that does not look at the text passes at this rank. */
	plainPass(rank: number): boolean {
		return this.tables.plainAny[rank]!;
	}

	/**
	 * The `when`s that look at the text and pass the rest at this rank: which of them the message
	 * passes (1 or 0 at their index); undefined when none does. Most lines are told by one
	 * prefilter that finds none of the text these `when`s need.
	 */
	textPass(rank: number, message: string): Uint8Array | undefined {
		const texts = this.tables.textWhens[rank]!;
		if (texts.length === 0) {
			return undefined;
		}

		this.epoch++;
		const gate = this.tables.textGates[rank]!;
		if (gate !== 0 && !this.prefilterFinds(gate, message)) {
			return undefined;
		}

		return this.testText(texts, message, this.textHits) ? this.textHits : undefined;
	}

	/** The `when`s that look at the text and pass the rest at this rank, in order: where `textPass` answers. */
	textWhensAt(rank: number): readonly number[] {
		return this.tables.textWhens[rank]!;
	}

	/** Whether `when` i looks at the text. */
	readsText(i: number): boolean {
		return this.conditions[i]!.text;
	}

	/** True when `e` has the scope the tables were made for. */
	sameScope(e: LogEvent): boolean {
		const {scope} = this;
		return scope !== undefined && e.service === scope.service && e.host === scope.host && e.type === scope.type && e.sourceId === scope.sourceId;
	}

	/** For the event of the current epoch. */
	private testText(texts: readonly number[], message: string, out: Uint8Array): boolean {
		let any = false;
		for (const i of texts) {
			const gate = this.gates[i]!;
			const hit = (gate === 0 || this.prefilterFinds(gate, message)) && this.textPasses(this.conditions[i]!, message);
			out[i] = hit ? 1 : 0;
			any ||= hit;
		}

		return any;
	}

	private rescope(e: LogEvent): void {
		this.scope = {service: e.service, host: e.host, type: e.type, sourceId: e.sourceId};
		const key = `${e.service}${scopeSeparator}${e.host}${scopeSeparator}${e.type}${scopeSeparator}${e.sourceId}`;
		let tables = this.scopes.get(key);
		if (!tables) {
			if (this.scopes.size >= maxScopes) {
				this.scopes.clear();
			}

			tables = this.makeTables(e);
			this.scopes.set(key, tables);
		}

		this.tables = tables;
	}

	/** The level tables for the scope of `e` (or, unscoped, for all). */
	private makeTables(e: LogEvent | undefined): Tables {
		const tables: Tables = {cheapHits: [], textWhens: [], textGates: [], plainAny: []};
		for (const level of LEVELS) {
			const rank = levelRank[level];
			const cheap = new Uint8Array(this.size);
			const texts: number[] = [];
			let plain = false;
			for (const [i, c] of this.conditions.entries()) {
				const pass = rank >= c.min && (e === undefined || (
					(c.services === undefined || c.services.has(e.service))
					&& (c.hosts === undefined || c.hosts.has(e.host))
					&& (c.types === undefined || c.types.has(e.type))
					&& (c.sources === undefined || c.sources.has(e.sourceId))));
				cheap[i] = pass ? 1 : 0;
				if (pass && c.text) {
					texts.push(i);
				} else if (pass) {
					plain = true;
				}
			}

			const gates = new Set(texts.map(i => this.gates[i]!));
			tables.cheapHits[rank] = cheap;
			tables.textWhens[rank] = texts;
			tables.textGates[rank] = gates.size === 1 ? [...gates][0]! : 0;
			tables.plainAny[rank] = plain;
		}

		return tables;
	}

	private textPasses(c: Condition, message: string): boolean {
		if (c.include.length > 0) {
			let found = false;
			for (const p of c.include) {
				if (this.matches(p, message)) {
					found = true;
					break;
				}
			}

			if (!found) {
				return false;
			}
		}

		for (const p of c.exclude) {
			if (this.matches(p, message)) {
				return false;
			}
		}

		return true;
	}

	/** Whether prefilter `group` finds any of its text in the message: worked out once per event. */
	private prefilterFinds(group: number, message: string): boolean {
		if (this.prefilterKnown[group] !== this.epoch) {
			this.prefilterKnown[group] = this.epoch;
			this.prefilterFound[group] = this.prefilters[group]!.test(message) ? 1 : 0;
		}

		return this.prefilterFound[group] === 1;
	}

	/** Whether pattern `index` matches the message: worked out once per event. */
	private matches(index: number, message: string): boolean {
		const {epoch} = this;
		if (this.known[index] === epoch) {
			return this.results[index] === 1;
		}

		const p = this.patterns[index]!;
		const hit = (p.prefilter === 0 || this.prefilterFinds(p.prefilter, message)) && p.regex.test(message);

		this.known[index] = epoch;
		this.results[index] = hit ? 1 : 0;
		return hit;
	}
}
