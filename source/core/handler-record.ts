import {type EventInit} from './event.js';
import {parseJsonObject} from './record.js';

// The record shape of the services' Kafka logging handler, which `logmon publish` and the
// kafka forwarder write and the Kafka source reads back: the original JSON fields when the
// line was a JSON object, then {id, timestamp, service, host, level, logger, message} from
// the event. The id lets a consumer of both the main and the errors topic show a record once.

type Json = Record<string, unknown>;

/** The fields of an event the record is built from. */
export type RecordEvent = Pick<EventInit, 'time' | 'service' | 'host' | 'level' | 'proc' | 'type' | 'status' | 'raw'>;

/** The message of a record: the original's message field, else the line itself. */
function messageOf(obj: Json | undefined, raw: string): string {
	const m = obj?.['message'] ?? obj?.['msg'];
	if (typeof m === 'string') {
		return m;
	}

	// A line that came with its newline (logio) is sent without it.
	return raw.endsWith('\n') ? raw.slice(0, raw.endsWith('\r\n') ? -2 : -1) : raw;
}

/**
 * The record for one event. `obj` is the line parsed as a JSON object (undefined: parse `raw`
 * here; null: not JSON); `newId` gives an id when the original has none.
 */
export function handlerRecord(e: RecordEvent, newId: () => string, obj?: Json | null): Json {
	const original = obj === undefined ? parseJsonObject(e.raw) : (obj ?? undefined);
	const id = original?.['id'];
	const record: Json = {
		...original,
		id: typeof id === 'string' ? id : newId(),
		timestamp: isoTime(e.time),
		service: e.service,
		host: e.host,
		level: e.level,
		logger: e.proc,
		message: messageOf(original, e.raw),
	};
	if (e.type && original?.['type'] === undefined) {
		record['type'] = e.type;
	}

	if (e.status !== undefined && original?.['status'] === undefined) {
		record['status'] = e.status;
	}

	return record;
}

/**
 * The record's JSON text, as JSON.stringify(handlerRecord(…)) gives it. A line that is not a
 * JSON object (most of them) is written field by field, with no object built: this runs for
 * every forwarded event.
 */
export function handlerRecordJson(e: RecordEvent, newId: () => string): string {
	const original = parseJsonObject(e.raw);
	if (original) {
		return JSON.stringify(handlerRecord(e, newId, original));
	}

	const q = JSON.stringify;
	let text = `{"id":${q(newId())},"timestamp":"${isoTime(e.time)}","service":${q(e.service)},"host":${q(e.host)},"level":"${e.level}","logger":${q(e.proc)},"message":${q(messageOf(undefined, e.raw))}`;
	if (e.type) {
		text += `,"type":${q(e.type)}`;
	}

	if (e.status !== undefined) {
		text += `,"status":${e.status}`;
	}

	return text + '}';
}

// Times of one second share their text but for the milliseconds: that part is made once.
let isoSecond = Number.NaN;
let isoPrefix = '';

/** The RFC 3339 UTC text of a time in ms, as Date#toISOString gives it. */
export function isoTime(ms: number): string {
	if (!Number.isInteger(ms)) {
		return new Date(Number.isFinite(ms) ? ms : 0).toISOString();
	}

	const second = Math.floor(ms / 1000);
	if (second !== isoSecond) {
		const text = new Date(second * 1000).toISOString();
		// Years past 9999 or before 0 have a longer form: those are not cached.
		if (text.length !== 24) {
			return new Date(ms).toISOString();
		}

		isoSecond = second;
		isoPrefix = text.slice(0, 20);
	}

	const milli = ms - (second * 1000);
	return `${isoPrefix}${milli < 10 ? '00' : (milli < 100 ? '0' : '')}${milli}Z`;
}

/** ERROR and CRITICAL records also go to the errors topic. */
export function isErrorLevel(level: string): boolean {
	return level === 'ERROR' || level === 'CRITICAL';
}
