import {type LogEvent} from '../core/event.js';
import {errorLevels} from '../history/types.js';
import {type HttpContext} from './context.js';
import {filterParams, timeParam} from './params.js';
import {eventTest} from './read-events.js';
import {badParameter} from './reply.js';
import {type Router} from './router.js';
import {countable, seriesFromCounts} from './series-counts.js';

// GET /api/v1/logs/series?since=15m&until=…&points=60&…filter…: events and errors (ERROR and
// CRITICAL, as the stats count them) per step over a window of event time: the dashboard's chart
// of events/s and errors/s. The buffer in memory answers for what it holds, the history for what
// came before it; at most limits.maxScan events are read from the history, newest first (the answer
// then says `partial`, and `countedFrom` the receive time the steps are whole back to). What counts
// can answer (no q, steps of 10 s or more) comes from the counts instead, with no event read
// (series-counts.ts; the answer says `"counted": true`).

const defaultWindowMs = 15 * 60_000;
const defaultPoints = 60;
const maxPoints = 1000;

export type Series = {start: number; stepMs: number; events: number[]; errors: number[]};

function pointsParam(query: URLSearchParams): number {
	const text = query.get('points');
	if (text === null || text === '') {
		return defaultPoints;
	}

	if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > maxPoints) {
		throw badParameter('points', `expected a whole number from 1 to ${maxPoints}, got ${JSON.stringify(text)}`);
	}

	return Number(text);
}

/** Empty steps of `stepMs` (at least a second, on step boundaries) covering since…until. */
export function emptySeries(since: number, until: number, points: number): Series {
	const stepMs = Math.max(1000, Math.ceil((until - since) / points / 1000) * 1000);
	const start = Math.floor(since / stepMs) * stepMs;
	const n = Math.max(1, Math.ceil((until + 1 - start) / stepMs));
	return {start, stepMs, events: new Array<number>(n).fill(0), errors: new Array<number>(n).fill(0)};
}

export function addToSeries(series: Series, e: LogEvent): void {
	const i = Math.floor((e.time - series.start) / series.stepMs);
	if (i >= 0 && i < series.events.length) {
		series.events[i]!++;
		if (errorLevels.has(e.level)) {
			series.errors[i]!++;
		}
	}
}

export function registerSeries(router: Router): void {
	router.get('/api/v1/logs/series', async (request, context: HttpContext) => {
		const {query} = request;
		const now = context.now();
		const since = timeParam(query, 'since', now) ?? now - defaultWindowMs;
		const until = timeParam(query, 'until', now) ?? now;
		if (since >= until) {
			throw badParameter('until', `${query.get('until') ?? 'now'} is not after since ${query.get('since') ?? ''}: the window is empty`);
		}

		const points = pointsParam(query);
		const {spec, filter, tokens} = filterParams(query);
		const series = emptySeries(since, until, points);
		if (countable(spec, series.stepMs, context.reader !== undefined)) {
			const counted = await seriesFromCounts(context, spec, series.start, series.stepMs, series.events.length);
			return {json: {
				from: context.reader ? 'history' : 'memory',
				counted: true,
				since: new Date(series.start).toISOString(),
				until: new Date(until).toISOString(),
				stepMs: series.stepMs,
				events: counted.events,
				errors: counted.errors,
			}};
		}

		const test = eventTest({filter, since, until});
		const {store, reader, limits} = context;
		let scanned = 0;
		let partial = false;
		/** With `partial`: the event time back to which the steps are counted. */
		let countedFrom: number | undefined;
		store.forEach(e => {
			if (!e.marker && test(e)) {
				addToSeries(series, e);
			}
		});
		const oldest = store.at(0);
		if (reader) {
			// What came before the buffer's oldest event: the history has it. Newest first, so a scan
			// cut short at its limit leaves the recent steps whole and only the oldest ones short.
			const abort = new AbortController();
			for await (const e of reader.scan({since, until, filter: filter.all ? undefined : filter, tokens, before: oldest && {receivedAt: oldest.receivedAt, seq: oldest.seq}, reverse: true, signal: abort.signal})) {
				if (++scanned > limits.maxScan) {
					partial = true;
					countedFrom = e.receivedAt;
					abort.abort();
					break;
				}

				if (!e.marker && test(e)) {
					addToSeries(series, e);
				}
			}
		} else {
			// The buffer lost older events: a window reaching before its oldest is not all there.
			partial = store.evicted > 0 && oldest !== undefined && oldest.time > since;
		}

		return {json: {
			from: reader ? 'history' : 'memory',
			...(partial ? {partial: true} : {}),
			...(countedFrom === undefined ? {} : {countedFrom: new Date(countedFrom).toISOString()}),
			since: new Date(series.start).toISOString(),
			until: new Date(until).toISOString(),
			stepMs: series.stepMs,
			events: series.events,
			errors: series.errors,
		}};
	});
}
