import {type LogEvent} from '../core/event.js';
import {type Reply, jsonText} from './reply.js';
import {eventJson} from './event-id.js';

// A JSON answer that holds events: its other fields first, then `"events": [...]`, each event in
// the `-o json` shape with its id, written once (not parsed back and written again).

export function eventsReply(head: Record<string, unknown>, events: readonly LogEvent[]): Reply {
	const start = jsonText(head).slice(0, -1);
	const body = `${start}${start.length > 1 ? ',' : ''}"events":[${events.map(e => eventJson(e)).join(',')}]}`;
	return {body, type: 'application/json; charset=utf-8'};
}
