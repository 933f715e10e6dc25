import {LEVELS, type Level, type LogEvent, levelRank} from '../core/event.js';
import {FilterError, compileUserRegex, parseLevel} from '../core/filter.js';
import {isDateTime, isIsoTime} from '../core/since.js';
import {type AnnotationKind, annotationKinds} from './grafana-tables.js';

// The Grafana JSON datasource contract, the pure half: the targets logmon offers, a /query body
// read into a plan (range, buckets, targets, filters), and the conditions of `filters`,
// `adhocFilters` and a target's payload as one predicate over an event's dimensions. No I/O.
// One superset serves the SimpleJSON plugin, simPod's JSON plugin (old and new) and Infinity.

/** What a request got wrong: the field at fault (`targets[0].payload.level`) and why. */
export class GrafanaRequestError extends Error {
	constructor(readonly field: string, message: string) {
		super(`${field}: ${message}`);
		this.name = 'GrafanaRequestError';
	}
}

/** The dimensions a filter or a variable can name. */
export const tagKeys = ['service', 'level', 'host', 'source', 'type'] as const;
export type TagKey = (typeof tagKeys)[number];

export type Dimensions = {service: string; level: Level; host: string; source: string; type: string};

export type TargetKind = 'series' | 'table';

export type TargetInfo = {
	name: string;
	kind: TargetKind;
	/** What one series of it is: the whole target, or one per service, level or status class. */
	by?: 'service' | 'level' | 'class';
	/** Only ERROR and CRITICAL events count. */
	errorsOnly?: boolean;
	text: string;
};

/** Every target /search and /metrics list. "error" is ERROR or CRITICAL, as the history's errors stream. */
export const targets: readonly TargetInfo[] = [
	{name: 'error_count', kind: 'series', errorsOnly: true, text: 'ERROR and CRITICAL events per bucket'},
	{name: 'error_by_service', kind: 'series', by: 'service', errorsOnly: true, text: 'errors per bucket, one series per service'},
	{name: 'error_by_level', kind: 'series', by: 'level', errorsOnly: true, text: 'errors per bucket, one series per level (ERROR, CRITICAL)'},
	{name: 'event_count', kind: 'series', text: 'events per bucket'},
	{name: 'event_rate_by_service', kind: 'series', by: 'service', text: 'events per second, one series per service'},
	{name: 'error_rate_by_service', kind: 'series', by: 'service', text: 'errors / events (0 to 1), one series per service; null where a service had no events'},
	{name: 'status_by_code', kind: 'series', by: 'class', text: 'events with an HTTP status per bucket, one series per class (2xx, 3xx, 4xx, 5xx)'},
	{name: 'recent_errors', kind: 'table', errorsOnly: true, text: 'table: the most recent errors in the range, newest first'},
	{name: 'annotations', kind: 'table', text: 'table (time, timeEnd, title, text, tags): gap markers, source failures, alerts'},
];

const targetsByName = new Map(targets.map(t => [t.name, t]));

export function targetInfo(name: string): TargetInfo | undefined {
	return targetsByName.get(name);
}

/** simPod >= 0.6 `/metrics`: each target with the payload fields its query editor shows. */
export function metricsList(): unknown[] {
	return targets.map(t => ({
		label: t.name,
		value: t.name,
		payloads: [
			{name: 'service', label: 'Service', type: 'multi-select', placeholder: 'all services', reloadMetric: false},
			...(t.name === 'error_by_level' || t.errorsOnly ? [] : [{name: 'level', label: 'Level at least', type: 'select', placeholder: 'any level', options: LEVELS.map(l => ({label: l, value: l}))}]),
			{name: 'host', label: 'Host', type: 'multi-select', placeholder: 'all hosts'},
			...(t.kind === 'table' && t.name !== 'annotations' ? [
				{name: 'q', label: 'Filter', type: 'input', placeholder: 'timeout !health (the f prompt grammar)', width: 40},
				{name: 'limit', label: 'Rows', type: 'input', placeholder: '100'},
			] : []),
			...(t.name === 'annotations' ? [{name: 'kinds', label: 'Kinds', type: 'multi-select', placeholder: 'gaps, failures, alerts', options: annotationKinds.map(k => ({label: k, value: k}))}] : []),
		],
	}));
}

// Conditions: filters, adhocFilters and payload fields, all as (key, operator, value).

export type Operator = '=' | '!=' | '=~' | '!~' | 'in' | '>=' | '>' | '<=' | '<';
type Condition = {key: TagKey; op: Operator; values: string[]; regex?: {test(text: string): boolean}};

/** A predicate over dimensions, with what it looks at: sidecars know service and level only. */
export type DimensionTest = {
	test(d: Dimensions): boolean;
	/** The keys its conditions name. */
	readonly keys: ReadonlySet<TagKey>;
	readonly all: boolean;
};

function isTagKey(key: string): key is TagKey {
	return (tagKeys as readonly string[]).includes(key);
}

/** `services` and `Service` name the key `service`. */
export function tagKeyOf(text: string): TagKey | undefined {
	const k = text.trim().toLowerCase().replace(/s$/, '');
	return isTagKey(k) ? k : undefined;
}

function condition(key: string, op: string, value: unknown, field: string): Condition {
	if (!isTagKey(key)) {
		throw new GrafanaRequestError(`${field}.key`, `unknown key ${JSON.stringify(key)}; expected one of ${tagKeys.join(', ')}`);
	}

	const values = (Array.isArray(value) ? value : [value]).map(v => (typeof v === 'number' ? String(v) : v));
	if (!values.every(v => typeof v === 'string')) {
		throw new GrafanaRequestError(`${field}.value`, 'expected a string or a list of strings');
	}

	const strings = values as string[];
	switch (op) {
		case '=':
		case '!=': {
			return {key, op, values: key === 'level' ? strings.map(v => levelOf(v, `${field}.value`)) : strings};
		}

		case '=~':
		case '!~': {
			try {
				return {key, op, values: strings, regex: compileUserRegex(`^(?:${strings[0] ?? ''})$`, `${field}.value`)};
			} catch (error) {
				throw new GrafanaRequestError(`${field}.value`, error instanceof FilterError ? error.message.replace(/^[^:]+: /, '') : String(error));
			}
		}

		case '>':
		case '>=':
		case '<':
		case '<=': {
			if (key !== 'level') {
				throw new GrafanaRequestError(`${field}.operator`, `${op} applies to level only`);
			}

			return {key, op, values: [levelOf(strings[0] ?? '', `${field}.value`)]};
		}

		default: {
			throw new GrafanaRequestError(`${field}.operator`, `unknown operator ${JSON.stringify(op)}; expected =, !=, =~ or !~ (and <, <=, >, >= for level)`);
		}
	}
}

function levelOf(text: string, field: string): Level {
	try {
		return parseLevel(text, field);
	} catch (error) {
		throw new GrafanaRequestError(field, (error as Error).message.replace(/^[^:]+: /, ''));
	}
}

function holds(c: Condition, d: Dimensions): boolean {
	const v = d[c.key];
	switch (c.op) {
		case '=':
		case 'in': {
			return c.values.includes(v);
		}

		case '!=': {
			return !c.values.includes(v);
		}

		case '=~': {
			return c.regex!.test(v);
		}

		case '!~': {
			return !c.regex!.test(v);
		}

		case '>=': {
			return levelRank[v as Level] >= levelRank[c.values[0] as Level];
		}

		case '>': {
			return levelRank[v as Level] > levelRank[c.values[0] as Level];
		}

		case '<=': {
			return levelRank[v as Level] <= levelRank[c.values[0] as Level];
		}

		case '<': {
			return levelRank[v as Level] < levelRank[c.values[0] as Level];
		}
	}
}

export function dimensionTest(conditions: readonly Condition[]): DimensionTest {
	return {
		test: d => conditions.every(c => holds(c, d)),
		keys: new Set(conditions.map(c => c.key)),
		all: conditions.length === 0,
	};
}

/** `filters` (simPod >= 0.6.4) or `adhocFilters` (SimpleJSON, simPod to 0.6.3): `[{key, operator, value}]`. */
function adhocConditions(body: Record<string, unknown>): Condition[] {
	const name = Array.isArray(body['filters']) ? 'filters' : 'adhocFilters';
	const list = body[name];
	if (list === undefined || list === null) {
		return [];
	}

	if (!Array.isArray(list)) {
		throw new GrafanaRequestError(name, 'expected a list of {key, operator, value}');
	}

	if (list.length > maxConditions) {
		throw new GrafanaRequestError(name, `at most ${maxConditions} filters`);
	}

	return list.map((f: unknown, i) => {
		const field = `${name}[${i}]`;
		if (f === null || typeof f !== 'object') {
			throw new GrafanaRequestError(field, 'expected {key, operator, value}');
		}

		const o = f as Record<string, unknown>;
		return condition(String(o['key'] ?? ''), String(o['operator'] ?? '='), o['value'], field);
	});
}

/** Grafana's multi-value variables in their default glob format: `{a,b}`. `*`, `All` and `$__all` mean any. */
function payloadValues(value: unknown): string[] | undefined {
	const list = Array.isArray(value) ? value : [value];
	const out: string[] = [];
	for (const v of list) {
		if (v === undefined || v === null || v === '') {
			continue;
		}

		const text = typeof v === 'number' ? String(v) : (typeof v === 'string' ? v : undefined);
		if (text === undefined) {
			return undefined;
		}

		const glob = /^\{(.*)\}$/.exec(text);
		out.push(...(glob ? glob[1]!.split(',') : [text]));
	}

	return out.some(v => v === '*' || v === 'All' || v === '$__all') ? [] : out;
}

export type Payload = {
	conditions: Condition[];
	/** The `f` prompt grammar, for the recent_errors table. */
	q?: string | undefined;
	limit?: number | undefined;
	kinds?: string[] | undefined;
	/** `table` asks for a series target as a table (as SimpleJSON's `type: "table"`). */
	format?: 'table' | 'time_series' | undefined;
};

/** A target's `payload` (simPod >= 0.4) or `data` (simPod <= 0.3, SimpleJSON): an object, or its JSON text. */
export function readPayload(value: unknown, field: string): Payload {
	let o = value;
	if (typeof o === 'string') {
		if (o.trim() === '') {
			return {conditions: []};
		}

		try {
			o = JSON.parse(o) as unknown;
		} catch {
			throw new GrafanaRequestError(field, 'expected a JSON object');
		}
	}

	if (o === undefined || o === null) {
		return {conditions: []};
	}

	if (typeof o !== 'object' || Array.isArray(o)) {
		throw new GrafanaRequestError(field, 'expected a JSON object like {"service": "web"}');
	}

	const p = o as Record<string, unknown>;
	const out: Payload = {conditions: []};
	for (const key of tagKeys) {
		const values = payloadValues(p[key]);
		if (values === undefined) {
			throw new GrafanaRequestError(`${field}.${key}`, 'expected a string or a list of strings');
		}

		if (values.length === 0) {
			continue;
		}

		out.conditions.push(key === 'level' ? {key, op: '>=', values: [levelOf(values[0]!, `${field}.level`)]} : {key, op: 'in', values});
	}

	if (typeof p['q'] === 'string' && p['q'].trim() !== '') {
		out.q = p['q'];
	} else if (p['q'] !== undefined && typeof p['q'] !== 'string') {
		throw new GrafanaRequestError(`${field}.q`, 'expected a filter text like "timeout !health"');
	}

	if (p['limit'] !== undefined && p['limit'] !== '') {
		const n = Number(p['limit']);
		if (!Number.isInteger(n) || n < 1) {
			throw new GrafanaRequestError(`${field}.limit`, `expected a whole number from 1, got ${JSON.stringify(p['limit'])}`);
		}

		out.limit = n;
	}

	if (p['kinds'] !== undefined) {
		const kinds = payloadValues(p['kinds']);
		const bad = kinds?.find(k => !annotationKinds.includes(k as AnnotationKind));
		if (kinds === undefined || bad !== undefined) {
			throw new GrafanaRequestError(`${field}.kinds`, `expected some of ${annotationKinds.join(', ')}`);
		}

		out.kinds = kinds;
	}

	if (p['format'] === 'table' || p['format'] === 'time_series') {
		out.format = p['format'];
	}

	return out;
}

// The /query body.

export type TargetRequest = {
	refId: string;
	/** Where its payload is in the request (`targets[2].payload`), for errors that name it. */
	payloadAt: string;
	info: TargetInfo;
	/** Series targets answered as a table. */
	asTable: boolean;
	payload: Payload;
	test: DimensionTest;
};

export type QueryPlan = {
	from: number;
	to: number;
	buckets: Buckets;
	targets: TargetRequest[];
	/** Said with each series when the step was widened to keep the answer under maxPoints. */
	widened?: string;
};

/** A series holds at most this many buckets, whatever maxDataPoints says: the step is widened. */
export const maxBuckets = 20_000;
/** At most this many series per target; the rest are summed as "(other)". */
export const maxSeries = 50;
/**
 * Points (buckets times series) one answer holds at most over all its targets: past it the step is
 * widened, so 100 targets of 50 series of 20,000 buckets cannot build an answer of gigabytes.
 */
export const maxPoints = 1_000_000;
/** Targets and filters one request may hold: each target costs a pass over the counts. */
export const maxTargets = 100;
export const maxConditions = 100;
/** The finest bucket: the live counts are kept per 10 s (grafana-counts.ts). */
export const minStepMs = 10_000;

function timeOf(value: unknown, field: string): number {
	// Strings: epoch milliseconds, or ISO 8601 only (a looser parse reads "1" as 2001-01-01).
	const ms = typeof value === 'number' ? value : (typeof value === 'string' ? (/^\d{10,14}$/.test(value) ? Number(value) : (isIsoTime(value) ? Date.parse(value) : Number.NaN)) : Number.NaN);
	if (!Number.isFinite(ms) || !isDateTime(ms)) {
		throw new GrafanaRequestError(field, `expected an ISO 8601 time like "2024-05-01T10:00:00.000Z" or epoch milliseconds, got ${JSON.stringify(value)}`);
	}

	return ms;
}

function positive(value: unknown, field: string): number | undefined {
	if (value === undefined || value === null) {
		return undefined;
	}

	const n = Number(value);
	if (!Number.isFinite(n) || n <= 0) {
		throw new GrafanaRequestError(field, `expected a positive number, got ${JSON.stringify(value)}`);
	}

	return n;
}

export function readRange(body: Record<string, unknown>): {from: number; to: number} {
	const range = body['range'];
	if (range === null || typeof range !== 'object') {
		throw new GrafanaRequestError('range', 'expected {"from": "…", "to": "…"} (ISO 8601 times)');
	}

	const r = range as Record<string, unknown>;
	const from = timeOf(r['from'], 'range.from');
	const to = timeOf(r['to'], 'range.to');
	if (to < from) {
		throw new GrafanaRequestError('range.to', 'is before range.from');
	}

	return {from, to};
}

export function readQuery(body: unknown): QueryPlan {
	if (body === null || typeof body !== 'object' || Array.isArray(body)) {
		throw new GrafanaRequestError('body', 'expected a JSON object with range and targets');
	}

	const b = body as Record<string, unknown>;
	const {from, to} = readRange(b);
	const intervalMs = positive(b['intervalMs'], 'intervalMs');
	const maxDataPoints = positive(b['maxDataPoints'], 'maxDataPoints');
	const buckets = planBuckets(from, to, intervalMs, maxDataPoints);
	const adhoc = adhocConditions(b);
	if (!Array.isArray(b['targets'])) {
		throw new GrafanaRequestError('targets', 'expected a list of {"target": "error_count", "refId": "A"}');
	}

	if (b['targets'].length > maxTargets) {
		throw new GrafanaRequestError('targets', `at most ${maxTargets} targets in one request`);
	}

	const list: TargetRequest[] = [];
	for (const [i, t] of (b['targets'] as unknown[]).entries()) {
		const field = `targets[${i}]`;
		if (t === null || typeof t !== 'object') {
			throw new GrafanaRequestError(field, 'expected {"target": "…"}');
		}

		const o = t as Record<string, unknown>;
		// A new panel sends a target with none chosen yet; a hidden one is not drawn.
		if (o['hide'] === true || o['target'] === undefined || o['target'] === null || o['target'] === '' || o['target'] === 'select metric') {
			continue;
		}

		if (typeof o['target'] !== 'string') {
			throw new GrafanaRequestError(`${field}.target`, 'expected a target name');
		}

		const info = targetInfo(o['target']);
		if (!info) {
			throw new GrafanaRequestError(`${field}.target`, `unknown target ${JSON.stringify(o['target'])}; expected one of ${targets.map(x => x.name).join(', ')}`);
		}

		const payloadField = o['payload'] === undefined ? 'data' : 'payload';
		const payload = readPayload(o[payloadField], `${field}.${payloadField}`);
		if (payload.q !== undefined && info.kind === 'series') {
			throw new GrafanaRequestError(`${field}.${payloadField}.q`, 'a text filter applies to the recent_errors table; series are counted by service, level, host, source and type');
		}

		list.push({
			refId: typeof o['refId'] === 'string' ? o['refId'] : String.fromCodePoint(65 + (i % 26)),
			payloadAt: `${field}.${payloadField}`,
			info,
			asTable: info.kind === 'series' && (o['type'] === 'table' || payload.format === 'table'),
			payload,
			test: dimensionTest([...adhoc, ...payload.conditions]),
		});
	}

	// The most series the targets can have, each of `buckets.count` points: past maxPoints, fewer buckets.
	const series = list.reduce((n, t) => n + seriesAtMost(t.info), 0);
	if (series * buckets.count > maxPoints) {
		const wide = planBuckets(from, to, undefined, Math.max(1, Math.floor(maxPoints / series)));
		const n = (x: number): string => x.toLocaleString('en-US');
		const widened = `${n(series)} series of ${n(buckets.count)} points are past the ${n(maxPoints)} points one answer holds: the step is ${n(wide.stepMs / 1000)} s instead of ${n(buckets.stepMs / 1000)} s`;
		return {from, to, buckets: wide, targets: list, widened};
	}

	return {from, to, buckets, targets: list};
}

/** The most series a target answers with. */
function seriesAtMost(info: TargetInfo): number {
	if (info.kind !== 'series') {
		return 0;
	}

	return info.by === 'service' ? maxSeries : (info.by === 'level' ? 2 : (info.by === 'class' ? 4 : 1));
}

// Buckets: aligned to multiples of the step since the epoch, so a refresh keeps the same edges.

export type Buckets = {
	/** Start of the first bucket (at or before range.from). */
	start: number;
	stepMs: number;
	count: number;
};

const niceSteps = [10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000];

/**
 * The step is intervalMs (Grafana's choice for the panel's width), at least 10 s, widened when
 * the range would hold more than maxDataPoints buckets (to the next of 10 s, 15 s, 20 s, 30 s,
 * 1 min, 2 min, 5 min … 1 day, or whole days past that).
 */
export function planBuckets(from: number, to: number, intervalMs?: number, maxDataPoints?: number): Buckets {
	const span = Math.max(1, to - from);
	const points = Math.min(maxBuckets, Math.max(1, Math.floor(maxDataPoints ?? 1000)));
	let step = Math.max(minStepMs, intervalMs ?? Math.ceil(span / points));
	const fits = (s: number): boolean => Math.floor(to / s) - Math.floor(from / s) + 1 <= points;
	if (!fits(step)) {
		step = niceSteps.find(s => s >= step && fits(s)) ?? Math.ceil(span / points / 86_400_000 + 1) * 86_400_000;
	}

	let start = Math.floor(from / step) * step;
	let count = Math.floor(to / step) - Math.floor(from / step) + 1;
	// A first bucket that starts before the earliest time a Date holds is left out.
	if (start < -8.64e15) {
		start += step;
		count--;
		if (count < 1) {
			return {start: from, stepMs: step, count: 1};
		}
	}

	return {start, stepMs: step, count};
}

// HTTP status classes, from the event's status (a record's status, http_status or status_code)
// or, for plain request lines, from the message: `"GET /x HTTP/1.1" 404 512` or `status=503`.

const requestLine = /HTTP\/\d(?:\.\d)?"?\s+([1-5]\d\d)\b/;
const statusField = /\bstatus(?:_code)?["']?\s*[=:]\s*["']?([1-5]\d\d)\b/i;
/** One quick look that most messages fail: neither pattern can match without one of these. */
const mayHoldStatus = /HTTP\/|[Ss]tatus|STATUS/;

/** 1 to 5 for 1xx to 5xx; 0 when the event carries no HTTP status. */
export function statusClass(e: Pick<LogEvent, 'status' | 'message'>): number {
	if (e.status !== undefined) {
		return e.status >= 100 && e.status <= 599 ? Math.floor(e.status / 100) : 0;
	}

	const m = e.message;
	if (!mayHoldStatus.test(m)) {
		return 0;
	}

	const hit = requestLine.exec(m) ?? statusField.exec(m);
	return hit ? Number(hit[1]![0]) : 0;
}

export function className(c: number): string {
	return `${c}xx`;
}
