import {describe, expect, it} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {compileFilter, emptySpec} from '../../source/core/filter.js';
import {Ring} from '../../source/core/ring.js';
import {Store} from '../../source/core/store.js';

function ev(seq: number, level: LogEvent['level'] = 'INFO'): LogEvent {
	return {seq, time: seq, receivedAt: seq, sourceId: 's', sourceKind: 'stdin', service: 'x', host: '', proc: '', type: '', level, message: `m${seq}`, raw: `m${seq}`};
}

describe('Ring', () => {
	it('holds at most its capacity and overwrites the oldest', () => {
		const r = new Ring<number>(3);
		for (let i = 1; i <= 10; i++) {
			r.push(i);
		}

		expect(r.size).toBe(3);
		expect(r.toArray()).toEqual([8, 9, 10]);
		expect(r.at(0)).toBe(8);
		expect(r.last()).toBe(10);
		expect(r.at(3)).toBeUndefined();
		expect(r.evicted).toBe(7);
	});

	it('drops its oldest on demand, counted as evicted, and push hands back what it overwrote', () => {
		const r = new Ring<number>(3);
		expect(r.push(1)).toBeUndefined();
		r.push(2);
		r.push(3);
		expect(r.push(4)).toBe(1);
		expect(r.dropOldest()).toBe(2);
		expect(r.toArray()).toEqual([3, 4]);
		expect(r.evicted).toBe(2);
		r.push(5);
		r.push(6);
		expect(r.toArray()).toEqual([4, 5, 6]);
		expect([r.dropOldest(), r.dropOldest(), r.dropOldest(), r.dropOldest()]).toEqual([4, 5, 6, undefined]);
		expect(r.size).toBe(0);
	});

	it('refuses a nonsense capacity', () => {
		expect(() => new Ring(0)).toThrow(RangeError);
	});
});

describe('Store', () => {
	it('keeps the newest N and reads the last K that match, oldest first', () => {
		const s = new Store(100);
		const all: LogEvent[] = [];
		for (let i = 1; i <= 250; i++) {
			all.push(ev(i, i % 10 === 0 ? 'ERROR' : 'INFO'));
		}

		s.append(all);
		expect(s.size).toBe(100);
		expect(s.evicted).toBe(150);
		expect(s.tail(3).map(e => e.seq)).toEqual([248, 249, 250]);
		const errors = compileFilter({...emptySpec(), minLevel: 'ERROR'});
		expect(s.tail(3, errors).map(e => e.seq)).toEqual([230, 240, 250]);
		expect(s.tail(3, errors, 240).map(e => e.seq)).toEqual([210, 220, 230]);
		expect(s.tail(1000, errors)).toHaveLength(10); // only what is held
		expect(s.after(245, 10).map(e => e.seq)).toEqual([246, 247, 248, 249, 250]);
		expect(s.countAfter(240, errors)).toBe(1);
		expect(s.get(200)?.seq).toBe(200);
		expect(s.get(100)).toBeUndefined(); // evicted
	});

	it('holds at most its budget of text: long lines push out the oldest, the newest stays however long', () => {
		const s = new Store(1000, 10_000);
		const long = (seq: number, n: number): LogEvent => ({...ev(seq), message: 'x'.repeat(n), raw: 'x'.repeat(n)});
		s.append(Array.from({length: 50}, (_, i) => ev(i + 1))); // 2-3 units each
		s.append([long(51, 4000), long(52, 4000)]);
		expect(s.size).toBe(52);
		s.append([long(53, 4000)]); // 12,000 and more: the oldest go until it fits
		expect(s.tail(1000).map(e => e.seq)).toEqual([52, 53]);
		expect(s.evicted).toBe(51);
		s.append([long(54, 50_000)]);
		expect(s.tail(1000).map(e => e.seq)).toEqual([54]);
		s.append([ev(55)]);
		expect(s.tail(1000).map(e => e.seq)).toEqual([55]);
		// A message apart from its line counts too (a record's message, a redacted line).
		s.append([{...ev(56), message: 'm'.repeat(6000), raw: 'r'.repeat(6000)}]);
		expect(s.tail(1000).map(e => e.seq)).toEqual([56]);
	});

	it('bumps its version only when something was appended', () => {
		const s = new Store(10);
		s.append([]);
		expect(s.version).toBe(0);
		s.append([ev(1)]);
		expect(s.version).toBe(1);
	});
});
