import {type EventInit, type Level} from './event.js';
import {detectLevel} from './level.js';
import {truncationMarker} from './lines.js';
import {sanitize} from './sanitize.js';

// OTLP logs, decoded from protobuf (otlp-proto.ts) or JSON (otlp-json.ts) into one
// shape, and turned into events here:
//   resource attribute service.name -> service, host.name -> host, scope name -> proc,
//   severity number (else text, else the message) -> level, body -> message
//   (a string as it is, a kvlist or array as JSON), time from timeUnixNano, else
//   observedTimeUnixNano, else the receive time. Attributes, trace and span ids go
//   in the record that `-o json` prints.

/** An AnyValue as plain data: kvlists are objects, bytes are base64, int64 past 2^53 a decimal string. */
export type OtlpValue = string | number | boolean | null | OtlpValue[] | OtlpObject;
export type OtlpObject = {[key: string]: OtlpValue};

export type OtlpLogRecord = {
	/** ms since the epoch; undefined when 0 or absent. */
	timeMs: number | undefined;
	observedMs: number | undefined;
	severityNumber: number;
	severityText: string;
	body: OtlpValue | undefined;
	attributes: OtlpObject;
	/** Lower-case hex; empty when absent or all zeros. */
	traceId: string;
	spanId: string;
	flags: number;
	eventName: string;
};

export type OtlpScopeLogs = {name: string; version: string; attributes: OtlpObject; records: OtlpLogRecord[]};
export type OtlpResourceLogs = {attributes: OtlpObject; scopes: OtlpScopeLogs[]};
export type OtlpRequest = {resources: OtlpResourceLogs[]; records: number};

/** Limits both decoders hold to: a request is input from anyone who can reach the port. */
export type OtlpLimits = {
	/** Nesting of AnyValue (arrays and kvlists in one another); deeper parts become a marker string. */
	maxDepth: number;
	/** Log records in one request; past it the request is refused (413). */
	maxRecords: number;
	/**
	 * Parts of one request: resources, scopes, records, attributes and array items. An empty scope
	 * costs 2 bytes of protobuf and some 150 of memory: without this, one request of the allowed
	 * size could hold more than the heap. Past it the request is refused (413).
	 */
	maxParts?: number;
};

export const defaultOtlpLimits: OtlpLimits = {maxDepth: 32, maxRecords: 100_000};

/** Parts of one request, unless the limits say otherwise (some 150 MB of memory at most). */
export const defaultMaxParts = 1_000_000;

/** Counts a request's parts against its limit (`OtlpLimits.maxParts`). */
export class PartBudget {
	private parts = 0;
	private readonly max: number;

	constructor(limits: OtlpLimits) {
		this.max = limits.maxParts ?? defaultMaxParts;
	}

	/** Count `n` more parts; past the limit, the request is refused. */
	take(n = 1): void {
		this.parts += n;
		if (this.parts > this.max) {
			throw new OtlpTooManyRecords(`more than ${this.max} parts (resources, scopes, records, attributes, array items) in one request`);
		}
	}
}

/** Put in place of a value nested deeper than maxDepth. */
export const tooDeep = '[nested too deep]';

/** The request cannot be read: answered 400. */
export class OtlpDecodeError extends Error {}

/** The request holds more than maxRecords records: answered 413. */
export class OtlpTooManyRecords extends Error {}

export function newObject(): OtlpObject {
	return {};
}

/**
 * Set a key a sender chose: `__proto__` becomes an own key like any other, not the object's
 * prototype. (Objects without a prototype would do the same, but V8 keeps them in its slow
 * dictionary mode, and every record is walked again by redaction and the writers.)
 */
export function setKey(object: OtlpObject, key: string, value: OtlpValue): void {
	if (key === '__proto__') {
		Object.defineProperty(object, key, {value, enumerable: true, writable: true, configurable: true});
	} else {
		object[key] = value;
	}
}

/** A new record with every field at its proto3 default. */
export function emptyRecord(): OtlpLogRecord {
	return {timeMs: undefined, observedMs: undefined, severityNumber: 0, severityText: '', body: undefined, attributes: newObject(), traceId: '', spanId: '', flags: 0, eventName: ''};
}

/** Nanoseconds since the epoch as two 32-bit halves, to whole ms, exactly; undefined for 0. */
export function nanosToMs(lo: number, hi: number): number | undefined {
	if (lo === 0 && hi === 0) {
		return undefined;
	}

	// Ns = hi * 2^32 + lo, and 2^32 = 4294 * 1e6 + 967296: no step leaves 2^53.
	return (hi * 4294) + Math.floor(((hi * 967_296) + lo) / 1e6);
}

/** Longest service, host or scope name kept, characters. */
const maxName = 256;

function name(v: OtlpValue | undefined): string | undefined {
	if (typeof v !== 'string' || v === '') {
		return undefined;
	}

	return sanitize(v.length > maxName ? v.slice(0, maxName) : v);
}

// OTLP SeverityNumber: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL.
const severityLevels: Level[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'];

export function levelFromSeverity(n: number): Level | undefined {
	return Number.isInteger(n) && n >= 1 && n <= 24 ? severityLevels[Math.floor((n - 1) / 4)] : undefined;
}

/** The body as the line of text it stands for. */
export function bodyText(body: OtlpValue | undefined): string {
	if (body === undefined || body === null) {
		return '';
	}

	return typeof body === 'string' ? body : (typeof body === 'object' ? JSON.stringify(body) : String(body));
}

/** Cut text to at most `maxBytes` of UTF-8; returns the text and the bytes cut. */
export function capBytes(text: string, maxBytes: number): {text: string; cut: number} {
	// Each UTF-16 unit is at most 3 bytes of UTF-8: most texts need no measuring.
	if (text.length * 3 <= maxBytes) {
		return {text, cut: 0};
	}

	const bytes = Buffer.from(text, 'utf8');
	if (bytes.length <= maxBytes) {
		return {text, cut: 0};
	}

	// A character split at the cut decodes to U+FFFD: drop it.
	const kept = bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
	return {text: kept, cut: bytes.length - Buffer.byteLength(kept)};
}

export type OtlpOrigin = {
	sourceId: string;
	/** Used when the resource has no service.name. */
	service: string;
	receivedAt: number;
	/** Longest message kept whole, bytes (as --max-line for lines). */
	maxMessage: number;
	parseError: (reason: string) => void;
};

/** Every log record of a decoded request to an event, in order. */
export function eventsFromOtlp(request: OtlpRequest, origin: OtlpOrigin): EventInit[] {
	const out: EventInit[] = [];
	for (const resource of request.resources) {
		const {'service.name': serviceName, 'host.name': hostName, ...rest} = resource.attributes;
		const service = name(serviceName) ?? origin.service;
		const host = name(hostName) ?? '';
		// One that is not a text (a number, a list) names nothing, but is kept with the others.
		keepUnless(rest, 'service.name', serviceName);
		keepUnless(rest, 'host.name', hostName);
		const others = hasKeys(rest) ? rest : undefined;
		for (const scope of resource.scopes) {
			const proc = name(scope.name) ?? '';
			for (const r of scope.records) {
				out.push(eventFromOtlpRecord(r, {service, host, proc, resource: others, scope}, origin));
			}
		}
	}

	return out;
}

/** `resource`: the resource attributes less service.name and host.name, which are the event's service and host. */
type Context = {service: string; host: string; proc: string; resource: OtlpObject | undefined; scope: OtlpScopeLogs};

function keepUnless(attributes: OtlpObject, key: string, value: OtlpValue | undefined): void {
	if (value !== undefined && typeof value !== 'string') {
		attributes[key] = value;
	}
}

function hasKeys(object: OtlpObject): boolean {
	for (const _ in object) {
		return true;
	}

	return false;
}

function eventFromOtlpRecord(r: OtlpLogRecord, c: Context, origin: OtlpOrigin): EventInit {
	const full = bodyText(r.body);
	const {text, cut} = capBytes(full, origin.maxMessage);
	let raw = text;
	if (cut > 0) {
		origin.parseError(`a log record body longer than the cap, ${cut} bytes cut`);
		raw += truncationMarker(cut);
	}

	const level = levelFromSeverity(r.severityNumber) ?? detectLevel({field: r.severityText === '' ? undefined : r.severityText, text: raw});
	const time = r.timeMs ?? r.observedMs;
	// The record holds what the event's own fields do not: service, host, scope name, event name
	// and a text body are there already. Every string in a record is scanned again by redaction,
	// so nothing is in it twice; the time is printed beside it.
	const record: Record<string, unknown> = {severityNumber: r.severityNumber};
	if (r.severityText !== '') {
		record['severityText'] = r.severityText;
	}

	if (r.traceId !== '') {
		record['traceId'] = r.traceId;
	}

	if (r.spanId !== '') {
		record['spanId'] = r.spanId;
	}

	if (r.flags !== 0) {
		record['flags'] = r.flags;
	}

	if (c.scope.version !== '') {
		record['scopeVersion'] = c.scope.version;
	}

	if (hasKeys(c.scope.attributes)) {
		record['scopeAttributes'] = c.scope.attributes;
	}

	// A structured body in full, unless it was too long: then the message holds it, cut.
	if (r.body !== null && typeof r.body === 'object' && cut === 0) {
		record['body'] = r.body;
	}

	if (hasKeys(r.attributes)) {
		record['attributes'] = r.attributes;
	}

	if (c.resource !== undefined) {
		record['resource'] = c.resource;
	}

	return {
		time: time === undefined || time > 253_402_300_799_999 ? origin.receivedAt : time,
		receivedAt: origin.receivedAt,
		sourceId: origin.sourceId,
		sourceKind: 'otlp',
		service: c.service,
		host: c.host,
		proc: c.proc,
		type: name(r.eventName) ?? '',
		level,
		message: sanitize(raw),
		raw,
		record,
	};
}
