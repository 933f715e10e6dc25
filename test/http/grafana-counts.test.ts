import {describe, expect, it} from 'vitest';
import {type Level, type LogEvent} from '../../source/core/event.js';
import {LiveCounts, coarseMs, fineKeepMs, fineMs, keepMs, keyCombo, keyLevel, keyStatusClass} from '../../source/http/grafana-counts.js';
import {planBuckets, readQuery, statusClass} from '../../source/http/grafana-model.js';
import {SeriesSet, targetSeries} from '../../source/http/grafana-series.js';

// The pure parts of the Grafana endpoints: buckets, status classes, counts that span buckets,
// and the live counts as time moves on.

const minute = 60_000;
const hour = 3_600_000;

function event(time: number, over: Partial<LogEvent> = {}): LogEvent {
	return {seq: 1, time, receivedAt: time, sourceId: 'src', sourceKind: 'stdin', service: 'web', host: 'h', proc: '', type: '', level: 'INFO' as Level, message: 'm', raw: 'm', ...over};
}

describe('planBuckets', () => {
	it('takes intervalMs, aligned to its multiples, one bucket per step of the range', () => {
		const from = Date.UTC(2025, 0, 1, 10, 0, 30);
		const b = planBuckets(from, from + hour, minute, 1000);
		expect(b).toEqual({start: Date.UTC(2025, 0, 1, 10), stepMs: minute, count: 61});
	});

	it('never under 10 s, and widened to a round step past maxDataPoints', () => {
		expect(planBuckets(0, hour, 1000, 10_000).stepMs).toBe(10_000);
		const threeDays = planBuckets(0, 3 * 86_400_000, minute, 1000);
		expect(threeDays.stepMs).toBe(5 * minute);
		expect(threeDays.count).toBeLessThanOrEqual(1000);
		expect(planBuckets(0, 3 * 86_400_000, minute, 5000)).toMatchObject({stepMs: minute, count: 4321});
		// No maxDataPoints: 1000; a huge one is held to 20,000.
		expect(planBuckets(0, 365 * 86_400_000, undefined, 10 ** 9).count).toBeLessThanOrEqual(20_000);
	});
});

describe('statusClass', () => {
	it('reads the status field, a request line, or status=NNN', () => {
		expect(statusClass({status: 404, message: ''})).toBe(4);
		expect(statusClass({message: '10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326'})).toBe(2);
		expect(statusClass({message: 'upstream status=503 after 2s'})).toBe(5);
		expect(statusClass({message: '{"status_code": 301}'})).toBe(3);
		expect(statusClass({message: 'took 404 ms'})).toBe(0);
		expect(statusClass({status: 999, message: ''})).toBe(0);
	});
});

describe('SeriesSet', () => {
	it('adds a count whole to its bucket, and shares a spread count out in whole numbers that add up', () => {
		const set = new SeriesSet({start: 0, stepMs: minute, count: 10});
		set.add('a', 30_000, 10_000, 3);
		expect([...set.get('a')!].slice(0, 2)).toEqual([3, 0]);
		// 10 events over 3 minutes: 3, 3, 4 in some order, 10 in all.
		set.spread('b', [[minute, 3 * minute, 10]]);
		const b = [...set.get('b')!];
		expect(b.reduce((x, y) => x + y, 0)).toBe(10);
		expect(b.every(v => Number.isInteger(v))).toBe(true);
		expect(b.slice(1, 4).sort()).toEqual([3, 3, 4]);
		// Only the part before clipTo, and nothing outside the buckets.
		set.spread('c', [[9 * minute, 2 * minute, 4]]);
		expect([...set.get('c')!][9]).toBe(2);
		set.spread('d', [[0, 4 * minute, 8]], 2 * minute);
		expect([...set.get('d')!].reduce((x, y) => x + y, 0)).toBe(4);
	});

	it('keeps 50 series: the 49 largest, and the rest summed as (other)', () => {
		const set = new SeriesSet({start: 0, stepMs: minute, count: 1});
		for (let i = 0; i < 60; i++) {
			set.add(`s${i}`, 0, minute, i + 1);
		}

		const top = set.top();
		expect(top).toHaveLength(50);
		expect(top[0]![0]).toBe('s59');
		// The 49 largest and the 11 smallest (1 + 2 + … + 11) together.
		expect(top.at(-1)).toEqual(['(other)', Float64Array.from([66])]);
	});
});

describe('LiveCounts', () => {
	it('counts per 10 s by event time, per (service, host, source, type) × level × status class', () => {
		const t = Date.UTC(2025, 0, 1, 12);
		const live = new LiveCounts(t);
		live.add([event(t + 1000), event(t + 2000, {level: 'ERROR', status: 502}), event(t + 15_000, {service: 'db'}), event(t, {marker: 'gap'})], t + 20_000);
		const seen: Array<[string, string, number, number, number, number]> = [];
		live.visit(t, t + minute, (key, n, start, width) => {
			seen.push([live.combo(keyCombo(key)).service, keyLevel(key), keyStatusClass(key), n, start - t, width]);
		});
		expect(seen.sort()).toEqual([
			['db', 'INFO', 0, 1, 10_000, fineMs],
			['web', 'ERROR', 5, 1, 0, fineMs],
			['web', 'INFO', 0, 1, 0, fineMs],
		]);
		expect(live.counted).toBe(3);
	});

	it('past 6 hours a slot becomes a minute; past 3 days it goes, and older events are counted aside', () => {
		const t = Date.UTC(2025, 0, 1, 12);
		const live = new LiveCounts(t);
		live.add([event(t + 5000), event(t + 25_000)], t + 30_000);
		live.prune(t + fineKeepMs + 2 * minute);
		const slots: number[] = [];
		live.visit(t, t + minute, (_k, n, _s, width) => {
			slots.push(width, n);
		});
		expect(slots).toEqual([coarseMs, 2]);
		expect(live.keptFrom).toBe(t + fineKeepMs + 2 * minute - keepMs);
		live.prune(t + keepMs + 2 * minute);
		let left = 0;
		live.visit(t - hour, t + hour, () => {
			left++;
		});
		expect(left).toBe(0);
		live.add([event(t)], t + keepMs + 3 * minute);
		expect(live.outOfWindow).toBe(1);
	});

	it('a target over a range the live counts hold needs no history', () => {
		const t = Date.UTC(2025, 0, 1, 12);
		const live = new LiveCounts(t - hour);
		live.add([event(t, {level: 'ERROR'}), event(t + minute, {level: 'CRITICAL'}), event(t + minute)], t + 2 * minute);
		const plan = readQuery({range: {from: new Date(t).toISOString(), to: new Date(t + 5 * minute).toISOString()}, intervalMs: minute, targets: [{target: 'error_count', refId: 'A'}]});
		const [series] = targetSeries({target: plan.targets[0]!, buckets: plan.buckets, live, history: undefined, now: t + 2 * minute});
		expect(series!.datapoints.slice(0, 3)).toEqual([[1, t], [1, t + minute], [0, t + 2 * minute]]);
		expect(series!.meta).toBeUndefined();
		// Before the run began, and no history: the answer says where its counts start.
		const early = readQuery({range: {from: new Date(t - 2 * hour).toISOString(), to: new Date(t).toISOString()}, intervalMs: minute, targets: [{target: 'error_count', refId: 'A'}]});
		const [before] = targetSeries({target: early.targets[0]!, buckets: early.buckets, live, history: undefined, now: t + 2 * minute});
		expect(before!.meta!.notices[0]!.text).toMatch(/^The history is off: counts start when this logmon started/);
	});
});
