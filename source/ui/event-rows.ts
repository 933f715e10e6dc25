import {type LogEvent} from '../core/event.js';
import {lineJoint} from '../core/multiline-event.js';

// How many tail rows an event takes. A multi-line event (a stack trace joined by the file or
// stdin source: its message holds the lines joined by ⏎, its raw text the newlines) shows as
// its first line and the continuation lines as indented rows, at most `maxEventLines` of them
// and then a row saying how many more. Everything else is one row (wrap aside: view-tail.ts).
// Navigation counts rows with the same function, so pages and centring stay right.

/** Lines of one event shown in the tail; the rest are counted on one more row. */
export const maxEventLines = 10;

export type EventLines = {
	/** The lines shown: the first, then continuation lines (one, for a one-line event). */
	lines: string[];
	/** Lines not shown. */
	more: number;
	/** Where the lines not shown begin in the message (for the search). */
	restAt: number;
};

/** Is `e` an event the multi-line joiner made? */
export function isMultiline(e: LogEvent): boolean {
	return !e.marker && e.raw.includes('\n') && e.message.includes(lineJoint);
}

/** The event's lines as the tail shows them; `limit` lines at most. */
export function eventLines(e: LogEvent, limit = maxEventLines): EventLines {
	const {message} = e;
	if (!isMultiline(e)) {
		return {lines: [message], more: 0, restAt: message.length};
	}

	const lines: string[] = [];
	let from = 0;
	while (lines.length < limit) {
		const at = message.indexOf(lineJoint, from);
		if (at < 0) {
			lines.push(message.slice(from));
			return {lines, more: 0, restAt: message.length};
		}

		lines.push(message.slice(from, at));
		from = at + lineJoint.length;
	}

	let more = 1;
	for (let at = message.indexOf(lineJoint, from); at >= 0; at = message.indexOf(lineJoint, at + lineJoint.length)) {
		more++;
	}

	return {lines, more, restAt: from};
}

/** Rows the event takes in the tail without wrap. */
export function tailRowCount(e: LogEvent): number {
	if (!isMultiline(e)) {
		return 1;
	}

	const {lines, more} = eventLines(e);
	return lines.length + (more > 0 ? 1 : 0);
}
