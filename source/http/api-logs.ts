import {type HttpContext} from './context.js';
import {parseEventId} from './event-id.js';
import {eventsReply} from './json-events.js';
import {eventParams} from './params.js';
import {newestEvents} from './read-events.js';
import {badParameter} from './reply.js';
import {type HttpRequest, type Router} from './router.js';

// GET /api/v1/logs/errors[/<service>]: recent ERROR and CRITICAL events, newest first.
// GET /api/v1/logs/events: any events, newest first, a page at a time: `next` is the cursor of the
// page after (older events); it names an event, so events arriving meanwhile never shift a page.

async function errors(request: HttpRequest, context: HttpContext, service?: string) {
	const p = eventParams(request.query, context.limits, context.now(), {service});
	const r = await newestEvents(context, {...p, errorsOnly: true});
	return eventsReply({from: r.from, count: r.events.length, limit: p.limit, clamped: p.clamped, more: r.more}, r.events);
}

export function registerLogs(router: Router): void {
	router.get('/api/v1/logs/errors', async (request, context) => errors(request, context));
	router.get('/api/v1/logs/errors/:service', async (request, context) => errors(request, context, request.params['service']));
	router.get('/api/v1/logs/events', async (request, context) => {
		const p = eventParams(request.query, context.limits, context.now());
		const text = request.query.get('cursor');
		const before = text === null || text === '' ? undefined : parseEventId(text);
		if (text !== null && text !== '' && !before) {
			throw badParameter('cursor', `expected the "next" of a previous answer (e.g. 1733040000000-42), got ${JSON.stringify(text)}`);
		}

		const r = await newestEvents(context, {...p, before});
		const last = r.events.at(-1);
		return eventsReply({from: r.from, count: r.events.length, limit: p.limit, clamped: p.clamped, next: r.more && last ? `${last.receivedAt}-${last.seq}` : null}, r.events);
	});
}
