import {describe, expect, test} from 'vitest';
import {TermMemory} from '../../source/core/alert-terms.js';

// A newTerm rule's memory: (group, term) pairs, the least recently seen forgotten first.

describe('TermMemory', () => {
	test('known or not; a sighting makes a pair the most recent; past max the least recent goes', () => {
		const m = new TermMemory(3);
		expect(m.see('web', 'a')).toBe(false);
		expect(m.see('api', 'a')).toBe(false); // another group: another pair
		expect(m.see('web', 'b')).toBe(false);
		expect(m.see('web', 'a')).toBe(true);
		expect(m.isLast('web', 'a')).toBe(true);
		expect(m.see('web', 'c')).toBe(false); // api/a, the least recently seen, goes
		expect(m.size).toBe(3);
		expect(m.evicted).toBe(1);
		expect(m.see('web', 'b')).toBe(true);
		expect(m.see('api', 'a')).toBe(false); // new again; web/a goes
		expect(m.see('web', 'c')).toBe(true);
		expect(m.see('web', 'a')).toBe(false);
		expect(m.evicted).toBe(3);
	});

	test('a memory of one: each new pair replaces the last', () => {
		const m = new TermMemory(1);
		expect(m.see('', 'a')).toBe(false);
		expect(m.see('', 'a')).toBe(true);
		expect(m.see('', 'b')).toBe(false);
		expect(m.see('', 'a')).toBe(false);
		expect(m.isLast('', 'a')).toBe(true);
		expect(m.size).toBe(1);
	});
});
