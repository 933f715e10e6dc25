import {type EventInit} from './event.js';
import {eventFromLineOrJournal} from './journald.js';
import {type Origin} from './record.js';
import {sanitize} from './sanitize.js';

// One event from the lines the multi-line joiner put together (core/multiline.ts).

const saysInfo = /\bINFO\b/i;

/** Between the lines of a multi-line event in its message, which must stay one terminal line. */
export const lineJoint = ' ⏎ ';

/**
 * The first line decides the record, time, service and level (a JSON record stays one); the raw
 * text keeps every line with its newline, the message shows them joined by ⏎. A stack trace
 * under a first line that names no level is an ERROR.
 */
export function eventFromLines(first: string, rest: readonly string[] | undefined, trace: boolean, origin: Origin): EventInit {
	// A `journalctl -o json` entry on stdin (or in a file) is read as the journal's record.
	const e = eventFromLineOrJournal(first, origin);
	if (rest === undefined) {
		return e;
	}

	let message = e.message;
	let raw = first;
	for (const line of rest) {
		message += lineJoint + sanitize(line);
		raw += '\n' + line;
	}

	e.message = message;
	e.raw = raw;
	if (trace && e.level === 'INFO' && !saysInfo.test(first)) {
		e.level = 'ERROR';
	}

	return e;
}
