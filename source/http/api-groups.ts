import {type ErrorGroup, ErrorGroups, type ErrorSort} from '../core/errors.js';
import {inBatches} from '../core/event-batches.js';
import {type HttpContext} from './context.js';
import {eventJson} from './event-id.js';
import {eventParams} from './params.js';
import {eventTest} from './read-events.js';
import {badParameter, jsonText} from './reply.js';
import {type HttpRequest, type Router} from './router.js';

// GET /api/v1/logs/groups: the error list's fingerprint groups (an error's message with its varying
// parts masked), with counts, first and last seen, the services, a per-bucket count for a
// sparkline and the latest event as a sample. Without since/until or a filter: the live groups
// since logmon started (the UI's error list); otherwise built from the history's errors (or the
// buffer's, with the history off), at most limits.maxScan of them.

const sorts: ErrorSort[] = ['recent', 'count'];

function groupJson(g: ErrorGroup, bucketMs: number, now: number): string {
	const head = jsonText({
		fingerprint: g.fingerprint,
		count: g.count,
		level: g.level,
		firstSeen: new Date(g.firstSeen).toISOString(),
		lastSeen: new Date(g.lastSeen).toISOString(),
		services: [...g.services],
		moreServices: g.moreServices,
		buckets: {bucketMs, counts: g.histogram.series(now)},
	});
	return `${head.slice(0, -1)},"sample":${eventJson(g.latest)}}`;
}

async function buildGroups(request: HttpRequest, context: HttpContext): Promise<{groups: ErrorGroups; from: 'history' | 'memory'; partial: boolean; window: string}> {
	const p = eventParams(request.query, context.limits, context.now());
	const {reader, limits} = context;
	if (p.since === undefined && p.until === undefined && p.filter.all) {
		return {groups: context.aggregates.errors, from: 'memory', partial: false, window: 'since start'};
	}

	const now = context.now();
	const span = Math.max(60_000, (p.until ?? now) - (p.since ?? context.startedAt));
	const groups = new ErrorGroups({maxGroups: 1000, buckets: 60, bucketMs: Math.ceil(span / 60)});
	const test = eventTest({...p, errorsOnly: true});
	let scanned = 0;
	let partial = false;
	// The history up to where the buffer begins, then the buffer (which holds what is not written yet).
	const oldest = context.store.at(0);
	if (reader) {
		const abort = new AbortController();
		const errors = reader.scan({errorsOnly: true, since: p.since, until: p.until, filter: p.filter.all ? undefined : p.filter, tokens: p.tokens, before: oldest && {receivedAt: oldest.receivedAt, seq: oldest.seq}, signal: abort.signal});
		for await (const batch of inBatches(errors)) {
			const room = limits.maxScan - scanned;
			scanned += batch.length;
			groups.add(room < batch.length ? batch.slice(0, room) : batch);
			if (scanned > limits.maxScan) {
				partial = true;
				abort.abort();
				break;
			}
		}
	}

	context.store.forEach(e => {
		if (test(e) && ++scanned <= limits.maxScan) {
			groups.add([e]);
		}
	});
	return reader
		? {groups, from: 'history', partial: partial || scanned > limits.maxScan, window: 'since'}
		: {groups, from: 'memory', partial: context.store.evicted > 0 || scanned > limits.maxScan, window: 'since'};
}

export function registerGroups(router: Router): void {
	router.get('/api/v1/logs/groups', async (request, context) => {
		const sort = (request.query.get('sort') ?? 'recent') as ErrorSort;
		if (!sorts.includes(sort)) {
			throw badParameter('sort', `expected one of ${sorts.join(', ')}, got ${JSON.stringify(sort)}`);
		}

		const p = eventParams(request.query, context.limits, context.now());
		const {groups, from, partial, window} = await buildGroups(request, context);
		const now = context.now();
		const list = groups.list(sort, p.limit);
		const head = jsonText({
			from,
			window: window === 'since start' ? 'since start' : {since: p.since === undefined ? null : new Date(p.since).toISOString(), until: p.until === undefined ? null : new Date(p.until).toISOString()},
			...(partial ? {partial: true} : {}),
			total: groups.total,
			groupCount: groups.size,
			evicted: groups.evicted,
			limit: p.limit,
			clamped: p.clamped,
		});
		return {body: `${head.slice(0, -1)},"groups":[${list.map(g => groupJson(g, groups.bucketMs, now)).join(',')}]}`, type: 'application/json; charset=utf-8'};
	});
}
