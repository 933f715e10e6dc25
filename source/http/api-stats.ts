import {type Level, levelRank} from '../core/event.js';
import {type HttpContext} from './context.js';
import {filterParams, timeParam} from './params.js';
import {eventTest} from './read-events.js';
import {badParameter} from './reply.js';
import {type HttpRequest, type Router} from './router.js';
import {StatsTable} from './stats-table.js';
import {statsRates} from './stats-rates.js';

// GET /api/v1/logs/stats: totals, per service, per level, the error rate, events/s now and over
// windows. GET /api/v1/logs/services: every service seen, with counts and last-seen time.
//
// Without since/until and with a filter the counts can answer (service, level), the history's
// counts at start plus the live ones since: no read per request. With since/until, the history's
// per-segment counts; with host, type, source or q, a scan (at most limits.maxScan events).
// With the history off, the memory: the live counts since start, or a scan of the buffer.

type Table = {table: StatsTable; from: 'history' | 'memory'; partial: boolean; since: number | undefined; until: number | undefined; rates: () => ReturnType<typeof statsRates>};

async function statsTable(request: HttpRequest, context: HttpContext): Promise<Table> {
	const now = context.now();
	const since = timeParam(request.query, 'since', now);
	const until = timeParam(request.query, 'until', now);
	if (since !== undefined && until !== undefined && since > until) {
		throw badParameter('until', 'is before since: nothing can match');
	}

	const {spec, filter, tokens} = filterParams(request.query);
	const rates = () => statsRates(context, spec, filter, context.now());
	const countable = spec.grep.length === 0 && spec.exclude.length === 0 && spec.hosts.length === 0 && spec.types.length === 0 && spec.sources.length === 0;
	const min = spec.minLevel === undefined ? -1 : levelRank[spec.minLevel];
	const services = new Set(spec.services);
	const keep = (service: string, level: Level): boolean => levelRank[level] >= min && (services.size === 0 || services.has(service));
	const table = new StatsTable();
	const {reader, limits} = context;
	const from = reader ? 'history' : 'memory';
	if (since === undefined && until === undefined && countable) {
		table.addCounts(context.baseline.counts, keep, context.baseline.lastSeen);
		table.addLive(context.aggregates.stats, keep, now);
		return {table, from, partial: false, since, until, rates};
	}

	if (reader && countable) {
		const {counts} = await reader.counts(since, until);
		// A window that reaches now holds each service's newest event: its last-seen time is the
		// service's own (this run's, else the history's); a window ending earlier leaves it null.
		table.addCounts(counts, keep, until === undefined ? lastSeenNow(context) : undefined);
		return {table, from, partial: false, since, until, rates};
	}

	let scanned = 0;
	let partial = false;
	const test = eventTest({filter, since, until});
	const oldest = context.store.at(0);
	if (reader) {
		// The history up to where the buffer begins, then the buffer (which holds what is not written yet).
		const abort = new AbortController();
		for await (const e of reader.scan({since, until, filter: filter.all ? undefined : filter, tokens, before: oldest && {receivedAt: oldest.receivedAt, seq: oldest.seq}, signal: abort.signal})) {
			if (e.marker) {
				continue;
			}

			if (++scanned > limits.maxScan) {
				partial = true;
				abort.abort();
				break;
			}

			table.addEvent(e);
		}
	}

	context.store.forEach(e => {
		if (!e.marker && test(e)) {
			table.addEvent(e);
		}
	});
	// Without the history, a buffer that lost older events does not hold a window reaching before its oldest.
	partial ||= !reader && context.store.evicted > 0 && (since === undefined || (oldest !== undefined && oldest.time > since));
	return {table, from, partial, since, until, rates};
}

function iso(ms: number | undefined): string | null {
	return ms === undefined ? null : new Date(ms).toISOString();
}

function lastSeenNow(context: HttpContext): Map<string, number> {
	const seen = new Map(context.baseline.lastSeen);
	for (const {stat} of context.aggregates.stats.rows({sort: 'name'})) {
		seen.set(stat.service, Math.max(seen.get(stat.service) ?? 0, stat.lastSeen));
	}

	return seen;
}

export function registerStats(router: Router): void {
	router.get('/api/v1/logs/stats', async (request, context) => {
		const {table, from, partial, since, until, rates} = await statsTable(request, context);
		const totals = table.totals();
		const rate = rates();

		return {json: {
			from,
			since: iso(since),
			until: iso(until),
			...(partial ? {partial: true} : {}),
			...(context.baseline.failed ? {historyError: context.baseline.failed} : {}),
			total: totals.total,
			errors: totals.errors,
			errorRate: totals.total > 0 ? totals.errors / totals.total : 0,
			levels: totals.levels,
			services: table.services(),
			// Rates are of the events the filter passes over windows ending now (since/until do not apply).
			eventsPerSecond: rate.events,
			errorsPerSecond: rate.errors,
			...(rate.from === 'buffer' ? {ratesFrom: 'buffer'} : {}),
		}};
	});
	router.get('/api/v1/logs/services', async (request, context) => {
		const {table, from, partial} = await statsTable(request, context);
		return {json: {from, ...(partial ? {partial: true} : {}), services: table.services()}};
	});
}
