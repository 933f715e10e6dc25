import {type EventInit} from './event.js';
import {detectLevel, levelFromNumber} from './level.js';
import {type Origin, eventFromText, eventFromRecord, parseJsonObject} from './record.js';
import {sanitize} from './sanitize.js';

// Entries of the systemd journal as `journalctl -o json` writes them, one JSON object a line:
//   MESSAGE -> message, PRIORITY (syslog 0-7) -> level, SYSLOG_IDENTIFIER, else _SYSTEMD_UNIT
//   -> service, _HOSTNAME -> host, SYSLOG_PID or _PID -> proc, __REALTIME_TIMESTAMP (µs) -> time.
// journalctl writes a field that is not printable UTF-8 as an array of byte values, a field
// that occurs more than once as an array of its values, and a field over 4096 bytes as null
// unless run with --all.

type Json = Record<string, unknown>;

/** Does this record come from journalctl -o json? Every entry it writes has these two. */
export function isJournalRecord(obj: Json): boolean {
	return typeof obj['__REALTIME_TIMESTAMP'] === 'string' && typeof obj['__CURSOR'] === 'string';
}

function isByteArray(v: unknown[]): v is number[] {
	return v.every(b => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255);
}

/** A field's text: a string as it is, byte values decoded as UTF-8, the first of repeated values. */
export function journalText(v: unknown): string | undefined {
	if (typeof v === 'string') {
		return v;
	}

	if (!Array.isArray(v) || v.length === 0) {
		return undefined;
	}

	if (isByteArray(v)) {
		return Buffer.from(v).toString('utf8');
	}

	return journalText(v[0]);
}

/** __REALTIME_TIMESTAMP, microseconds since the epoch as a decimal string, to ms. */
export function journalTime(v: unknown): number | undefined {
	return typeof v === 'string' && /^\d{4,16}$/.test(v) ? Number(v.slice(0, -3)) : undefined;
}

const tooLong = '[a message over 4096 bytes, left out by journalctl: run it with --all]';

/** One journal entry to an event; `raw` is its JSON line. */
export function eventFromJournal(obj: Json, raw: string, origin: Origin): EventInit {
	let message = journalText(obj['MESSAGE']);
	if (message === undefined) {
		if (obj['MESSAGE'] === null) {
			message = tooLong;
		} else {
			if (obj['MESSAGE'] !== undefined) {
				origin.parseError?.('a journal entry with a MESSAGE that is neither text nor bytes');
			}

			message = '';
		}
	}

	const priority = journalText(obj['PRIORITY']);
	const level = (priority !== undefined && /^[0-7]$/.test(priority) ? levelFromNumber(Number(priority)) : undefined) ?? detectLevel({text: message});
	// An empty identifier names nothing: the unit or the command does.
	const service = [obj['SYSLOG_IDENTIFIER'], obj['_SYSTEMD_UNIT'], obj['_COMM']].map(journalText).find(t => t !== undefined && t !== '');
	const time = journalTime(obj['__REALTIME_TIMESTAMP']);
	if (time === undefined) {
		origin.parseError?.('a journal entry with an unreadable __REALTIME_TIMESTAMP; the receive time is used');
	}

	const pid = journalText(obj['SYSLOG_PID']) ?? journalText(obj['_PID']);
	return {
		time: time ?? origin.receivedAt,
		receivedAt: origin.receivedAt,
		sourceId: origin.sourceId,
		sourceKind: origin.sourceKind,
		service: sanitize(service ?? origin.service),
		host: sanitize(journalText(obj['_HOSTNAME']) ?? origin.host ?? ''),
		proc: pid === undefined ? origin.proc ?? '' : sanitize(pid),
		type: origin.type ?? '',
		level,
		message: sanitize(message),
		raw,
		record: obj,
	};
}

/** A line of stdin: a journal entry, another JSON record, or plain text. */
export function eventFromLineOrJournal(line: string, origin: Origin): EventInit {
	const obj = parseJsonObject(line, origin.parseError);
	if (!obj) {
		return eventFromText(line, origin);
	}

	return isJournalRecord(obj) ? eventFromJournal(obj, line, origin) : eventFromRecord(obj, line, origin);
}
