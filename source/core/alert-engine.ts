import {type AlertView, AlertBook, type RuleState} from './alert-book.js';
import {type GroupState, holds} from './alert-conditions.js';
import {GroupKeys, type Keyer, type TermKey} from './alert-keys.js';
import {type AlertRule, type NewTermSpec, spanOf} from './alert-rules.js';
import {type AlertNotice, hash64, sampleEvent} from './alert-notice.js';
import {TermMemory} from './alert-terms.js';
import {BucketRing} from './alert-window.js';
import {Whens} from './alert-when.js';
import {type LogEvent, LEVELS, levelRank} from './event.js';

// The rule engine: a direct bus subscriber. Each event is tested once per distinct
// `when` filter, then counted in its (rule, group)'s time buckets: constant work
// per event, whatever the windows. A tick (once a second) evaluates what time alone
// changes: flatlines, windows that emptied, `for` durations, cooldowns, resolves.
// Pure: the clock is injected and notices go to a callback.
//
// What each kind measures and when it holds: alert-conditions.ts.
//
// The states of each (rule, group) and the notices they send: alert-book.ts.
//
// Group keys and field values, once per event whatever the rules: alert-keys.ts.

/** Rules that share a `when` and a groupBy share the per-event work: one run count for all. */
type Selector = {
	readonly filter: number;
	/** Its `when` looks at the text. */
	readonly text: boolean;
	readonly keyer: Keyer;
	readonly rules: RuleState[];
	/**
	 * The run being counted: its group, receive time, length, and its first and latest event as
	 * indexes into the batch (a run ends with its batch; numbers are cheaper to store than events).
	 */
	key: string;
	at: number;
	count: number;
	first: number;
	last: number;
};

/** newTerm rules with the same `when`, groupBy, field and memory share what they have seen. */
type TermSelector = {
	readonly filter: number;
	/** Its `when` looks at the text. */
	readonly text: boolean;
	/** Selectors with the same groupBy and field share the term and its key of an event. */
	readonly termKey: TermKey;
	readonly field: string;
	/** Terms seen (per group). */
	readonly memory: TermMemory;
	readonly rules: RuleState[];
	/** While the history is read back: terms new to the memory, past a warm-up, and where they were seen. */
	held: Map<string, {event: LogEvent; term: string}> | undefined;
};

/** New terms waiting for the history's look-back, per newTerm selector; past it they are learnt without a notice. */
const maxHeld = 1000;

export type AlertsSnapshot = {
	/** Firing now, newest first. */
	firing: AlertView[];
	/** The latest notices (firing, repeats and resolves), newest first. */
	recent: AlertNotice[];
	/** Per rule: groups tracked, groups over the cap, terms a newTerm rule forgot (past maxTerms), the silence. */
	rules: Array<{name: string; kind: string; groups: number; overflow: number; termsForgotten?: number; silencedUntil?: number | undefined}>;
};

export type EngineOptions = {
	rules: AlertRule[];
	onNotice: (notice: AlertNotice) => void;
	now?: () => number;
	/** Groups tracked per rule; past it new groups are counted, not tracked. Default 1000. */
	maxGroups?: number;
	/** Notices kept for the snapshot. Default 100. */
	recent?: number;
};

const termSeparator = '\u001E';

export class AlertEngine {
	readonly startedAt: number;
	private readonly now: () => number;
	private readonly whens: Whens;
	private readonly rules: RuleState[] = [];
	private readonly selectors: Selector[] = [];
	private readonly terms: TermSelector[] = [];
	private readonly maxGroups: number;
	/** Firing alerts, the latest notices, and the moves between states that make them. */
	private readonly book: AlertBook;
	private readonly keys = new GroupKeys();
	/** Every groupBy is of scope fields: a batch of one scope and one receive time is one run for every selector. */
	private readonly scopeKeyed: boolean;
	/** Over such a batch: per level rank, its events, the first and the last (indexes). */
	private readonly rankCount = new Int32Array(LEVELS.length);
	private readonly rankFirst = new Int32Array(LEVELS.length);
	private readonly rankLast = new Int32Array(LEVELS.length);
	/** Over such a batch: per `when` that looks at the text, the events it passed, the first and the last. */
	private readonly textCount: Int32Array;
	private readonly textFirst: Int32Array;
	private readonly textLast: Int32Array;

	constructor(options: EngineOptions) {
		this.now = options.now ?? Date.now;
		this.startedAt = this.now();
		this.maxGroups = options.maxGroups ?? 1000;
		this.book = new AlertBook(options.recent ?? 100, options.onNotice);
		const byWhen = new Map<string, number>();
		for (const rule of options.rules) {
			const when = rule.when.trim();
			let index = byWhen.get(when);
			if (index === undefined) {
				index = byWhen.size;
				byWhen.set(when, index);
			}

			const rs: RuleState = {rule, kind: rule.spec.kind, filter: index, groups: new Map(), overflow: 0, silencedUntil: 0};
			this.rules.push(rs);
			const keyer = this.keys.keyer(rule.groupBy);
			if (rule.spec.kind === 'newTerm') {
				// Keyed by each event's term: no runs.
				const {field, maxTerms} = rule.spec;
				let ts = this.terms.find(x => x.filter === index && x.termKey.keyer === keyer && x.field === field && x.memory.max === maxTerms);
				if (!ts) {
					ts = {filter: index, text: false, termKey: this.keys.termKey(keyer, field), field, memory: new TermMemory(maxTerms), rules: [], held: undefined};
					this.terms.push(ts);
				}

				ts.rules.push(rs);
				continue;
			}

			let sel = this.selectors.find(x => x.filter === index && x.keyer === keyer);
			if (!sel) {
				sel = {filter: index, text: false, keyer, rules: [], key: '', at: 0, count: 0, first: 0, last: 0};
				this.selectors.push(sel);
			}

			sel.rules.push(rs);
		}

		this.whens = new Whens([...byWhen.keys()]);
		for (const x of [...this.selectors, ...this.terms]) {
			(x as {text: boolean}).text = this.whens.readsText(x.filter);
		}

		this.scopeKeyed = this.keys.scopeOnly();
		this.textCount = new Int32Array(this.whens.size);
		this.textFirst = new Int32Array(this.whens.size);
		this.textLast = new Int32Array(this.whens.size);
	}

	/**
	 * The bus subscriber. Markers (gaps, alerts themselves) are never counted. Consecutive matches
	 * of a selector with the same group and receive time are counted as one run, so a burst from
	 * one service costs each rule one update, not one per event.
	 */
	observe(events: readonly LogEvent[]): void {
		if (this.oneRun(events)) {
			this.observeRun(events);
		} else {
			this.observeEach(events);
		}
	}

	/** A batch of one publisher at one instant (how sources hand events over), its groups of its scope: one run for every selector. */
	private oneRun(events: readonly LogEvent[]): boolean {
		if (!this.scopeKeyed || events.length === 0) {
			return false;
		}

		const first = events[0]!;
		for (const e of events) {
			if (e.marker || e.receivedAt !== first.receivedAt || e.service !== first.service || e.host !== first.host || e.type !== first.type || e.sourceId !== first.sourceId) {
				return false;
			}
		}

		return true;
	}

	/**
	 * One run: what each `when` passes is told by level (a count per level rank does for every
	 * `when` that does not look at the text), and by the text for the others; each selector's run
	 * is then summed up, and flushed as `observeEach` would.
	 */
	private observeRun(events: readonly LogEvent[]): void {
		const {whens, terms, rankCount, rankFirst, rankLast, textCount, textFirst, textLast} = this;
		rankCount.fill(0);
		textCount.fill(0);
		whens.rank(events[0]!); // the tables for the batch's scope
		for (let i = 0; i < events.length; i++) {
			const e = events[i]!;
			const rank = levelRank[e.level];
			if (rankCount[rank] === 0) {
				rankFirst[rank] = i;
			}

			rankCount[rank]!++;
			rankLast[rank] = i;
			const text = whens.textPass(rank, e.message);
			if (text) {
				for (const w of whens.textWhensAt(rank)) {
					if (text[w] === 1) {
						if (textCount[w] === 0) {
							textFirst[w] = i;
						}

						textCount[w]!++;
						textLast[w] = i;
					}
				}
			}

			if (terms.length > 0) {
				const cheap = whens.cheapPass(rank);
				for (const ts of terms) {
					if (cheap[ts.filter] === 1 && (!ts.text || text?.[ts.filter] === 1)) {
						this.newTermMatched(ts, e);
					}
				}
			}
		}

		const first = events[0]!;
		for (const sel of this.selectors) {
			const w = sel.filter;
			if (sel.text) {
				sel.count = textCount[w]!;
				sel.first = textFirst[w]!;
				sel.last = textLast[w]!;
			} else {
				sel.count = 0;
				sel.first = events.length;
				sel.last = -1;
				for (let rank = 0; rank < rankCount.length; rank++) {
					if (rankCount[rank]! > 0 && whens.cheapPass(rank)[w] === 1) {
						sel.count += rankCount[rank]!;
						sel.first = Math.min(sel.first, rankFirst[rank]!);
						sel.last = Math.max(sel.last, rankLast[rank]!);
					}
				}
			}

			if (sel.count > 0) {
				sel.key = this.keys.keyOf(sel.keyer, first);
				sel.at = first.receivedAt;
				this.flush(sel, events);
			}
		}
	}

	/** Event by event: runs end where a selector's group or the receive time changes. */
	private observeEach(events: readonly LogEvent[]): void {
		const {whens, selectors, terms} = this;
		for (let i = 0; i < events.length; i++) {
			const e = events[i]!;
			if (e.marker) {
				continue;
			}

			const hits = whens.test(e);
			if (!hits) {
				continue;
			}

			for (const sel of selectors) {
				if (hits[sel.filter] === 1) {
					const key = this.keys.keyOf(sel.keyer, e);
					if (sel.count > 0 && (key !== sel.key || e.receivedAt !== sel.at)) {
						this.flush(sel, events);
					}

					if (sel.count === 0) {
						sel.first = i;
						sel.key = key;
						sel.at = e.receivedAt;
					}

					sel.last = i;
					sel.count++;
				}
			}

			for (const ts of terms) {
				if (hits[ts.filter] === 1) {
					this.newTermMatched(ts, e);
				}
			}
		}

		for (const sel of selectors) {
			if (sel.count > 0) {
				this.flush(sel, events);
			}
		}
	}

	/** Evaluate what time alone changes; call about once a second. */
	tick(now = this.now()): void {
		for (const rs of this.rules) {
			const span = spanOf(rs.rule.spec);
			for (const g of rs.groups.values()) {
				this.book.step(rs, g, now, holds(rs.rule, g, now, this.startedAt));
				// Quiet groups are forgotten, but not while a cooldown still applies. Flatline groups are the point: kept.
				if (g.state === 'ok' && rs.rule.spec.kind !== 'flatline' && now - g.lastMatch > span && now - g.lastFiringNotice >= rs.rule.cooldownMs) {
					rs.groups.delete(g.key);
				}
			}
		}
	}

	/** True when a newTerm rule exists: only then is there anything to learn from the history. */
	get learnsTerms(): boolean {
		return this.terms.length > 0;
	}

	/** The shortest warm-up of the newTerm rules: the time before any of them can fire. */
	get newTermWarmupMs(): number {
		return Math.min(...this.terms.flatMap(ts => ts.rules.map(rs => (rs.rule.spec as NewTermSpec).warmupMs)));
	}

	/**
	 * The history is about to be read back (`learn`): until `releaseNewTerms`, a term that would
	 * fire as new waits, and fires then only if the history did not hold it.
	 */
	holdNewTerms(): void {
		for (const ts of this.terms) {
			ts.held ??= new Map();
		}
	}

	/** The look-back is over (done or given up): the terms that waited and were not in the history fire now. */
	releaseNewTerms(): void {
		for (const ts of this.terms) {
			const held = ts.held;
			ts.held = undefined;
			for (const [termKey, {event, term}] of held ?? []) {
				this.announceTerm(ts, termKey, event, term);
			}
		}
	}

	/**
	 * Past events (the history's, read at start) teach the newTerm rules what they have seen,
	 * with the same `when`, field and groups as live events, and fire nothing.
	 */
	learn(events: readonly LogEvent[]): void {
		const {whens, terms} = this;
		for (const e of events) {
			const hits = e.marker ? undefined : whens.test(e);
			if (!hits) {
				continue;
			}

			for (const ts of terms) {
				if (hits[ts.filter] === 1) {
					const {group, term} = this.keys.termKeyOf(ts.termKey, e);
					ts.memory.see(group, term);
					ts.held?.delete(group + termSeparator + term); // seen before this run: not new
				}
			}
		}
	}

	/** Keep a rule's notices from its sinks until `until` (0: now). Still evaluated, shown and recorded. */
	silence(ruleName: string, until: number): boolean {
		const rs = this.rules.find(r => r.rule.name === ruleName);
		if (!rs) {
			return false;
		}

		rs.silencedUntil = until;
		for (const view of this.book.firing.values()) {
			if (view.rule === ruleName) {
				view.silenced = until > this.now();
			}
		}

		this.book.version++;
		return true;
	}

	silencedUntil(ruleName: string): number | undefined {
		const until = this.rules.find(r => r.rule.name === ruleName)?.silencedUntil ?? 0;
		return until > this.now() ? until : undefined;
	}

	/** Firing and recent alerts, for the UI and `GET /api/v1/alerts`. */
	alertsSnapshot(): AlertsSnapshot {
		const now = this.now();
		return {
			firing: [...this.book.firing.values()].sort((a, b) => b.since - a.since),
			recent: [...this.book.recent].reverse(),
			rules: this.rules.map(rs => ({
				name: rs.rule.name,
				kind: rs.rule.spec.kind,
				groups: rs.groups.size,
				overflow: rs.overflow,
				...(rs.rule.spec.kind === 'newTerm' ? {termsForgotten: this.terms.find(ts => ts.rules.includes(rs))?.memory.evicted ?? 0} : {}),
				silencedUntil: rs.silencedUntil > now ? rs.silencedUntil : undefined,
			})),
		};
	}

	/** Bumped on every notice and silence: views compare it to skip work. */
	get version(): number {
		return this.book.version;
	}

	/** How many (rule, group)s fire now: what health shows after every notice, without a snapshot. */
	get firingCount(): number {
		return this.book.firing.size;
	}

	get ruleCount(): number {
		return this.rules.length;
	}

	// ---- per event ----

	/** A selector's run of `count` events of one group, received at one instant, for each of its rules. */
	private flush(sel: Selector, events: readonly LogEvent[]): void {
		const first = events[sel.first]!;
		const last = events[sel.last]!;
		for (const rs of sel.rules) {
			this.matched(rs, sel.key, last, sel.count, undefined, first);
		}

		sel.count = 0;
	}

	private newTermMatched(ts: TermSelector, e: LogEvent): void {
		const {group, term} = this.keys.termKeyOf(ts.termKey, e);
		// The pair remembered last is known and already the most recent: a repeated error costs no lookup.
		if (ts.memory.isLast(group, term) || ts.memory.see(group, term)) {
			return;
		}

		const termKey = group + termSeparator + term;
		if (ts.held && ts.rules.some(rs => this.warm(rs, e))) {
			if (ts.held.size < maxHeld) {
				ts.held.set(termKey, {event: e, term});
			}

			return;
		}

		this.announceTerm(ts, termKey, e, term);
	}

	private announceTerm(ts: TermSelector, termKey: string, e: LogEvent, term: string): void {
		for (const rs of ts.rules) {
			if (this.warm(rs, e)) {
				this.matched(rs, termKey, e, 1, term); // not learnt during the warm-up, nor seen before
			}
		}
	}

	/** Past the newTerm rule's warm-up when `e` was received. */
	private warm(rs: RuleState, e: LogEvent): boolean {
		return e.receivedAt - this.startedAt >= (rs.rule.spec as NewTermSpec).warmupMs;
	}

	/**
	 * `n` matching events of a group, the latest `e` (the first `first`), all received at `e.receivedAt`.
	 * A notice that starts firing shows the first of them: the line that set it off.
	 */
	private matched(rs: RuleState, key: string, e: LogEvent, n: number, term?: string, first = e): void {
		const t = e.receivedAt;
		let g = rs.groups.get(key);
		if (!g) {
			if (rs.groups.size >= this.maxGroups) {
				rs.overflow += n;
				return;
			}

			g = this.newGroup(rs, key, e, term);
			rs.groups.set(key, g);
		}

		g.lastMatch = Math.max(g.lastMatch, t);
		g.sinceNotice += n;
		g.latest = sampleEvent(g.state === 'firing' ? e : first);
		g.ring?.add(t, n);
		// Flatlines only change with time (the tick); every other kind can fire now.
		if (rs.kind !== 'flatline' || g.state === 'firing') {
			this.book.step(rs, g, t, holds(rs.rule, g, t, this.startedAt));
		}

		g.latest = sampleEvent(e);
	}

	private newGroup(rs: RuleState, key: string, e: LogEvent, term: string | undefined): GroupState {
		const {rule} = rs;
		const labels: Record<string, string> = {};
		for (const field of rule.groupBy) {
			labels[field] = this.keys.value(e, field);
		}

		if (term !== undefined) {
			labels['term'] = term;
		}

		const spec = rule.spec;
		const ring = spec.kind === 'match' || spec.kind === 'newTerm' ? undefined : new BucketRing(spec.windowMs, spec.kind === 'spike' ? 2 : 1);
		return {
			key,
			labels,
			fingerprint: hash64(`${rule.name}\u0000${key}`),
			ring,
			firstSeen: e.receivedAt,
			lastMatch: e.receivedAt,
			sinceNotice: 0,
			state: 'ok',
			pendingSince: 0,
			firingSince: 0,
			lastFiringNotice: Number.NEGATIVE_INFINITY,
			announced: false,
			latest: sampleEvent(e),
			value: 0,
			reference: 0,
		};
	}
}
