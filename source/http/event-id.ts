import {type LogEvent} from '../core/event.js';
import {toJson} from '../sinks/format.js';

// An event's stable id, `<receivedAt ms>-<seq>`: the SSE `id:` and the events cursor. The bus's seq
// starts again at 1 when logmon restarts, so the receive time goes first: ids order events as the
// history does, (receivedAt, seq), across restarts too. Pure: no I/O.

export type EventKey = Pick<LogEvent, 'receivedAt' | 'seq'>;

export function eventId(e: EventKey): string {
	return `${e.receivedAt}-${e.seq}`;
}

/** Undefined when the text is not an id. */
export function parseEventId(text: string | undefined | null): EventKey | undefined {
	const m = /^(\d{1,15})-(\d{1,15})$/.exec(text?.trim() ?? '');
	return m ? {receivedAt: Number(m[1]), seq: Number(m[2])} : undefined;
}

/** Negative when `a` came before `b`. */
export function compareKeys(a: EventKey, b: EventKey): number {
	return a.receivedAt - b.receivedAt || a.seq - b.seq;
}

/** The `-o json` shape of an event, with its id: what /events and the stream send. */
export function eventJson(e: LogEvent): string {
	const json = toJson(e);
	return `{"id":"${eventId(e)}",${json.slice(1)}`;
}
