import {describe, expect, test} from 'vitest';
import {Histogram, sparkline} from '../../source/core/histogram.js';
import {ServiceStats} from '../../source/core/stats.js';
import {gapEvent} from '../../source/core/event.js';
import {event} from '../support/events.js';

const t0 = 1_700_000_000_000;

describe('Histogram', () => {
	test('counts per bucket and forgets what left the window', () => {
		const h = new Histogram(3, 1000);
		h.add(t0);
		h.add(t0 + 1000, 2);
		expect(h.series(t0 + 1000)).toEqual([0, 1, 2]);
		h.add(t0 + 5000);
		expect(h.series(t0 + 5000)).toEqual([0, 0, 1]);
		h.add(t0); // too old now
		expect(h.series(t0 + 5000)).toEqual([0, 0, 1]);
		expect(h.series(t0 + 7000)).toEqual([1, 0, 0]);
	});

	test('sum over a span', () => {
		const h = new Histogram(10, 1000);
		for (let i = 0; i < 10; i++) {
			h.add(t0 + i * 1000, i);
		}

		expect(h.sum(t0 + 9000, 3000)).toBe(7 + 8 + 9);
	});

	test('sparkline scales to the largest bucket and resamples to a width', () => {
		expect(sparkline([0, 1, 8])).toBe(' ▁█');
		expect(sparkline([1, 1, 1, 1, 0, 8], 3)).toHaveLength(3);
		expect(sparkline([1, 1, 1, 1, 0, 8], 3).at(-1)).toBe('█');
	});
});

describe('ServiceStats', () => {
	test('per service: totals, errors, levels, last seen, rate', () => {
		const stats = new ServiceStats();
		const events = [];
		for (let i = 0; i < 50; i++) {
			events.push(event({service: 'api', receivedAt: t0 + i * 100, level: i % 10 === 0 ? 'ERROR' : 'INFO'}));
		}

		events.push(event({service: 'db', receivedAt: t0 + 4900, level: 'WARN', type: 'mysql-slow', host: 'db-1'}));
		stats.add(events);
		const rows = stats.rows({now: t0 + 5000, sort: 'rate'});
		expect(rows.map(r => r.stat.service)).toEqual(['api', 'db']);
		const api = rows[0]!;
		expect(api.stat.total).toBe(50);
		expect(api.stat.errors).toBe(5);
		expect(api.errorShare).toBeCloseTo(0.1);
		expect(api.stat.levels.ERROR).toBe(5);
		expect(api.stat.levels.INFO).toBe(45);
		expect(api.stat.lastSeen).toBe(t0 + 4900);
		expect(api.rate).toBeCloseTo(10, 0);
		expect(stats.seenTypes()).toEqual(['mysql-slow']);
		expect(stats.seenHosts()).toEqual(['db-1', 'web-1']);
		expect(stats.total).toBe(51);
	});

	test('sortable by errors and by name; service x host rows', () => {
		const stats = new ServiceStats();
		stats.add([
			event({service: 'b', host: 'h1', level: 'ERROR'}),
			event({service: 'b', host: 'h2', level: 'ERROR'}),
			event({service: 'a', host: 'h1'}),
			event({service: 'a', host: 'h1'}),
			event({service: 'a', host: 'h1'}),
			event({service: 'c', host: 'h1', status: 502}),
		]);
		expect(stats.rows({sort: 'errors'}).map(r => r.stat.service)).toEqual(['b', 'c', 'a']);
		expect(stats.rows({sort: 'name'}).map(r => r.stat.service)).toEqual(['a', 'b', 'c']);
		const byHost = stats.rows({sort: 'name', byHost: true});
		expect(byHost.map(r => `${r.stat.service}@${r.stat.host}`)).toEqual(['a@h1', 'b@h1', 'b@h2', 'c@h1']);
	});

	test('the rate decays when events stop', () => {
		const stats = new ServiceStats();
		stats.add([event({receivedAt: t0}), event({receivedAt: t0 + 10})]);
		expect(stats.overallRate(t0 + 500)).toBeGreaterThan(0);
		expect(stats.overallRate(t0 + 60_000)).toBe(0);
	});

	test('gap markers are not counted', () => {
		const stats = new ServiceStats();
		stats.add([gapEvent('s', 'stdin', 0, 1)]);
		expect(stats.total).toBe(0);
		expect(stats.rows()).toEqual([]);
	});

	test('bounded: least recently seen rows are evicted', () => {
		const stats = new ServiceStats({maxKeys: 2});
		stats.add([event({service: 'a'})]);
		stats.add([event({service: 'b'})]);
		stats.add([event({service: 'a'})]);
		stats.add([event({service: 'c'})]);
		expect(stats.rows({sort: 'name'}).map(r => r.stat.service)).toEqual(['a', 'c']);
	});
});
