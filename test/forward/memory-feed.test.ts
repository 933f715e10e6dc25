import {describe, expect, it} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {MemoryFeed} from '../../source/sinks/forward/feed.js';

// A forwarder's queue in memory without a spool (sinks/forward/feed.ts): bounded in events and in
// text. The delivery loop around it, against real destinations, is in the other tests here.

function ev(seq: number, length: number): LogEvent {
	const text = `${seq} `.padEnd(length, 'x');
	return {seq, time: seq, receivedAt: seq, sourceId: 's', sourceKind: 'stdin', service: 'x', host: '', proc: '', type: '', level: 'INFO', message: text, raw: text};
}

describe('MemoryFeed', () => {
	it('drops past its count or its text, whichever comes first, and counts what it dropped', () => {
		const feed = new MemoryFeed(5, 10_000);
		feed.push([1, 2, 3, 4, 5, 6].map(i => ev(i, 10)));
		expect(feed.counters()).toMatchObject({queued: 5, dropped: 1});
		feed.take(5);
		feed.push([7, 8, 9, 10].map(i => ev(i, 3000))); // 12,000 units: the fourth does not fit
		expect(feed.counters()).toMatchObject({queued: 3, dropped: 2});
		expect(feed.take(10).map(item => item.event.seq)).toEqual([7, 8, 9]);
		// Into an empty feed one event goes, however long; taking it makes room again.
		feed.push([ev(11, 50_000), ev(12, 10)]);
		expect(feed.take(10).map(item => item.event.seq)).toEqual([11]);
		feed.push([ev(13, 9000)]);
		expect(feed.take(10).map(item => item.event.seq)).toEqual([13]);
		expect(feed.counters().dropped).toBe(3);
	});
});
