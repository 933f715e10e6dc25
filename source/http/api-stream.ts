import {type LogEvent, eventChars} from '../core/event.js';
import {type Filter} from '../core/filter.js';
import {type HttpContext} from './context.js';
import {type EventKey, compareKeys, parseEventId} from './event-id.js';
import {filterParams} from './params.js';
import {eventTest, historyBetween} from './read-events.js';
import {HttpError, badParameter, jsonText} from './reply.js';
import {type HttpRequest, type Router} from './router.js';
import {SseClient} from './sse-client.js';
import {StreamHub, eventFrame} from './stream-hub.js';

// GET /api/v1/stream?…filter…: Server-Sent Events, one per log event (the `-o json` shape, with
// `id:` its stable id). A client that comes back with Last-Event-ID (or ?lastEventId=) first gets
// what it missed, oldest first: from the history up to where the buffer in memory begins, then from
// the buffer, then live, each event once. The buffer's part and the switch to live happen in one
// step, so nothing published meanwhile is missed or sent twice.

const hubs = new WeakMap<HttpContext, StreamHub>();

function hubOf(context: HttpContext): StreamHub {
	let hub = hubs.get(context);
	if (!hub) {
		const created = new StreamHub(context);
		hub = created;
		hubs.set(context, hub);
		context.onClose(() => {
			created.closeAll();
		});
	}

	return hub;
}

/** Just before `k`: every event before `k` is at or before it. */
function justBefore(k: EventKey): EventKey {
	return {receivedAt: k.receivedAt, seq: k.seq - 1};
}

/**
 * Whether the buffer, whose oldest event is `oldest`, holds everything after `after`. Also so when
 * `after` is the event published right before `oldest` in this run (the seq one less, received
 * since logmon started): its receive time may be earlier, but nothing came between.
 */
function covers(oldest: EventKey, after: EventKey, startedAt: number): boolean {
	return compareKeys(justBefore(oldest), after) <= 0
		|| (after.seq === oldest.seq - 1 && after.receivedAt >= startedAt && after.receivedAt <= oldest.receivedAt);
}

function later(a: EventKey, b: EventKey): EventKey {
	return compareKeys(a, b) >= 0 ? a : b;
}

/** Margin on the history's flush interval for a write under way. */
const settleMs = 1000;
/** What a resume queues at once at most (core/event.ts eventChars); more goes at the socket's pace. */
const maxResumeChars = 8 * 1024 * 1024;

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
	if (ms <= 0 || signal.aborted) {
		return;
	}

	await new Promise<void>(resolve => {
		const timer = setTimeout(done, ms);
		function done(): void {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		}

		signal.addEventListener('abort', done, {once: true});
	});
}

/** The history's matching events after `after`, before `bound`, written at the socket's pace; returns the new `after`. */
async function sendHistory(context: HttpContext, client: SseClient, after: EventKey, bound: EventKey | undefined, filter: Filter, receivedSince: number, signal: AbortSignal): Promise<EventKey> {
	let last = after;
	for await (const e of historyBetween(context, after, bound, filter, receivedSince, signal)) {
		if (!await client.write(eventFrame(e))) {
			break;
		}

		last = later(last, e);
	}

	return last;
}

/**
 * Send what came after `from`, then join the live stream. Events go out in (receivedAt, seq)
 * order and `after` only moves forward, so no event is sent twice.
 */
async function resume(context: HttpContext, hub: StreamHub, client: SseClient, from: EventKey | undefined, filter: Filter, signal: AbortSignal): Promise<void> {
	const test = eventTest({filter});
	const key = JSON.stringify(filter.spec);
	const {store, reader, limits, bus} = context;
	let after = from;
	while (!client.closed) {
		const oldest = store.at(0);
		if (after === undefined || (!oldest && !reader)) {
			client.lastSeq = bus.lastSeq;
			hub.join(client, key, test);
			return;
		}

		// The buffer holds everything after `after` once `after` reaches just before its oldest event.
		if (!oldest || !covers(oldest, after, context.startedAt)) {
			if (reader) {
				// The history's part: after `after`, before the buffer's oldest event. What the writer had
				// not written when the scan began is on disk a flush later: a second pass takes it.
				const began = context.now();
				// eslint-disable-next-line no-await-in-loop
				after = await sendHistory(context, client, after, oldest, filter, after.receivedAt, signal);
				// Only an event of this run that has left the buffer can be still on its way to disk; while
				// none has, what is older than the buffer is all written, and the wait would only hold the
				// client back (2 s and more with nothing sent).
				if (store.evicted > 0) {
					// eslint-disable-next-line no-await-in-loop
					await sleep(began + context.historyFlushMs + settleMs - context.now(), signal);
					// eslint-disable-next-line no-await-in-loop
					after = await sendHistory(context, client, after, oldest, filter, Math.max(after.receivedAt, began - context.historyFlushMs - settleMs * 10), signal);
				}

				if (client.closed) {
					return;
				}

				if (oldest) {
					after = later(after, justBefore(oldest));
				} else if (store.size === 0) {
					// Nothing of this run yet: everything is sent, live from here.
					client.lastSeq = bus.lastSeq;
					hub.join(client, key, test);
					return;
				}

				continue;
			}

			// No history, and the buffer lost what came between: said, not hidden.
			const first = oldest!;
			// eslint-disable-next-line no-await-in-loop
			if (!await client.write(`event: loss\ndata: ${jsonText({lost: null, message: `events after ${after.receivedAt}-${after.seq} up to ${first.receivedAt}-${first.seq} are no longer held (the history is off)`})}\n\n`)) {
				return;
			}

			after = justBefore(first);
		}

		// The buffer holds everything after `after`.
		const pending: LogEvent[] = [];
		let chars = 0;
		for (let i = store.size - 1; i >= 0; i--) {
			const e = store.at(i)!;
			if (compareKeys(e, after) <= 0) {
				break;
			}

			if (test(e)) {
				pending.push(e);
				chars += eventChars(e);
			}
		}

		// Queued at once only while small: framed as JSON, the buffer's 128 Mi characters of long
		// lines would be several hundred MB for each client that resumes.
		if (pending.length <= limits.streamQueue && chars <= maxResumeChars) {
			// In one step: the rest, then live.
			client.push(pending.reverse().map(e => eventFrame(e)));
			client.lastSeq = store.newest()?.seq ?? bus.lastSeq;
			hub.join(client, key, test);
			return;
		}

		// Too many to queue at once: the oldest part at the socket's pace, then look again.
		for (const e of pending.slice(-limits.streamQueue).reverse()) {
			// eslint-disable-next-line no-await-in-loop
			if (!await client.write(eventFrame(e))) {
				return;
			}

			after = e;
		}
	}
}

async function stream(request: HttpRequest, context: HttpContext): Promise<undefined> {
	const {counters, limits} = context;
	const hub = hubOf(context);
	if (counters.streamClients >= limits.maxStreamClients) {
		counters.streamRefused++;
		throw new HttpError(503, `stream: ${limits.maxStreamClients} clients are connected already, the most this logmon serves; try again later`, undefined, {'Retry-After': '10'});
	}

	const {filter} = filterParams(request.query);
	const header = request.raw.headers['last-event-id'];
	const lastText = (Array.isArray(header) ? header[0] : header) ?? request.query.get('lastEventId') ?? undefined;
	const from = lastText === undefined || lastText === '' ? undefined : parseEventId(lastText);
	if (lastText !== undefined && lastText !== '' && !from) {
		throw badParameter(request.raw.headers['last-event-id'] === undefined ? 'lastEventId' : 'Last-Event-ID', `expected an event id such as 1733040000000-42, got ${JSON.stringify(lastText)}`);
	}

	const {res} = request;
	res.writeHead(200, {
		...request.replyHeaders,
		'Content-Type': 'text/event-stream; charset=utf-8',
		'Cache-Control': 'no-store',
		Connection: 'keep-alive',
		// Proxies (nginx) pass it on at once instead of buffering.
		'X-Accel-Buffering': 'no',
	});
	if (request.method === 'HEAD') {
		// The headers a GET would get, and no stream: a HEAD holds no client slot.
		res.end();
		return undefined;
	}

	res.socket?.setNoDelay(true);
	res.write('retry: 2000\n\n');
	counters.streamClients++;
	// Counted out once: when it is dropped (its socket closes a moment later) or when it closes.
	let counted = true;
	const countOut = (): void => {
		if (counted) {
			counted = false;
			counters.streamClients--;
		}
	};

	const abort = new AbortController();
	const peer = request.raw.socket.remoteAddress ?? 'unknown';
	const client = new SseClient(res, {
		capacity: limits.streamQueue,
		stuckMs: limits.streamStuckMs,
		now: context.now,
		onLoss(n) {
			counters.streamLost += n;
		},
		onStuck() {
			counters.streamDropped++;
			countOut();
			context.say('warn', `stream client ${peer} disconnected: it read nothing for ${limits.streamStuckMs / 1000} s (${client.lost} events lost)`);
		},
	});
	res.once('close', () => {
		countOut();
		abort.abort();
		client.close();
		hub.leave(client);
	});
	try {
		await resume(context, hub, client, from, filter, abort.signal);
	} catch (error) {
		if (!client.closed) {
			context.say('warn', `stream: the history could not be read for a resume: ${error instanceof Error ? error.message : String(error)}`);
			client.close();
		}
	}

	return undefined;
}

export function registerStream(router: Router): void {
	router.get('/api/v1/stream', stream);
}
