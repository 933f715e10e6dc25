import {describe, expect, it} from 'vitest';
import {Bus} from '../../source/core/bus.js';
import {type EventInit} from '../../source/core/event.js';
import {compileFilter, emptySpec} from '../../source/core/filter.js';
import {describeState} from '../../source/core/health.js';

function events(n: number, sourceId = 'a', level: EventInit['level'] = 'INFO'): EventInit[] {
	return Array.from({length: n}, (_, i) => ({time: i, receivedAt: i, sourceId, sourceKind: 'stdin', service: 's', host: '', proc: '', type: '', level, message: `m${i}`, raw: `m${i}`}));
}

describe('Bus', () => {
	it('numbers events across sources in one increasing sequence', () => {
		const bus = new Bus();
		const seen: number[] = [];
		bus.subscribe(batch => seen.push(...batch.map(e => e.seq)));
		const a = bus.addSource('a', 'stdin');
		const b = bus.addSource('b', 'kafka');
		a.publish(events(2, 'a'));
		b.publish(events(2, 'b'));
		a.publish(events(1, 'a'));
		expect(seen).toEqual([1, 2, 3, 4, 5]);
		expect(a.health.events).toBe(3);
		expect(b.health.events).toBe(2);
	});

	it('a full queue drops from sources that cannot pause, counted per source and per consumer', () => {
		const bus = new Bus();
		const q = bus.queue('slow', {capacity: 100});
		const net = bus.addSource('net', 'logio-listen');
		net.publish(events(250, 'net'));
		expect(q.length).toBe(100);
		expect(q.dropped).toBe(150);
		expect(q.droppedBySource.get('net')).toBe(150);
		expect(net.health.drops).toBe(150);
		expect(q.take(10).map(e => e.message)).toEqual(Array.from({length: 10}, (_, i) => `m${i}`));
	});

	it('asks pausable sources to pause at the high-water mark and resumes them once drained', () => {
		const bus = new Bus();
		const calls: string[] = [];
		const q = bus.queue('slow', {capacity: 100});
		const kafka = bus.addSource('kafka', 'kafka', {pause: () => calls.push('pause'), resume: () => calls.push('resume')});
		kafka.publish(events(60, 'kafka'));
		expect(calls).toEqual(['pause']);
		expect(kafka.health.paused).toBe(true);
		kafka.publish(events(100, 'kafka')); // in flight when paused: kept, not dropped
		expect(q.dropped).toBe(0);
		q.take(100);
		expect(calls).toEqual(['pause']);
		q.take(100);
		expect(calls).toEqual(['pause', 'resume']);
		expect(kafka.health.paused).toBe(false);
	});

	it('a queue holds at most its budget of text, however few the events: long lines are dropped, or pause the source', () => {
		const bus = new Bus();
		const q = bus.queue('slow', {capacity: 100, maxChars: 10_000});
		const long = (n: number, sourceId: string): EventInit[] => events(n, sourceId).map((e, i) => ({...e, message: `${i} ${'x'.repeat(1000)}`, raw: `${i} ${'x'.repeat(1000)}`}));
		const net = bus.addSource('net', 'logio-listen');
		net.publish(long(25, 'net'));
		expect(q.length).toBe(9);
		expect(q.dropped).toBe(16);
		expect(net.health.drops).toBe(16);
		q.take();
		// Into an empty queue one event always goes, whatever its size.
		net.publish([{...events(1, 'net')[0]!, message: 'y'.repeat(50_000), raw: 'y'.repeat(50_000)}]);
		expect(q.length).toBe(1);
		q.take();

		const calls: string[] = [];
		const kafka = bus.addSource('kafka', 'kafka', {pause: () => calls.push('pause'), resume: () => calls.push('resume')});
		kafka.publish(long(6, 'kafka')); // past half the budget: paused
		expect(calls).toEqual(['pause']);
		kafka.publish(long(30, 'kafka')); // in flight: kept up to four times the budget
		expect(q.length).toBe(36);
		expect(q.dropped).toBe(16);
		q.take(30);
		expect(calls).toEqual(['pause']);
		q.take(4); // 2 left: under a quarter of the budget
		expect(calls).toEqual(['pause', 'resume']);
	});

	it('cuts names past 256 characters, never between the halves of a surrogate pair', () => {
		const bus = new Bus();
		const seen: EventInit[] = [];
		bus.subscribe(batch => seen.push(...batch));
		const source = bus.addSource('a', 'stdin');
		const [e] = events(1, 'a');
		source.publish([{...e!, service: 's'.repeat(1 << 20), host: `${'h'.repeat(254)}\u{1F600}tail`, proc: 'p'.repeat(256), type: 'web'}]);
		expect(seen[0]!.service).toBe(`${'s'.repeat(255)}…`);
		expect(seen[0]!.host).toBe(`${'h'.repeat(254)}…`);
		expect(seen[0]!.proc).toBe('p'.repeat(256));
		expect(seen[0]!.type).toBe('web');
	});

	it('a queue holds only what its filter lets through', () => {
		const bus = new Bus();
		const q = bus.queue('errors', {capacity: 10, filter: compileFilter({...emptySpec(), minLevel: 'ERROR'})});
		const s = bus.addSource('s', 'stdin');
		s.publish(events(50, 's', 'INFO'));
		s.publish(events(3, 's', 'ERROR'));
		expect(q.length).toBe(3);
		expect(q.dropped).toBe(0);
	});

	it('keeps per-source health: state, counters, gap markers', () => {
		const bus = new Bus();
		const seen: string[] = [];
		bus.subscribe(batch => seen.push(...batch.map(e => e.marker ?? e.message)));
		const changes: string[] = [];
		bus.onHealth(h => changes.push(h.state));
		const s = bus.addSource('ws', 'logstream');
		s.setState('live');
		s.addBytes(10);
		s.parseError('not JSON');
		s.reconnected();
		s.setState('retrying', 'connection refused', 4000);
		expect(describeState(s.health)).toMatch(/^retrying in [34] s \(connection refused\)$/);
		s.gap(Date.now() - 5000);
		expect(seen).toEqual(['gap']);
		expect(s.health).toMatchObject({bytes: 10, parseErrors: 1, lastParseError: 'not JSON', reconnects: 1, events: 0});
		s.setState('failed', 'bad secret');
		expect(describeState(s.health)).toBe('failed: bad secret');
		expect(changes).toEqual(['live', 'retrying', 'failed']);
		expect(() => bus.addSource('ws', 'logstream')).toThrow(/two sources are named "ws"/);
	});
});
