import {type GroupState, summary} from './alert-conditions.js';
import {type AlertRule, type RuleKind} from './alert-rules.js';
import {type AlertNotice, type AlertSample, sampleOf} from './alert-notice.js';

// The state machine of each (rule, group), and the book of what is firing and what was said.
// Per (rule, group): ok -> (pending, for rate rules with `for`) -> firing -> ok. The move to
// firing sends a notice unless one went out less than `cooldown` ago; while firing, a notice is
// sent again once the cooldown has passed (match rules: only if more events matched). The move
// back to ok sends a resolved notice when the rule asks for it and its firing was announced.
// Pure: the engine gives the time, and notices go to a callback.

export type RuleState = {
	readonly rule: AlertRule;
	/** The rule's kind, read from one shape of object on every run of events. */
	readonly kind: RuleKind;
	readonly filter: number;
	readonly groups: Map<string, GroupState>;
	/** Groups not tracked because the rule had `maxGroups` already. */
	overflow: number;
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

export class AlertBook {
	readonly firing = new Map<string, AlertView>();
	/** The latest notices, oldest first. */
	readonly recent: AlertNotice[] = [];
	/** Bumped on every notice and silence: views compare it to skip work. */
	version = 0;

	constructor(private readonly maxRecent: number, private readonly onNotice: (notice: AlertNotice) => void) {}

	/** One evaluation of a (rule, group): `active` says whether its condition holds now. */
	step(rs: RuleState, g: GroupState, now: number, active: boolean): void {
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
			summary: summary(rs.rule, g, active),
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

		this.recent.push(notice);
		if (this.recent.length > this.maxRecent) {
			this.recent.shift();
		}

		this.version++;
		this.onNotice(notice);
	}
}
