import {type LogEvent, eventChars} from '../core/event.js';
import {type Filter} from '../core/filter.js';
import {errorLevels} from '../history/types.js';
import {type HttpContext} from './context.js';
import {type EventKey, compareKeys} from './event-id.js';

// Events for an answer, newest first: the store holds the most recent ones (the history may not
// have written them yet), the history what came before the store's oldest. With the history off,
// the store alone, and the answer says so ("from": "memory").

export type ReadQuery = {
	filter: Filter;
	since?: number | undefined;
	until?: number | undefined;
	tokens?: string[] | undefined;
	/** ERROR and CRITICAL only (the history's errors stream, kept longer). */
	errorsOnly?: boolean;
	/** Only events before this one: the cursor of the previous page. */
	before?: EventKey | undefined;
	limit: number;
};

export type ReadResult = {
	events: LogEvent[];
	/** More events match beyond these. */
	more: boolean;
	from: 'history' | 'memory';
};

/** The test an event must pass, the same for the store and the history. Alert notices are not log events here. */
export function eventTest(q: Pick<ReadQuery, 'filter' | 'since' | 'until' | 'errorsOnly'>): (e: LogEvent) => boolean {
	const {filter, since, until, errorsOnly} = q;
	return e => e.marker !== 'alert'
		&& (!errorsOnly || (!e.marker && errorLevels.has(e.level)))
		&& (since === undefined || e.time >= since)
		&& (until === undefined || e.time <= until)
		&& (filter.all || filter.test(e));
}

/**
 * The text of one answer's events at most (core/event.ts eventChars): past it the answer ends
 * early with `more`, and the next page goes on. 10,000 lines of 1 MiB would be 10 GB, and more
 * than a string can hold once they are JSON.
 */
export const maxAnswerChars = 64 * 1024 * 1024;

export async function newestEvents(context: HttpContext, q: ReadQuery): Promise<ReadResult> {
	const want = q.limit + 1;
	const test = eventTest(q);
	const out: LogEvent[] = [];
	let chars = 0;
	let full = false;
	const take = (e: LogEvent): void => {
		out.push(e);
		chars += eventChars(e);
		full = chars >= maxAnswerChars;
	};

	const {store, reader} = context;
	for (let i = store.size - 1; i >= 0 && out.length < want && !full; i--) {
		const e = store.at(i)!;
		if (q.before && compareKeys(e, q.before) >= 0) {
			continue;
		}

		if (test(e)) {
			take(e);
		}
	}

	if (reader && out.length < want && !full) {
		// What the store no longer (or never) held: before its oldest event, and before the cursor.
		const oldest = store.at(0);
		const before = oldest && (!q.before || compareKeys(oldest, q.before) < 0) ? oldest : q.before;
		for await (const e of reader.scan({
			reverse: true,
			limit: want - out.length,
			before: before && {receivedAt: before.receivedAt, seq: before.seq},
			since: q.since,
			until: q.until,
			filter: q.filter.all ? undefined : q.filter,
			tokens: q.tokens,
			errorsOnly: q.errorsOnly,
		})) {
			if (test(e)) {
				take(e);
				if (full) {
					break;
				}
			}
		}
	}

	if (full && out.length <= q.limit) {
		return {events: out, more: true, from: reader ? 'history' : 'memory'};
	}

	const more = out.length > q.limit;
	return {events: more ? out.slice(0, q.limit) : out, more, from: reader ? 'history' : 'memory'};
}

/**
 * The history's events after `after` and before `bound` (both exclusive), oldest first: what a
 * stream that resumes missed, up to where the store takes over.
 */
export async function * historyBetween(context: HttpContext, after: EventKey, bound: EventKey | undefined, filter: Filter, receivedSince: number, signal: AbortSignal): AsyncGenerator<LogEvent> {
	if (!context.reader) {
		return;
	}

	const test = eventTest({filter});
	for await (const e of context.reader.scan({receivedSince, filter: filter.all ? undefined : filter, signal})) {
		if (!test(e)) {
			continue;
		}

		// Past the bound the store has them; what follows in the history is at most the store's worth.
		if (compareKeys(e, after) > 0 && (!bound || compareKeys(e, bound) < 0)) {
			yield e;
		}
	}
}
