import {type EventInit, type Level, type SourceKind} from './event.js';
import {depthReason, parseJsonBounded} from './json-depth.js';
import {detectLevel, levelFromText, levelFromType} from './level.js';
import {sanitize} from './sanitize.js';

// Structured log records (JSON lines on stdin, Kafka values) share one set of
// field names, first match wins:
//   time:    timestamp | time | @timestamp | ts
//   level:   level | levelname | severity
//   service: service | service_name | app
//   host:    host | hostname
//   logger:  logger | name
//   message: message | msg

type Json = Record<string, unknown>;

/** The first field that is neither undefined nor null. */
function first(a: unknown, b?: unknown, c?: unknown, d?: unknown): unknown {
	return a ?? b ?? c ?? d ?? undefined;
}

function text(v: unknown): string | undefined {
	if (typeof v === 'string') {
		return v;
	}

	if (typeof v === 'number' || typeof v === 'boolean') {
		return String(v);
	}

	return undefined;
}

// Most records carry UTC RFC 3339 times that differ only after the seconds:
// "2024-05-01T10:00:00.123Z". The seconds part is parsed once and reused.
const isoUtc = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(?:Z|[+-]00:?00)$/;
let cachedSecondText = '';
let cachedSecondMs = 0;

/** Milliseconds of a fraction and zone after the seconds: "Z", ".1Z" ... ".123456789Z"; -1 if it is not one. */
function fractionZ(v: string, from: number): number {
	const end = v.length - 1;
	if (v.charCodeAt(end) !== 0x5A /* Z */) {
		return -1;
	}

	if (from === end) {
		return 0;
	}

	const digits = end - from - 1;
	if (v.charCodeAt(from) !== 0x2E /* . */ || digits < 1 || digits > 9) {
		return -1;
	}

	let ms = 0;
	for (let i = 1; i <= digits; i++) {
		const d = v.charCodeAt(from + i) - 0x30;
		if (d < 0 || d > 9) {
			return -1;
		}

		if (i <= 3) {
			ms = (ms * 10) + d;
		}
	}

	return digits === 1 ? ms * 100 : (digits === 2 ? ms * 10 : ms);
}

function parseIsoUtc(v: string): number | undefined {
	// Fast path: same second as the last record, so only the tail needs reading.
	const n = cachedSecondText.length;
	if (n !== 0 && v.length > n && v.startsWith(cachedSecondText)) {
		const ms = fractionZ(v, n);
		if (ms >= 0) {
			return cachedSecondMs + ms;
		}
	}

	const m = isoUtc.exec(v);
	if (!m) {
		return undefined;
	}

	const secondText = m[1]!;
	if (secondText !== cachedSecondText) {
		const ms = Date.parse(secondText + 'Z');
		if (Number.isNaN(ms)) {
			return undefined;
		}

		cachedSecondText = secondText;
		cachedSecondMs = ms;
	}

	const fraction = m[2];
	return fraction === undefined ? cachedSecondMs : cachedSecondMs + Math.floor(Number(fraction.slice(0, 3).padEnd(3, '0')));
}

/** 9999-12-31T23:59:59.999Z: later times cannot be written as RFC 3339, and no log is from then. */
const maxTime = 253_402_300_799_999;

function parseOther(v: string): number | undefined {
	const ms = Date.parse(v);
	return Number.isNaN(ms) || ms < 0 || ms > maxTime ? undefined : ms;
}

/** Parse a time value: ISO 8601 / RFC 3339 text, or epoch seconds or milliseconds. */
export function parseTime(v: unknown): number | undefined {
	if (typeof v === 'number' && Number.isFinite(v)) {
		// Seconds until the year 5138 are below 1e11; anything larger is milliseconds.
		const ms = v < 1e11 ? Math.round(v * 1000) : Math.round(v);
		return ms >= 0 && ms <= maxTime ? ms : undefined;
	}

	if (typeof v === 'string' && v.length > 0 && v.length < 64) {
		const iso = parseIsoUtc(v);
		if (iso !== undefined) {
			return iso >= 0 ? iso : undefined;
		}

		return /^\d+(\.\d+)?$/.test(v) ? parseTime(Number(v)) : parseOther(v);
	}

	return undefined;
}

function httpStatus(v: unknown): number | undefined {
	if (typeof v === 'number') {
		return Number.isInteger(v) ? v : undefined;
	}

	return typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : undefined;
}

/**
 * Parse a line as a JSON object, or undefined. Cheap rejection for plain text.
 * Nesting is bounded (core/json-depth.ts); `parseError` hears when a part was kept as text.
 */
export function parseJsonObject(line: string, parseError?: (reason: string) => void): Json | undefined {
	const first = line.charCodeAt(0) === 0x20 ? line.trimStart().charCodeAt(0) : line.charCodeAt(0);
	if (first !== 0x7B /* { */) {
		return undefined;
	}

	try {
		const {value, cut} = parseJsonBounded(line);
		if (cut) {
			parseError?.(depthReason);
		}

		return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Json : undefined;
	} catch {
		return undefined;
	}
}

export type Origin = {
	sourceId: string;
	sourceKind: SourceKind;
	/** Used when the line does not name a service. */
	service: string;
	host?: string;
	proc?: string;
	type?: string;
	receivedAt: number;
	/** Told of what was wrong with a record that was still turned into an event (counted in health). */
	parseError?: ((reason: string) => void) | undefined;
};

/** One line of text (plain or a JSON record) to an event. */
export function eventFromLine(line: string, origin: Origin): EventInit {
	const obj = parseJsonObject(line, origin.parseError);
	return obj ? eventFromRecord(obj, line, origin) : eventFromText(line, origin);
}

/** One line of plain text (no JSON record in it) to an event. */
export function eventFromText(line: string, origin: Origin): EventInit {
	return {
		time: origin.receivedAt,
		receivedAt: origin.receivedAt,
		sourceId: origin.sourceId,
		sourceKind: origin.sourceKind,
		service: origin.service,
		host: origin.host ?? '',
		proc: origin.proc ?? '',
		type: origin.type ?? '',
		// detectLevel's order, less the structured hints a plain line has none of: this runs for most lines.
		level: levelFromText(line) ?? levelFromType(origin.type ?? '') ?? 'INFO',
		message: sanitize(line),
		raw: line,
	};
}

/**
 * A structured record to an event; `raw` is the original text of the record.
 * `extra.time` stands in when the record has no readable time of its own (else the receive time does).
 */
export function eventFromRecord(obj: Json, raw: string, origin: Origin, extra?: {level?: Level; record?: unknown; time?: number | undefined}): EventInit {
	// Field names as written, not looked up from lists: this runs for every record,
	// and records of one producer share a shape, so each lookup stays cheap.
	const timeField = first(obj['timestamp'], obj['time'], obj['@timestamp'], obj['ts']);
	const time = parseTime(timeField);
	if (time === undefined && timeField !== undefined) {
		origin.parseError?.(`a record with an unreadable time ${JSON.stringify(String(timeField).slice(0, 40))}; ${extra?.time === undefined ? 'the receive time' : 'the time of its transport'} is used`);
	}

	const levelField = first(obj['level'], obj['levelname'], obj['severity']);
	const service = text(first(obj['service'], obj['service_name'], obj['app']));
	const host = text(first(obj['host'], obj['hostname']));
	const loggerName = text(first(obj['logger'], obj['name']));
	const message = text(first(obj['message'], obj['msg'])) ?? raw;
	const status = httpStatus(first(obj['status'], obj['http_status'], obj['status_code']));
	const type = text(first(obj['log_type'], obj['type'])) ?? origin.type ?? '';
	const proc = text(first(obj['proc'], obj['process'], obj['pid']));
	const logger = loggerName === undefined ? '' : sanitize(loggerName);
	return {
		time: time ?? extra?.time ?? origin.receivedAt,
		receivedAt: origin.receivedAt,
		sourceId: origin.sourceId,
		sourceKind: origin.sourceKind,
		service: sanitize(service ?? origin.service),
		host: sanitize(host ?? origin.host ?? ''),
		proc: proc === undefined ? (loggerName === undefined ? origin.proc ?? '' : logger) : sanitize(proc),
		type: sanitize(type),
		level: extra?.level ?? detectLevel({field: levelField, status, type, text: message}),
		status,
		message: sanitize(message),
		raw,
		record: extra?.record ?? obj,
	};
}
