import {describe, expect, test} from 'vitest';
import {compileFilter, emptySpec} from '../../source/core/filter.js';
import {Store} from '../../source/core/store.js';
import {FilteredEvents, SearchScan} from '../../source/ui/scan.js';
import {event} from '../support/events.js';

// The slow work over held events, in slices: it answers like a filter over the
// store would, whatever the slices, and a slice stops at its deadline.

const filter = compileFilter({...emptySpec(), grep: ['keep']});
const seqs = (events: Array<{seq: number}>): number[] => events.map(e => e.seq);

function filled(n: number, capacity = 1000): Store {
	const store = new Store(capacity);
	store.append(Array.from({length: n}, (_, i) => event({message: i % 3 === 0 ? `keep ${i}` : `drop ${i}`})));
	return store;
}

describe('FilteredEvents', () => {
	test('answers as the filter over the store does, built one event per slice, with events arriving meanwhile', () => {
		const store = filled(300);
		const f = new FilteredEvents(store, filter);
		let slices = 0;
		while (f.step(0)) {
			slices++;
			if (slices % 50 === 0) {
				store.append([event({message: `keep late ${slices}`}), event({message: 'drop late'})]);
			}
		}

		expect(slices).toBeGreaterThan(10); // a deadline in the past: a little work per slice
		expect(f.complete).toBe(true);
		expect(seqs(f.tail(20))).toEqual(seqs(store.tail(20, filter)));
		expect(seqs(f.tail(1000))).toEqual(seqs(store.tail(1000, filter)));
		const middle = store.tail(150, filter)[0]!.seq;
		expect(seqs(f.tail(7, middle))).toEqual(seqs(store.tail(7, filter, middle)));
		expect(seqs(f.after(middle, 9))).toEqual(seqs(store.after(middle, 9, filter)));
		expect(f.has(middle)).toBe(true);
		expect(f.has(middle + 1)).toBe(false);
	});

	test('while the scan runs, the newest matches are found first', () => {
		const store = filled(300);
		const f = new FilteredEvents(store, filter);
		f.step(0);
		f.step(0);
		expect(f.complete).toBe(false);
		const found = f.tail(5);
		expect(found.length).toBeGreaterThan(0);
		expect(seqs(found)).toEqual(seqs(store.tail(found.length, filter)));
	});

	test('events that leave the store leave the answers', () => {
		const store = filled(100, 100);
		const f = new FilteredEvents(store, filter);
		while (f.step(Number.POSITIVE_INFINITY)) {
			// Until done.
		}

		store.append(Array.from({length: 60}, (_, i) => event({message: `keep new ${i}`})));
		while (f.step(Number.POSITIVE_INFINITY)) {
			// Until done.
		}

		expect(seqs(f.tail(1000))).toEqual(seqs(store.tail(1000, filter)));
		expect(seqs(f.after(0, 5))).toEqual(seqs(store.after(0, 5, filter)));
	});
});

describe('SearchScan', () => {
	test('finds the nearest older and newer match, across slices', () => {
		const store = filled(500);
		const all = store.tail(500);
		const target = all[100]!;
		target.message = 'the needle';
		const accept = (e: {message: string}): boolean => e.message.includes('needle');
		const older = new SearchScan(store, accept, all[400]!.seq, 'older');
		let steps = 0;
		let result;
		while ((result = older.step(0)) === 'more') {
			steps++;
		}

		expect(result).toBe('found');
		expect(older.found).toBe(target);
		expect(steps).toBeGreaterThan(5);
		const newer = new SearchScan(store, accept, all[10]!.seq, 'newer');
		while ((result = newer.step(0)) === 'more') {
			// Slice by slice.
		}

		expect(newer.found).toBe(target);
		const none = new SearchScan(store, accept, target.seq, 'older');
		expect(none.step(Number.POSITIVE_INFINITY)).toBe('none');
	});
});
