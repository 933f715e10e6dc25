import {type AlertRule, fieldValue, formatDuration, formatRate, spanOf} from './alert-rules.js';
import {type AlertNotice, type AlertSample, hash64, sampleOf} from './alert-notice.js';
import {BucketRing} from './alert-window.js';
import {type LogEvent} from './event.js';
import {type Filter, compileFilter, emptySpec, parseFilterExpression} from './filter.js';

// The rule engine: a direct bus subscriber. Each event is tested once per distinct
// `when` filter, then counted in its (rule, group)'s time buckets: constant work
// per event, whatever the windows. A tick (once a second) evaluates what time alone
// changes: flatlines, windows that emptied, `for` durations, cooldowns, resolves.
// Pure: the clock is injected and notices go to a callback.
//
// Per (rule, group): ok -> (pending, for rate rules with `for`) -> firing -> ok.
// The move to firing sends a notice unless one went out less than `cooldown` ago;
// while firing, a notice is sent again once the cooldown has passed (match rules:
// only if more events matched). The move back to ok sends a resolved notice when
// the rule asks for it and its firing was announced.

type GroupState = {
	readonly key: string;
	readonly labels: Record<string, string>;
	readonly fingerprint: string;
	readonly ring: BucketRing | undefined;
	readonly firstSeen: number;
	lastMatch: number;
	/** Events matched since the last firing notice. */
	sinceNotice: number;
	state: 'ok' | 'pending' | 'firing';
	pendingSince: number;
	firingSince: number;
	/** Time of the last firing notice (initial or repeat). */
	lastFiringNotice: number;
	/** The current episode's firing was announced: its resolve is too. */
	announced: boolean;
	latest: LogEvent | undefined;
	/** What the last evaluation measured (spike: the current window; `reference` the one before). */
	value: number;
	reference: number;
};

type RuleState = {
	readonly rule: AlertRule;
	readonly filter: number;
	readonly groups: Map<string, GroupState>;
	/** newTerm: terms seen (per group), in recency order; seeded ones are keyed without a group. */
	readonly seen: Map<string, true>;
	/** Groups not tracked because the rule had `maxGroups` already. */
	overflow: number;
	termsEvicted: number;
	silencedUntil: number;
};

export type AlertView = {
	fingerprint: string;
	rule: string;
	group: Record<string, string>;
	since: number;
	/** The last notice of this (rule, group). */
	last: AlertNotice;
	silenced: boolean;
};

export type AlertsSnapshot = {
	/** Firing now, newest first. */
	firing: AlertView[];
	/** The latest notices (firing, repeats and resolves), newest first. */
	recent: AlertNotice[];
	rules: Array<{name: string; kind: string; groups: number; overflow: number; silencedUntil?: number | undefined}>;
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

const separator = '\u001F';
const termSeparator = '\u001E';

export class AlertEngine {
	readonly startedAt: number;
	private readonly now: () => number;
	private readonly filters: Filter[] = [];
	private readonly hits: Uint8Array;
	private readonly rules: RuleState[] = [];
	private readonly maxGroups: number;
	private readonly maxRecent: number;
	private readonly onNotice: (notice: AlertNotice) => void;
	private readonly recentNotices: AlertNotice[] = [];
	private readonly firing = new Map<string, AlertView>();
	/** Bumped on every notice and silence: views compare it to skip work. */
	version = 0;

	constructor(options: EngineOptions) {
		this.now = options.now ?? Date.now;
		this.startedAt = this.now();
		this.maxGroups = options.maxGroups ?? 1000;
		this.maxRecent = options.recent ?? 100;
		this.onNotice = options.onNotice;
		const byWhen = new Map<string, number>();
		for (const rule of options.rules) {
			const when = rule.when.trim();
			let index = byWhen.get(when);
			if (index === undefined) {
				index = this.filters.length;
				this.filters.push(compileFilter(parseFilterExpression(when, emptySpec()), {grep: 'when', exclude: 'when'}));
				byWhen.set(when, index);
			}

			this.rules.push({rule, filter: index, groups: new Map(), seen: new Map(), overflow: 0, termsEvicted: 0, silencedUntil: 0});
		}

		this.hits = new Uint8Array(this.filters.length);
	}

	/** The bus subscriber. Markers (gaps, alerts themselves) are never counted. */
	observe(events: readonly LogEvent[]): void {
		const {filters, hits, rules} = this;
		for (const e of events) {
			if (e.marker) {
				continue;
			}

			let any = false;
			for (let i = 0; i < filters.length; i++) {
				const f = filters[i]!;
				const hit = f.all || f.test(e);
				hits[i] = hit ? 1 : 0;
				any ||= hit;
			}

			if (!any) {
				continue;
			}

			for (const rs of rules) {
				if (hits[rs.filter] === 1) {
					this.matched(rs, e);
				}
			}
		}
	}

	/** Evaluate what time alone changes; call about once a second. */
	tick(now = this.now()): void {
		for (const rs of this.rules) {
			const span = spanOf(rs.rule.spec);
			for (const g of rs.groups.values()) {
				this.step(rs, g, now, this.holds(rs, g, now));
				// Quiet groups are forgotten, but not while a cooldown still applies. Flatline groups are the point: kept.
				if (g.state === 'ok' && rs.rule.spec.kind !== 'flatline' && now - g.lastMatch > span && now - g.lastFiringNotice >= rs.rule.cooldownMs) {
					rs.groups.delete(g.key);
				}
			}
		}
	}

	/**
	 * Terms already known to newTerm rules (e.g. error fingerprints found in the history), so a
	 * restart does not announce them again. Counts for every group of every newTerm rule.
	 */
	seedSeen(terms: Iterable<string>): void {
		const newTerm = this.rules.filter(rs => rs.rule.spec.kind === 'newTerm');
		for (const term of terms) {
			for (const rs of newTerm) {
				this.remember(rs, termSeparator + term);
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
		for (const view of this.firing.values()) {
			if (view.rule === ruleName) {
				view.silenced = until > this.now();
			}
		}

		this.version++;
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
			firing: [...this.firing.values()].sort((a, b) => b.since - a.since),
			recent: [...this.recentNotices].reverse(),
			rules: this.rules.map(rs => ({
				name: rs.rule.name,
				kind: rs.rule.spec.kind,
				groups: rs.groups.size,
				overflow: rs.overflow,
				silencedUntil: rs.silencedUntil > now ? rs.silencedUntil : undefined,
			})),
		};
	}

	get ruleCount(): number {
		return this.rules.length;
	}

	// ---- per event ----

	private groupKey(rule: AlertRule, e: LogEvent): string {
		const by = rule.groupBy;
		if (by.length === 0) {
			return '';
		}

		if (by.length === 1) {
			return fieldValue(e, by[0]!);
		}

		let key = fieldValue(e, by[0]!);
		for (let i = 1; i < by.length; i++) {
			key += separator + fieldValue(e, by[i]!);
		}

		return key;
	}

	private matched(rs: RuleState, e: LogEvent): void {
		const {rule} = rs;
		const t = e.receivedAt;
		let key = this.groupKey(rule, e);
		let term: string | undefined;
		if (rule.spec.kind === 'newTerm') {
			term = fieldValue(e, rule.spec.field);
			const termKey = key + termSeparator + term;
			const known = rs.seen.has(termKey) || rs.seen.has(termSeparator + term);
			this.remember(rs, termKey);
			if (known || t - this.startedAt < rule.spec.warmupMs) {
				return; // learnt during the warm-up, or seen before
			}

			key = termKey;
		}

		let g = rs.groups.get(key);
		if (!g) {
			if (rs.groups.size >= this.maxGroups) {
				rs.overflow++;
				return;
			}

			g = this.newGroup(rs, key, e, term);
			rs.groups.set(key, g);
		}

		g.lastMatch = Math.max(g.lastMatch, t);
		g.sinceNotice++;
		g.latest = e;
		g.ring?.add(t);
		// Flatlines only change with time (the tick); every other kind can fire on this event.
		if (rule.spec.kind !== 'flatline' || g.state === 'firing') {
			this.step(rs, g, t, this.holds(rs, g, t));
		}
	}

	private newGroup(rs: RuleState, key: string, e: LogEvent, term: string | undefined): GroupState {
		const {rule} = rs;
		const labels: Record<string, string> = {};
		for (const field of rule.groupBy) {
			labels[field] = fieldValue(e, field);
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
			latest: e,
			value: 0,
			reference: 0,
		};
	}

	/** Remember a newTerm key as the most recent; the oldest is forgotten past `maxTerms`. */
	private remember(rs: RuleState, key: string): void {
		if (rs.rule.spec.kind !== 'newTerm') {
			return;
		}

		rs.seen.delete(key);
		rs.seen.set(key, true);
		if (rs.seen.size > rs.rule.spec.maxTerms) {
			rs.seen.delete(rs.seen.keys().next().value!);
			rs.termsEvicted++;
		}
	}

	// ---- conditions ----

	/** Whether the rule's condition holds for the group at `now`; the measured value goes to `g.value`. */
	private holds(rs: RuleState, g: GroupState, now: number): boolean {
		const spec = rs.rule.spec;
		switch (spec.kind) {
			case 'match':
			case 'newTerm': {
				g.value = spec.kind === 'match' ? g.sinceNotice : 1;
				return now - g.lastMatch < spec.resolveAfterMs;
			}

			case 'count': {
				g.value = g.ring!.current(now);
				return g.value >= spec.atLeast;
			}

			case 'rate': {
				g.value = g.ring!.current(now) / (spec.windowMs / 60_000);
				return g.value > spec.perMinute;
			}

			case 'spike': {
				const current = g.ring!.current(now);
				const reference = g.ring!.previous(now);
				g.value = current;
				g.reference = reference;
				// Inactive until two windows have passed since the start: the reference must be a real one.
				const armed = now - this.startedAt >= 2 * spec.windowMs;
				return armed && current >= spec.minCurrent && reference >= spec.minReference && current >= spec.factor * reference;
			}

			case 'flatline': {
				g.value = g.ring!.current(now);
				// A group has to have been watched for a whole window before its silence means anything.
				return now - g.firstSeen >= spec.windowMs && g.value < spec.below;
			}
		}
	}

	/** The notice's one line, from the value `holds` measured. */
	private summary(rs: RuleState, g: GroupState, active: boolean): string {
		const {rule} = rs;
		const spec = rule.spec;
		const v = g.value;
		switch (spec.kind) {
			case 'match': {
				return active
					? `${v} matching event${v === 1 ? '' : 's'}${rule.when ? ` (${rule.when})` : ''}`
					: `no matching event for ${formatDuration(spec.resolveAfterMs)}`;
			}

			case 'newTerm': {
				return `new ${spec.field}: ${g.labels['term'] ?? ''}`;
			}

			case 'count': {
				return `${v} events in ${formatDuration(spec.windowMs)} (alert at ${spec.atLeast} or more)`;
			}

			case 'rate': {
				const held = active && spec.forMs > 0 ? ` for ${formatDuration(spec.forMs)}` : '';
				return `${formatRate(v)} over ${formatDuration(spec.windowMs)} ${active ? '>' : '≤'} ${formatRate(spec.perMinute)}${held}`;
			}

			case 'spike': {
				const ref = g.reference;
				const ratio = ref > 0 ? `${Math.round((v / ref) * 10) / 10}×` : 'up from none';
				return `${v} events in the last ${formatDuration(spec.windowMs)}, ${ratio} the ${ref} before (alert at ${spec.factor}×)`;
			}

			case 'flatline': {
				return `${v} events in the last ${formatDuration(spec.windowMs)} (alert below ${spec.below})`;
			}
		}
	}

	// ---- the state machine ----

	private step(rs: RuleState, g: GroupState, now: number, active: boolean): void {
		const {rule} = rs;
		if (!active) {
			if (g.state === 'firing') {
				g.state = 'ok';
				this.firing.delete(g.fingerprint);
				if (g.announced && rule.resolve) {
					this.emit(rs, g, now, false, 'resolved', false);
				}

				g.announced = false;
			} else {
				g.state = 'ok';
			}

			return;
		}

		if (g.state === 'ok' && rule.spec.kind === 'rate' && rule.spec.forMs > 0) {
			g.state = 'pending';
			g.pendingSince = now;
		}

		if (g.state === 'pending') {
			if (rule.spec.kind === 'rate' && now - g.pendingSince < rule.spec.forMs) {
				return;
			}

			g.state = 'ok';
		}

		if (g.state === 'ok') {
			g.state = 'firing';
			g.firingSince = now;
			g.announced = false;
			if (now - g.lastFiringNotice >= rule.cooldownMs) {
				this.emit(rs, g, now, true, 'firing', false);
			} else {
				this.quietFiring(rs, g, now);
			}

			return;
		}

		// Firing: once more after the cooldown, while it holds (match rules: if more events matched).
		const kind = rule.spec.kind;
		if (kind !== 'newTerm' && now - g.lastFiringNotice >= rule.cooldownMs && (kind !== 'match' || g.sinceNotice > 0)) {
			this.emit(rs, g, now, true, 'firing', g.announced);
		}
	}

	/** A firing that stays quiet (within the cooldown) still shows in the snapshot. */
	private quietFiring(rs: RuleState, g: GroupState, now: number): void {
		const notice = this.notice(rs, g, now, true, 'firing', false);
		this.firing.set(g.fingerprint, {fingerprint: g.fingerprint, rule: rs.rule.name, group: g.labels, since: now, last: notice, silenced: notice.silenced});
		this.version++;
	}

	private notice(rs: RuleState, g: GroupState, now: number, active: boolean, status: AlertNotice['status'], repeat: boolean): AlertNotice {
		const {rule} = rs;
		const sample: AlertSample | undefined = g.latest ? sampleOf(g.latest) : undefined;
		return {
			fingerprint: g.fingerprint,
			rule: rule.name,
			kind: rule.spec.kind,
			status,
			repeat,
			group: g.labels,
			startsAt: g.firingSince,
			endsAt: status === 'resolved' ? now : undefined,
			at: now,
			summary: this.summary(rs, g, active),
			value: g.value,
			severity: rule.severity,
			labels: rule.labels,
			description: rule.description,
			sample,
			notify: rule.notify,
			silenced: rs.silencedUntil > now,
		};
	}

	private emit(rs: RuleState, g: GroupState, now: number, active: boolean, status: AlertNotice['status'], repeat: boolean): void {
		const notice = this.notice(rs, g, now, active, status, repeat);
		if (status === 'firing') {
			g.lastFiringNotice = now;
			g.announced = true;
			g.sinceNotice = 0;
			this.firing.set(g.fingerprint, {fingerprint: g.fingerprint, rule: rs.rule.name, group: g.labels, since: g.firingSince, last: notice, silenced: notice.silenced});
		}

		this.recentNotices.push(notice);
		if (this.recentNotices.length > this.maxRecent) {
			this.recentNotices.shift();
		}

		this.version++;
		this.onNotice(notice);
	}
}
