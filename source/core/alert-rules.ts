import {fingerprint} from './errors.js';
import {type LogEvent} from './event.js';

// The alert rule model: what the config, `--alert` and `--demo` produce and the
// rule engine (alert-engine.ts) evaluates. Durations are milliseconds here; the
// config speaks "90s", "5m", "1h".

export const ruleKinds = ['match', 'count', 'rate', 'spike', 'flatline', 'newTerm'] as const;
export type RuleKind = (typeof ruleKinds)[number];

export const severities = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof severities)[number];

export type MatchSpec = {kind: 'match'; /** Resolved once no matching event came for this long. */ resolveAfterMs: number};
export type CountSpec = {kind: 'count'; atLeast: number; windowMs: number};
export type RateSpec = {kind: 'rate'; /** Events per minute; firing above it. */ perMinute: number; windowMs: number; forMs: number};
export type SpikeSpec = {kind: 'spike'; factor: number; windowMs: number; minCurrent: number; minReference: number};
export type FlatlineSpec = {kind: 'flatline'; below: number; windowMs: number};
export type NewTermSpec = {kind: 'newTerm'; field: string; warmupMs: number; resolveAfterMs: number; maxTerms: number};
export type KindSpec = MatchSpec | CountSpec | RateSpec | SpikeSpec | FlatlineSpec | NewTermSpec;

export type AlertRule = {
	name: string;
	/** A filter expression, the grammar of the UI's `f` prompt; empty matches every event. */
	when: string;
	/** Fields whose values tell groups apart: service, host, source, type, level, proc, status or a record field. */
	groupBy: string[];
	/** Sink names. */
	notify: string[];
	/** No repeat of a firing notice for the same (rule, group) within this time. */
	cooldownMs: number;
	/** Send a resolved notice when the condition clears. */
	resolve: boolean;
	severity: Severity;
	/** Extra labels for Alertmanager and the webhook bodies. */
	labels: Record<string, string>;
	/** Optional text shown with every notice (Alertmanager's description). */
	description?: string | undefined;
	spec: KindSpec;
};

/** Fields of the event itself; anything else is looked up in the structured record. */
export const eventFields = ['service', 'host', 'source', 'type', 'level', 'proc', 'status', 'fingerprint'] as const;

/** Longest group or term value kept, in characters. */
const maxValueLength = 200;

function recordValue(record: unknown, path: string): string {
	let v: unknown = record;
	for (const part of path.split('.')) {
		if (v === null || typeof v !== 'object' || Array.isArray(v)) {
			return '';
		}

		v = (v as Record<string, unknown>)[part];
	}

	if (typeof v === 'string') {
		return v.length > maxValueLength ? v.slice(0, maxValueLength) : v;
	}

	return typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** The value of a groupBy or newTerm field for an event; '' when it has none. */
export function fieldValue(e: LogEvent, field: string): string {
	switch (field) {
		case 'service': {
			return e.service;
		}

		case 'host': {
			return e.host;
		}

		case 'source': {
			return e.sourceId;
		}

		case 'type': {
			return e.type;
		}

		case 'level': {
			return e.level;
		}

		case 'proc': {
			return e.proc;
		}

		case 'status': {
			return e.status === undefined ? '' : String(e.status);
		}

		case 'fingerprint': {
			return fingerprint(e.message);
		}

		default: {
			return recordValue(e.record, field);
		}
	}
}

const units: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000};

/** "500ms", "90s", "5m", "1h30m", "2d" in ms; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
	const t = text.trim();
	if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(t)) {
		return undefined;
	}

	let ms = 0;
	for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
		ms += Number(m[1]) * units[m[2]!]!;
	}

	return Math.round(ms);
}

/** "20/min", "2/s", "100/h" (or "20/m") in events per minute. */
export function parseRate(text: string): number | undefined {
	const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|sec|second|m|min|minute|h|hour)\s*$/.exec(text);
	if (!m) {
		return undefined;
	}

	const n = Number(m[1]);
	const unit = m[2]!;
	return unit.startsWith('s') ? n * 60 : (unit.startsWith('h') ? n / 60 : n);
}

/** The shortest text for a duration: "45s", "10m", "1h30m", "250ms". */
export function formatDuration(ms: number): string {
	if (ms < 1000) {
		return `${Math.round(ms)}ms`;
	}

	let s = Math.round(ms / 1000);
	let out = '';
	for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
		if (s >= size) {
			out += `${Math.floor(s / size)}${unit}`;
			s %= size;
		}
	}

	return s > 0 || out === '' ? `${out}${s}s` : out;
}

/** A rate in events per minute, for a person: "12/min", "0.5/min". */
export function formatRate(perMinute: number): string {
	const r = perMinute >= 10 ? Math.round(perMinute) : Math.round(perMinute * 10) / 10;
	return `${r}/min`;
}

/** How long a rule needs to remember a group's counts: its window (two for spike). */
export function spanOf(spec: KindSpec): number {
	switch (spec.kind) {
		case 'match':
		case 'newTerm': {
			return spec.resolveAfterMs;
		}

		case 'spike': {
			return 2 * spec.windowMs;
		}

		default: {
			return spec.windowMs;
		}
	}
}
