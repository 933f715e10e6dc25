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
		timestamp: new Date(e.time).toISOString(),
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

/** ERROR and CRITICAL records also go to the errors topic. */
export function isErrorLevel(level: string): boolean {
	return level === 'ERROR' || level === 'CRITICAL';
}
