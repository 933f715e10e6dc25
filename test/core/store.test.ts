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

	it('bumps its version only when something was appended', () => {
		const s = new Store(10);
		s.append([]);
		expect(s.version).toBe(0);
		s.append([ev(1)]);
		expect(s.version).toBe(1);
	});
});
