import {type Level, levelRank} from '../core/event.js';
import {isErrorEvent} from '../core/errors.js';
import {type Filter, type FilterSpec} from '../core/filter.js';
import {type Histogram} from '../core/histogram.js';
import {type HttpContext} from './context.js';
import {fineMs, keyCombo, keyLevel} from './grafana-counts.js';
import {grafanaState} from './grafana-live.js';

// The events/s and errors/s of GET /api/v1/logs/stats: `now` and over the last 1m, 5m, 15m and
// 1h, of the events the filter passes (since/until do not apply: the windows end now).
//   - no filter: every event, by receive time (the aggregates' per-minute counts);
//   - service, level, host, type, source: this run's live counts behind the Grafana series, by
//     event time, 10 s slots (no read);
//   - q: the events of the buffer in memory, by receive time; a window reaching past the buffer's
//     oldest event is counted over the part the buffer holds (`ratesFrom: "buffer"` says so).

export const rateWindows: Array<[string, number]> = [['1m', 60_000], ['5m', 300_000], ['15m', 900_000], ['1h', 3_600_000]];

export type Rates = {
	events: Record<string, number>;
	errors: Record<string, number>;
	from: 'all' | 'counts' | 'buffer';
};

/** Over a window, counted since `from` (the window's start, or later when less was seen). */
function perSecond(n: number, now: number, from: number): number {
	return n / (Math.max(1000, now - from) / 1000);
}

function fromHistograms(events: Histogram, errors: Histogram, now: number, startedAt: number, overall: number): Rates {
	const rates: Rates = {events: {now: overall}, errors: {}, from: 'all'};
	for (const [name, span] of rateWindows) {
		const from = Math.max(now - span, startedAt);
		rates.events[name] = perSecond(events.sum(now, span), now, from);
		rates.errors[name] = perSecond(errors.sum(now, span), now, from);
	}

	return rates;
}

/**
 * Per window (and `now`: the last 10 to 20 s), matching events and errors; `from` is where the
 * window starts (on a 10 s slot with `align`), `since` when counting began (never before `earliest`).
 */
type Tally = {name: string; from: number; since: number; events: number; errors: number};

function tallies(now: number, earliest: number, align: boolean): Tally[] {
	const nowFrom = (Math.floor(now / fineMs) - 1) * fineMs;
	return [['now', now - nowFrom] as [string, number], ...rateWindows].map(([name, span]) => {
		const from = align ? Math.floor((now - span) / fineMs) * fineMs : now - span;
		return {name, from, since: Math.max(from, earliest), events: 0, errors: 0};
	});
}

function toRates(list: readonly Tally[], now: number, from: Rates['from']): Rates {
	const rates: Rates = {events: {}, errors: {}, from};
	for (const t of list) {
		rates.events[t.name] = perSecond(t.events, now, t.since);
		if (t.name !== 'now') {
			rates.errors[t.name] = perSecond(t.errors, now, t.since);
		}
	}

	return rates;
}

function fromCounts(context: HttpContext, spec: FilterSpec, now: number): Rates {
	const {live} = grafanaState(context);
	const min = spec.minLevel === undefined ? -1 : levelRank[spec.minLevel];
	const sets = [spec.services, spec.hosts, spec.sources, spec.types].map(list => (list.length > 0 ? new Set(list) : undefined));
	const [services, hosts, sources, types] = sets;
	const passes = new Map<number, boolean>();
	const list = tallies(now, live.since, true);
	live.visit(list.at(-1)!.from, now + fineMs, (key, n, slotStart) => {
		const id = keyCombo(key);
		let pass = passes.get(id);
		if (pass === undefined) {
			const c = live.combo(id);
			pass = (!services || services.has(c.service)) && (!hosts || hosts.has(c.host)) && (!sources || sources.has(c.source)) && (!types || types.has(c.type));
			passes.set(id, pass);
		}

		const level: Level = keyLevel(key);
		if (!pass || levelRank[level] < min) {
			return;
		}

		const error = level === 'ERROR' || level === 'CRITICAL';
		for (const t of list) {
			if (slotStart >= t.from) {
				t.events += n;
				t.errors += error ? n : 0;
			}
		}
	});
	return toRates(list, now, 'counts');
}

function fromBuffer(context: HttpContext, filter: Filter, now: number): Rates {
	const {store} = context;
	const oldest = store.at(0);
	const earliest = store.evicted > 0 && oldest ? Math.max(oldest.receivedAt, context.startedAt) : context.startedAt;
	const list = tallies(now, earliest, false);
	store.forEach(e => {
		if (e.marker || !filter.test(e)) {
			return;
		}

		const error = isErrorEvent(e);
		for (const t of list) {
			if (e.receivedAt >= t.from) {
				t.events++;
				t.errors += error ? 1 : 0;
			}
		}
	});
	return toRates(list, now, 'buffer');
}

export function statsRates(context: HttpContext, spec: FilterSpec, filter: Filter, now: number): Rates {
	if (filter.all) {
		const {aggregates} = context;
		return fromHistograms(aggregates.eventsPerMinute, aggregates.errorsPerMinute, now, context.startedAt, aggregates.stats.overallRate(now));
	}

	return spec.grep.length === 0 && spec.exclude.length === 0 ? fromCounts(context, spec, now) : fromBuffer(context, filter, now);
}
