import {levelRank} from '../core/event.js';
import {type FilterSpec} from '../core/filter.js';
import {type HttpContext} from './context.js';
import {fineMs} from './grafana-counts.js';
import {grafanaState} from './grafana-live.js';
import {type DimensionTest, type TargetRequest, targetInfo} from './grafana-model.js';
import {targetSeries} from './grafana-series.js';

// The dashboard chart's events and errors per step from counts, not events: this run's live counts
// (10 s slots by event time) and, before them, the history's per-segment counts, as the Grafana
// event_count and error_count targets. Only for what counts can answer: no q, steps of 10 s or
// more (a slot across two steps is shared between them in whole numbers), and with the history on,
// a filter of service and level at most (the sidecars count nothing else). Otherwise the caller
// scans events.

export type CountedSeries = {events: number[]; errors: number[]};

function dimensionTest(spec: FilterSpec): DimensionTest {
	const min = spec.minLevel === undefined ? -1 : levelRank[spec.minLevel];
	const lists = {service: spec.services, host: spec.hosts, source: spec.sources, type: spec.types};
	const sets = Object.entries(lists).filter(([, v]) => v.length > 0).map(([k, v]) => [k, new Set(v)] as const);
	const keys = new Set<DimensionTest['keys'] extends ReadonlySet<infer K> ? K : never>(sets.map(([k]) => k as 'service'));
	if (min >= 0) {
		keys.add('level');
	}

	return {
		test: d => levelRank[d.level] >= min && sets.every(([k, v]) => v.has(d[k as 'service'])),
		keys,
		all: keys.size === 0,
	};
}

export function countable(spec: FilterSpec, stepMs: number, historyOn: boolean): boolean {
	const sidecarsKnow = spec.hosts.length === 0 && spec.sources.length === 0 && spec.types.length === 0;
	return spec.grep.length === 0 && spec.exclude.length === 0 && stepMs >= fineMs && (sidecarsKnow || !historyOn);
}

export async function seriesFromCounts(context: HttpContext, spec: FilterSpec, start: number, stepMs: number, count: number): Promise<CountedSeries> {
	const state = grafanaState(context);
	const test = dimensionTest(spec);
	const buckets = {start, stepMs, count};
	const answer = async (name: 'event_count' | 'error_count'): Promise<number[]> => {
		const target: TargetRequest = {refId: 'A', payloadAt: 'payload', info: targetInfo(name)!, asTable: false, payload: {conditions: []}, test};
		const history = state.sidecars ? await state.sidecars.view(name === 'error_count' ? 'errors' : 'all', state.live.since) : undefined;
		const [series] = targetSeries({target, buckets, live: state.live, history, now: context.now()});
		return series ? series.datapoints.map(([n]) => n ?? 0) : Array.from({length: count}, () => 0);
	};

	return {events: await answer('event_count'), errors: await answer('error_count')};
}
