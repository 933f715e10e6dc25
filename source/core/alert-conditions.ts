import {type AlertRule, formatDuration, formatRate} from './alert-rules.js';
import {type BucketRing} from './alert-window.js';
import {type LogEvent} from './event.js';

// What each kind of rule measures for a group, whether its condition holds, and the
// one line a notice says about it. The engine (alert-engine.ts) keeps the state.

/** One (rule, group): its counts, its state, its latest event. */
export type GroupState = {
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

/** Whether the rule's condition holds for the group at `now`; the measured value goes to `g.value`. `startedAt`: the engine's start. */
export function holds(rule: AlertRule, g: GroupState, now: number, startedAt: number): boolean {
	const spec = rule.spec;
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
			const armed = now - startedAt >= 2 * spec.windowMs;
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
export function summary(rule: AlertRule, g: GroupState, active: boolean): string {
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
