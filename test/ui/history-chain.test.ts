import {describe, expect, test} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {HistoryChain, loadingText, oldestText, pageEnd, seamText, standinPages} from '../../source/ui/history-chain.js';
import {TailRows} from '../../source/ui/history-rows.js';
import {allRows} from '../../source/ui/scan.js';
import {Store} from '../../source/core/store.js';
import {event} from '../support/events.js';

// The chain of history pages on its own: where rows go, the seam, the rows standing for pages
// not held, and the bound on what is held.

const runStart = 1_000_000;

/** Events received before `runStart`, newest first: `#n` received at runStart - (count - n + 1) s. */
function older(from: number, to: number): LogEvent[] {
	const out: LogEvent[] = [];
	for (let n = to; n >= from; n--) {
		out.push(event({seq: n, receivedAt: runStart - ((1000 - n + 1) * 1000), message: `#${n}`}));
	}

	return out;
}

const messages = (rows: LogEvent[]): string[] => rows.map(r => r.message);

describe('HistoryChain', () => {
	test('pages stack upwards with seqs below zero; the seam tops the first page', () => {
		const chain = new HistoryChain({receivedAt: runStart, seq: 0}, 0, {pageSize: 3, maxRows: 100, runStart});
		chain.addOlder(older(98, 100));
		chain.addOlder(older(95, 97));
		const rows = chain.rows();
		expect(messages(rows)).toEqual(['#95', '#96', '#97', '#98', '#99', '#100', seamText]);
		expect(rows.every(r => r.seq < 0)).toBe(true);
		expect(rows.map(r => r.seq)).toEqual([...rows.map(r => r.seq)].sort((a, b) => a - b));
		expect(chain.original(rows[0]!.seq)).toEqual({receivedAt: rows[0]!.receivedAt, seq: 95});
		expect(chain.top(2)).toEqual({receivedAt: rows[0]!.receivedAt, seq: 95});
	});

	test('a page let go is one loading row, and reads back at the same places', () => {
		const chain = new HistoryChain({receivedAt: runStart, seq: 0}, 0, {pageSize: 3, maxRows: 100, runStart});
		chain.addOlder(older(98, 100));
		chain.addOlder(older(95, 97));
		chain.addOlder(older(92, 94));
		const before = chain.rows().map(r => `${r.seq}:${r.message}`);
		chain.release(0);
		chain.release(1);
		const standin = chain.rows().at(-1)!;
		expect(standin.message).toBe(loadingText);
		expect(standinPages(standin)).toMatchObject({newest: 0, oldest: 1});
		expect(chain.newerStandin()).toBe(standin);
		chain.fill(1, older(94, 97)); // a read from page 1's top gives more than the page: cut at its bottom
		chain.fill(0, older(98, 100));
		expect(chain.rows().map(r => `${r.seq}:${r.message}`)).toEqual(before);
	});

	test('the end of the history shows once its last page is held; a short read ends it', () => {
		const chain = new HistoryChain({receivedAt: runStart, seq: 0}, 0, {pageSize: 3, maxRows: 100, runStart});
		chain.addOlder(older(99, 100)); // fewer than a page
		expect(chain.exhausted).toBe(true);
		expect(messages(chain.rows())[0]).toBe(oldestText);
	});

	test('trim keeps the pages in view and next to them, lets the farthest go first', () => {
		const chain = new HistoryChain({receivedAt: runStart, seq: 0}, 0, {pageSize: 2, maxRows: 6, runStart});
		for (let n = 100; n > 80; n -= 2) {
			chain.addOlder(older(n - 1, n));
		}

		chain.trim(4, 4);
		expect(chain.held()).toEqual([3, 4, 5]);
		expect(chain.heldRows()).toBe(6);
	});

	test('a page ends at so much text; a read cut short by text does not end the history', () => {
		const long = (from: number, to: number) => older(from, to).map(e => ({...e, message: e.message.padEnd(1000, '.'), raw: `raw ${e.message}`.padEnd(1000, '.')}));
		// 2,000 characters each: message and raw are different strings, both counted.
		const chain = new HistoryChain({receivedAt: runStart, seq: 0}, 0, {pageSize: 100, maxRows: 1000, runStart, pageChars: 4000, maxChars: 12_000});
		const events = long(91, 100);
		expect(pageEnd(events, 0, 100, 4000)).toBe(2);
		expect(pageEnd(events, 8, 100, 4000)).toBe(10);
		expect(pageEnd(events, 0, 3, 1e9)).toBe(3);
		chain.addOlder(events.slice(0, 2)); // two events, short of the page size but at its text
		expect(chain.exhausted).toBe(false);
		for (let from = 2; from < 10; from += 2) {
			chain.addOlder(events.slice(from, from + 2));
		}

		expect(chain.exhausted).toBe(false);
		expect(chain.heldChars()).toBe(20_000);
		// Text held is bounded as rows are: the pages farthest from the view go first.
		chain.trim(0, 0);
		expect(chain.held()).toEqual([0, 1, 2]);
		expect(chain.heldChars()).toBe(12_000);
		chain.addOlder([]);
		expect(chain.exhausted).toBe(true);
	});

	test('with the tail: rows from memory below, and the way up waits at pages not held', () => {
		const store = new Store(10);
		store.append([event({seq: 1, receivedAt: runStart + 1, message: 'live'})]);
		const chain = new HistoryChain({receivedAt: runStart, seq: 0}, 0, {pageSize: 3, maxRows: 100, runStart});
		chain.addOlder(older(98, 100));
		chain.addOlder(older(95, 97));
		const rows = new TailRows(allRows(store), chain);
		expect(messages(rows.tail(4))).toEqual(['#99', '#100', seamText, 'live']);
		expect(messages(rows.after(Number.NEGATIVE_INFINITY, 2))).toEqual(['#95', '#96']);
		chain.release(0);
		expect(messages(rows.tail(4))).toEqual([loadingText, 'live']);
		const standin = rows.tail(4)[0]!;
		expect(rows.stalled!(standin.seq)).toBe(true);
		expect(messages(rows.after(chain.rows()[2]!.seq, 5))).toEqual([loadingText]); // no jump into memory
	});
});
