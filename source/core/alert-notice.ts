import {type EventInit, type Level, type LogEvent} from './event.js';
import {type RuleKind, type Severity} from './alert-rules.js';
import {sanitize} from './sanitize.js';

// What the rule engine says when a (rule, group) starts firing, fires again after
// its cooldown, or resolves; and its form as an event on the bus.

/** The triggering event, as much of it as a notice carries. */
export type AlertSample = {
	time: number;
	receivedAt: number;
	sourceId: string;
	service: string;
	host: string;
	type: string;
	level: Level;
	/** Safe for a terminal, at most 500 characters. */
	message: string;
};

export type AlertNotice = {
	/** Stable per (rule, group): 16 hex digits, like Alertmanager's fingerprints. */
	fingerprint: string;
	rule: string;
	kind: RuleKind;
	status: 'firing' | 'resolved';
	/** A firing notice sent again after the cooldown while the condition still held. */
	repeat: boolean;
	/** The groupBy fields and their values (and `term` for newTerm rules). */
	group: Record<string, string>;
	/** When this firing episode began. */
	startsAt: number;
	/** When it resolved (resolved notices only). */
	endsAt?: number | undefined;
	/** When the notice was made. */
	at: number;
	/** One line: what was measured against what. */
	summary: string;
	/** The measured value: events in the window, events per minute, matches since the last notice. */
	value: number;
	severity: Severity;
	labels: Record<string, string>;
	description?: string | undefined;
	sample?: AlertSample | undefined;
	notify: string[];
	/** Silenced from the UI: recorded and shown, not delivered. */
	silenced: boolean;
};

const sampleLength = 500;

/**
 * What a group keeps of its latest event: the event itself, or past a sample's length a copy
 * without its line and record. A thousand groups of a rule keeping 1 MiB lines would be 1 GB.
 */
export function sampleEvent(e: LogEvent): LogEvent {
	// A short line's record is small too: most events are kept as they are, with no copy.
	if (e.message.length + e.raw.length <= 4096) {
		return e;
	}

	return {...e, message: e.message.slice(0, sampleLength + 1), raw: '', record: undefined};
}

export function sampleOf(e: LogEvent): AlertSample {
	const message = e.message.length > sampleLength ? e.message.slice(0, sampleLength) + '…' : e.message;
	return {time: e.time, receivedAt: e.receivedAt, sourceId: e.sourceId, service: e.service, host: e.host, type: e.type, level: e.level, message};
}

/** FNV-1a, 64 bits, as 16 hex digits: a stable id for a (rule, group). */
export function hash64(text: string): string {
	let h = 0xCB_F2_9C_E4_84_22_23_25n;
	const prime = 0x1_00_00_00_01_B3n;
	const mask = 0xFF_FF_FF_FF_FF_FF_FF_FFn;
	for (let i = 0; i < text.length; i++) {
		h ^= BigInt(text.charCodeAt(i));
		h = (h * prime) & mask;
	}

	return h.toString(16).padStart(16, '0');
}

/** `service=web host=a`, or '' for an ungrouped rule. */
export function describeGroup(group: Record<string, string>): string {
	return Object.entries(group).map(([k, v]) => `${k}=${v}`).join(' ');
}

/** "firing", "firing again", "resolved". */
export function statusWord(n: AlertNotice): string {
	return n.status === 'resolved' ? 'resolved' : (n.repeat ? 'firing again' : 'firing');
}

/** One line for a person: `FIRING db-errors {service=checkout}: 12 events in 5m (at least 10)`. */
export function noticeLine(n: AlertNotice): string {
	const group = describeGroup(n.group);
	const head = `${n.status === 'resolved' ? 'RESOLVED' : (n.repeat ? 'FIRING (again)' : 'FIRING')} ${n.rule}${group ? ` {${group}}` : ''}`;
	return sanitize(`${head}: ${n.summary}`);
}

const severityLevel: Record<Severity, Level> = {critical: 'CRITICAL', warning: 'WARN', info: 'NOTICE'};

/** The notice as an event on the bus: the tail shows it, the history keeps it, `--type alert` finds it. */
export function alertEvent(n: AlertNotice): EventInit {
	const line = noticeLine(n) + (n.sample && n.status === 'firing' ? ` — ${n.sample.message}` : '');
	return {
		time: n.at,
		receivedAt: n.at,
		sourceId: 'alerts',
		sourceKind: 'alerts',
		service: sanitize(n.group['service'] ?? n.sample?.service ?? ''),
		host: sanitize(n.group['host'] ?? n.sample?.host ?? ''),
		proc: '',
		type: 'alert',
		level: n.status === 'resolved' ? 'INFO' : severityLevel[n.severity],
		message: line,
		raw: line,
		record: {
			alert: {
				fingerprint: n.fingerprint,
				rule: n.rule,
				kind: n.kind,
				status: n.status,
				repeat: n.repeat,
				group: n.group,
				startsAt: new Date(n.startsAt).toISOString(),
				...(n.endsAt === undefined ? {} : {endsAt: new Date(n.endsAt).toISOString()}),
				summary: n.summary,
				value: n.value,
				severity: n.severity,
				silenced: n.silenced,
			},
		},
		marker: 'alert',
	};
}
