import {describe, expect, test} from 'vitest';
import {SlabMap, SlabPool} from '../../source/history/slabs.js';

// The shared memory of the writer and its encoder worker: slabs made once, told about once,
// used again, and let go past a bound on both sides.

describe('slabs', () => {
	test('made once, told once, used again; past the bound let go and forgotten on the other side', () => {
		const pool = new SlabPool(128 * 1024);
		const other = new SlabMap();
		const a = pool.take(1000);
		const b = pool.take(100 * 1024);
		expect(a.buffer.byteLength).toBe(64 * 1024);
		expect(b.buffer.byteLength).toBe(128 * 1024);
		other.learn(pool.news());
		expect(other.get(a.id)).toBe(a);
		expect(pool.news()).toEqual({slabs: [], forget: []});

		pool.give(a);
		pool.give(a); // twice: once is what counts
		expect(pool.take(10)).toBe(a);
		pool.give(a);
		// Free memory would pass the bound: b is let go, and the other side told so.
		pool.give(b);
		const news = pool.news();
		expect(news).toEqual({slabs: [], forget: [b.id]});
		other.learn(news);
		expect(() => other.get(b.id)).toThrow(/no slab/);
		// A bigger need than any free slab: a new one.
		const c = pool.take(200 * 1024);
		expect(c.buffer.byteLength).toBe(256 * 1024);
		expect(pool.news().slabs).toEqual([c]);
	});
});
