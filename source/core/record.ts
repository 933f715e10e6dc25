import {type EventInit, type Level, type SourceKind} from './event.js';
import {detectLevel} from './level.js';
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

function pick(obj: Json, keys: readonly string[]): unknown {
	for (const key of keys) {
		const v = obj[key];
		if (v !== undefined && v !== null) {
			return v;
		}
	}

	return undefined;
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

// The fraction and zone after a cached second: "Z", ".1Z" ... ".123456789Z".
const fractionZ = /^(?:\.(\d{1,9}))?Z$/;

function parseIsoUtc(v: string): number | undefined {
	// Fast path: same second as the last record, so only the tail needs reading.
	if (cachedSecondText !== '' && v.startsWith(cachedSecondText)) {
		const tail = fractionZ.exec(v.slice(cachedSecondText.length));
		if (tail) {
			const fraction = tail[1];
			return fraction === undefined ? cachedSecondMs : cachedSecondMs + Math.floor(Number(fraction.slice(0, 3).padEnd(3, '0')));
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

function parseOther(v: string): number | undefined {
	const ms = Date.parse(v);
	return Number.isNaN(ms) ? undefined : ms;
}

/** Parse a time value: ISO 8601 / RFC 3339 text, or epoch seconds or milliseconds. */
export function parseTime(v: unknown): number | undefined {
	if (typeof v === 'number' && Number.isFinite(v)) {
		// Seconds until the year 5138 are below 1e11; anything larger is milliseconds.
		return v < 1e11 ? Math.round(v * 1000) : Math.round(v);
	}

	if (typeof v === 'string' && v.length > 0 && v.length < 64) {
		const iso = parseIsoUtc(v);
		if (iso !== undefined) {
			return iso;
		}

		return /^\d+(\.\d+)?$/.test(v) ? parseTime(Number(v)) : parseOther(v);
	}

	return undefined;
}

export type RecordFields = {
	time?: number | undefined;
	levelField?: unknown;
	service?: string | undefined;
	host?: string | undefined;
	logger?: string | undefined;
	message?: string | undefined;
	status?: number | undefined;
	type?: string | undefined;
	proc?: string | undefined;
};

// The field names, made once: readRecord runs for every structured record.
const names = {
	status: ['status', 'http_status', 'status_code'],
	time: ['timestamp', 'time', '@timestamp', 'ts'],
	level: ['level', 'levelname', 'severity'],
	service: ['service', 'service_name', 'app'],
	host: ['host', 'hostname'],
	logger: ['logger', 'name'],
	message: ['message', 'msg'],
	type: ['log_type', 'type'],
	proc: ['proc', 'process', 'pid'],
} as const;

export function readRecord(obj: Json): RecordFields {
	const status = pick(obj, names.status);
	return {
		time: parseTime(pick(obj, names.time)),
		levelField: pick(obj, names.level),
		service: text(pick(obj, names.service)),
		host: text(pick(obj, names.host)),
		logger: text(pick(obj, names.logger)),
		message: text(pick(obj, names.message)),
		status: typeof status === 'number' && Number.isInteger(status) ? status : (typeof status === 'string' && /^\d{3}$/.test(status) ? Number(status) : undefined),
		type: text(pick(obj, names.type)),
		proc: text(pick(obj, names.proc)),
	};
}

/** Parse a line as a JSON object, or undefined. Cheap rejection for plain text. */
export function parseJsonObject(line: string): Json | undefined {
	const first = line.charCodeAt(0) === 0x20 ? line.trimStart().charCodeAt(0) : line.charCodeAt(0);
	if (first !== 0x7B /* { */) {
		return undefined;
	}

	try {
		const v: unknown = JSON.parse(line);
		return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : undefined;
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
};

/** One line of text (plain or a JSON record) to an event. */
export function eventFromLine(line: string, origin: Origin): EventInit {
	const obj = parseJsonObject(line);
	if (obj) {
		return eventFromRecord(obj, line, origin);
	}

	return {
		time: origin.receivedAt,
		receivedAt: origin.receivedAt,
		sourceId: origin.sourceId,
		sourceKind: origin.sourceKind,
		service: origin.service,
		host: origin.host ?? '',
		proc: origin.proc ?? '',
		type: origin.type ?? '',
		level: detectLevel({type: origin.type, text: line}),
		message: sanitize(line),
		raw: line,
	};
}

/** A structured record to an event; `raw` is the original text of the record. */
export function eventFromRecord(obj: Json, raw: string, origin: Origin, extra?: {level?: Level; record?: unknown}): EventInit {
	const f = readRecord(obj);
	const message = f.message ?? raw;
	const logger = f.logger === undefined ? '' : sanitize(f.logger);
	const type = f.type ?? origin.type ?? '';
	return {
		time: f.time ?? origin.receivedAt,
		receivedAt: origin.receivedAt,
		sourceId: origin.sourceId,
		sourceKind: origin.sourceKind,
		service: sanitize(f.service ?? origin.service),
		host: sanitize(f.host ?? origin.host ?? ''),
		proc: f.proc === undefined ? (f.logger === undefined ? origin.proc ?? '' : logger) : sanitize(f.proc),
		type: sanitize(type),
		level: extra?.level ?? detectLevel({field: f.levelField, status: f.status, type, text: message}),
		status: f.status,
		message: sanitize(message),
		raw,
		record: extra?.record ?? obj,
	};
}
