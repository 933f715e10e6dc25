import {type Level, levelRank} from '../core/event.js';
import {type Buckets, type DimensionTest, type TargetRequest, className, maxSeries} from './grafana-model.js';
import {type LiveCounts, dimensionsOf, keyCombo, keyLevel, keyStatusClass} from './grafana-counts.js';

// Time series from counts, never from events. Pure: the caller hands in this run's live counts
// and the history's per-segment counts (its sidecars), and gets the series of one target.
//
// How fine the buckets can be, and where each count comes from (by event time):
// - This run (events received since logmon started): its live counts, per 10 s for the last
//   6 hours and per minute up to 3 days back (grafana-counts.ts), so a bucket of 10 s is exact
//   there, and a bucket that is a multiple of a slot is exact everywhere in the run.
// - Before this run, and older than the live counts keep: the sealed segments' sidecars. Errors
//   come from the errors stream, whose sidecars count them per minute: error_count is exact to
//   the minute; the per-service and per-level split of a segment's errors follows that per-minute
//   shape. Other counts exist per segment only (per service × level): they are spread evenly over
//   the segment's receive span (a segment holds at most an hour; at high rates it rolls at
//   64 MiB, every few seconds to minutes). A bucket finer than the data gets its share pro rata.
// - Nothing is rescanned: a segment cut by the range's edge gives the share that falls inside it
//   (its exact minutes for errors, pro rata for the rest); the active segment and the segments
//   sealed during this run are covered by the live counts, which the bus feeds as events come.
//   A segment from before the start that is still being sealed counts once its sidecar is written.
// - HTTP status classes and the host, source and type of events are not in the sidecars: those
//   series and filters cover this run only, and the answer carries a notice saying so.
// - A history that another logmon writes (read-only here) counts up to this run's start; its
//   segments sealed since are that logmon's events, not this one's, and are left out.

/** One sealed segment's counts, from its sidecar (history/types.ts SegmentIndex). */
export type SegmentCounts = {
	base: string;
	minReceived: number;
	maxReceived: number;
	/** Events per service × level. */
	counts: Array<{service: string; level: Level; n: number}>;
	/** ERROR and CRITICAL per minute start (by event time), oldest first. */
	errorsPerMinute: Array<[number, number]>;
};

export type HistoryCountsView = {
	/** Sealed segments of the stream the target reads (errors/ for error targets, all/ otherwise). */
	segments: readonly SegmentCounts[];
	/** Segments received before this run began (their events are not in the live counts). */
	received(segment: SegmentCounts): 'before' | 'during';
};

export type Series = {target: string; refId: string; datapoints: Array<[number | null, number]>; meta?: {notices: Array<{severity: 'info' | 'warning'; text: string}>}};


/** Sums per series name over the buckets; a count that spans several buckets is shared pro rata. */
export class SeriesSet {
	private readonly sums = new Map<string, Float64Array>();
	private readonly end: number;

	constructor(readonly buckets: Buckets) {
		this.end = buckets.start + (buckets.count * buckets.stepMs);
	}

	/** `n` events in [start, start + width): added whole when that lies in one bucket, else spread (below). */
	add(name: string, start: number, width: number, n: number): void {
		const {start: b0, stepMs} = this.buckets;
		const b = Math.floor((start - b0) / stepMs);
		if (start >= b0 && start + width <= this.end && b === Math.floor((start + width - 1 - b0) / stepMs)) {
			this.series(name)[b]! += n;
			return;
		}

		this.spread(name, [[start, width, n]]);
	}

	/**
	 * Counts each spread evenly over its span ([start, width, n]), only the part before `clipTo`,
	 * shared out in whole numbers: the buckets get the nearest whole number of the part that falls
	 * in them together, each its share rounded down and the rest one by one to the largest remainders.
	 */
	spread(name: string, parts: Iterable<[number, number, number]>, clipTo = Number.POSITIVE_INFINITY): void {
		const {start: b0, stepMs} = this.buckets;
		const shares = new Map<number, number>();
		let total = 0;
		let sums: Float64Array | undefined;
		for (const [start, width, n] of parts) {
			// A whole count within one bucket (a minute of errors in a bucket of minutes) is added as it is.
			const b = Math.floor((start - b0) / stepMs);
			if (Number.isInteger(n) && start >= b0 && start + width <= Math.min(clipTo, this.end) && b === Math.floor((start + width - 1 - b0) / stepMs)) {
				sums ??= this.series(name);
				sums[b]! += n;
				continue;
			}

			let lo = Math.max(start, b0);
			const hi = Math.min(start + width, clipTo, this.end);
			let i = Math.floor((lo - b0) / stepMs);
			while (lo < hi) {
				const to = Math.min(hi, b0 + ((i + 1) * stepMs));
				const share = n * (to - lo) / width;
				shares.set(i, (shares.get(i) ?? 0) + share);
				total += share;
				lo = to;
				i++;
			}
		}

		if (shares.size === 0) {
			return;
		}

		sums ??= this.series(name);
		const rest: Array<[number, number]> = [];
		let given = 0;
		for (const [b, share] of shares) {
			const whole = Math.floor(share + 1e-9);
			sums[b]! += whole;
			given += whole;
			rest.push([b, share - whole]);
		}

		rest.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
		for (let i = 0, left = Math.round(total) - given; i < rest.length && left > 0; i++, left--) {
			sums[rest[i]![0]]! += 1;
		}
	}

	series(name: string): Float64Array {
		let s = this.sums.get(name);
		if (!s) {
			s = new Float64Array(this.buckets.count);
			this.sums.set(name, s);
		}

		return s;
	}

	names(): string[] {
		return [...this.sums.keys()];
	}

	get(name: string): Float64Array | undefined {
		return this.sums.get(name);
	}

	/** The largest `max` series by total (then by name), the rest summed as "(other)". */
	top(max = maxSeries): Array<[string, Float64Array]> {
		const all = [...this.sums].map(([name, v]) => ({name, v, total: v.reduce((a, b) => a + b, 0)}));
		all.sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
		if (all.length <= max) {
			return all.map(s => [s.name, s.v]);
		}

		const other = new Float64Array(this.buckets.count);
		for (const s of all.slice(max - 1)) {
			for (let i = 0; i < other.length; i++) {
				other[i]! += s.v[i]!;
			}
		}

		return [...all.slice(0, max - 1).map(s => [s.name, s.v] as [string, Float64Array]), ['(other)', other]];
	}
}

const errorRank = levelRank.ERROR;

function serviceName(s: string): string {
	return s === '' ? '(none)' : s;
}

/** The series one count belongs to, for a target; undefined when it does not count. */
type Namer = (service: string, level: Level, statusClass: number) => string | undefined;

function namer(target: string): Namer {
	switch (target) {
		case 'error_count': {
			return (_s, l) => (levelRank[l] >= errorRank ? 'error_count' : undefined);
		}

		case 'error_by_service': {
			return (s, l) => (levelRank[l] >= errorRank ? serviceName(s) : undefined);
		}

		case 'error_by_level': {
			return (_s, l) => (levelRank[l] >= errorRank ? l : undefined);
		}

		case 'status_by_code': {
			return (_s, _l, c) => (c > 0 ? className(c) : undefined);
		}

		case 'event_count': {
			return () => 'event_count';
		}

		default: {
			// Per service: event_rate_by_service, and the events of error_rate_by_service.
			return s => serviceName(s);
		}
	}
}

export type SeriesInput = {
	target: TargetRequest;
	buckets: Buckets;
	live: LiveCounts;
	history: HistoryCountsView | undefined;
	now: number;
};

/** The series of one series target, with notices about what the counts could not cover. */
export function targetSeries(input: SeriesInput): Series[] {
	const {target, buckets} = input;
	const name = target.info.name;
	const notices: string[] = [];
	let values: Array<[string, Array<number | null>]>;
	if (name === 'error_rate_by_service') {
		const events = new SeriesSet(buckets);
		const errors = new SeriesSet(buckets);
		const byService = namer('event_rate_by_service');
		fill(input, events, byService, notices, false);
		fill(input, errors, (s, l, c) => (levelRank[l] >= errorRank ? byService(s, l, c) : undefined), notices, false);
		values = events.top().map(([service, total]) => {
			const e = errors.get(service);
			return [service, [...total].map((n, i) => (n > 0 ? round((e?.[i] ?? 0) / n) : null))];
		});
	} else {
		const set = new SeriesSet(buckets);
		fill(input, set, namer(name), notices, target.info.errorsOnly === true);
		const perSecond = name === 'event_rate_by_service' ? 1000 / buckets.stepMs : 1;
		values = set.top().map(([n, v]) => [n, [...v].map(x => round(x * perSecond))]);
		if (values.length === 0 && !target.info.by) {
			values = [[name, Array.from({length: buckets.count}, () => 0)]];
		}
	}

	const meta = notices.length > 0 ? {notices: [...new Set(notices)].map(text => ({severity: 'info' as const, text}))} : undefined;
	return values.map(([series, v]) => ({
		target: series,
		refId: target.refId,
		datapoints: v.map((x, i) => [x, buckets.start + (i * buckets.stepMs)] as [number | null, number]),
		...(meta ? {meta} : {}),
	}));
}

/** Rates and ratios to six decimals; counts are whole numbers already. */
function round(x: number): number {
	return Math.round(x * 1e6) / 1e6;
}

/**
 * Add a target's counts: the live counts of this run, then the sidecars' share (segments of
 * earlier runs for any time, segments of this run for the times the live counts no longer keep).
 */
function fill(input: SeriesInput, set: SeriesSet, name: Namer, notices: string[], errorsOnly: boolean): void {
	const {live, history, target, buckets} = input;
	const {test} = target;
	const from = buckets.start;
	const to = buckets.start + (buckets.count * buckets.stepMs);
	const passes = memoTest(live, test);
	live.visit(from, to, (key, n, start, width) => {
		const combo = keyCombo(key);
		const level = keyLevel(key);
		if (!passes(combo, level)) {
			return;
		}

		const c = live.combo(combo);
		const series = name(c.service, level, keyStatusClass(key));
		if (series !== undefined) {
			set.add(series, start, width, n);
		}
	});
	if (!history) {
		if (from < live.since) {
			notices.push(`The history is off: counts start when this logmon started (${new Date(live.since).toISOString()}).`);
		}

		return;
	}

	if (from >= Math.max(live.since, live.keptFrom)) {
		// The whole range lies in this run and its live counts.
		return;
	}

	if (target.info.name === 'status_by_code') {
		notices.push(`HTTP status classes are counted since this logmon started (${new Date(live.since).toISOString()}); the history's indexes do not hold them.`);
		return;
	}

	const sidecarKeys = [...test.keys].filter(k => k !== 'service' && k !== 'level');
	if (sidecarKeys.length > 0) {
		notices.push(`Filters on ${sidecarKeys.join(', ')} apply since this logmon started (${new Date(live.since).toISOString()}): the history's indexes count by service and level only.`);
		return;
	}

	for (const s of history.segments) {
		const clipTo = history.received(s) === 'before' ? Number.POSITIVE_INFINITY : live.keptFrom;
		addSegment(set, s, name, test, errorsOnly, clipTo);
	}
}

function addSegment(set: SeriesSet, s: SegmentCounts, name: Namer, test: DimensionTest, errorsOnly: boolean, clipTo: number): void {
	if (errorsOnly) {
		// The errors' per-minute shape, shared among the series in the segment's proportions.
		let total = 0;
		const share = new Map<string, number>();
		for (const c of s.counts) {
			if (levelRank[c.level] < errorRank) {
				continue;
			}

			total += c.n;
			const series = test.all || test.test({service: c.service, level: c.level, host: '', source: '', type: ''}) ? name(c.service, c.level, 0) : undefined;
			if (series !== undefined) {
				share.set(series, (share.get(series) ?? 0) + c.n);
			}
		}

		if (total === 0 || share.size === 0) {
			return;
		}

		for (const [series, n] of share) {
			const f = n / total;
			set.spread(series, s.errorsPerMinute.map(([minute, count]) => [minute, 60_000, count * f]), clipTo);
		}

		return;
	}

	// Per series, the segment's counts together, spread over its receive span.
	const width = Math.max(1, s.maxReceived - s.minReceived + 1);
	const perSeries = new Map<string, number>();
	for (const c of s.counts) {
		if (!test.all && !test.test({service: c.service, level: c.level, host: '', source: '', type: ''})) {
			continue;
		}

		const series = name(c.service, c.level, 0);
		if (series !== undefined) {
			perSeries.set(series, (perSeries.get(series) ?? 0) + c.n);
		}
	}

	for (const [series, n] of perSeries) {
		set.spread(series, [[s.minReceived, width, n]], clipTo);
	}
}

/** The filter's verdict per (combination, level), worked out once per query. */
function memoTest(live: LiveCounts, test: DimensionTest): (combo: number, level: Level) => boolean {
	if (test.all) {
		return () => true;
	}

	const memo = new Map<number, boolean>();
	return (combo, level) => {
		const k = (combo * 8) + levelRank[level];
		let v = memo.get(k);
		if (v === undefined) {
			v = test.test(dimensionsOf(live.combo(combo), level));
			memo.set(k, v);
		}

		return v;
	};
}
