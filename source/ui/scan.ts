import {type LogEvent} from '../core/event.js';
import {type Filter} from '../core/filter.js';
import {type Store} from '../core/store.js';

// Work over the held events that may take long (50,000 events of up to 1 MiB
// each through a regex), done in slices with a deadline so keys, signals and
// frames are handled in between:
//   FilteredEvents  the events that pass the tail's filter, found once per filter
//   SearchScan      the next or previous event a search matches
// Both follow events by sequence number: indexes move as the store turns over.

/** Read the clock only every few events, and after each long one. */
function overdue(n: number, e: LogEvent, deadline: number): boolean {
	return ((n & 15) === 0 || e.message.length > 4096) && performance.now() >= deadline;
}

/** The tail's view of the store: rows that pass its filter. */
export type Rows = {
	/** Up to `count` events, oldest first, ending just before `beforeSeq` (or at the newest). */
	tail(count: number, beforeSeq?: number): LogEvent[];
	/** Up to `count` events strictly after `afterSeq`, oldest first. */
	after(afterSeq: number, count: number): LogEvent[];
};

/** No filter: the store as it is. */
export function allRows(store: Store): Rows {
	return {
		tail: (count, beforeSeq) => store.tail(count, undefined, beforeSeq),
		after: (afterSeq, count) => store.after(afterSeq, count),
	};
}

/**
 * The held events that pass `filter`, as sequence numbers. Built backwards
 * from the newest event held when the filter was set (so the newest matches
 * show first), and forwards as events arrive; until the backward scan is done,
 * queries answer from what it has found.
 */
export class FilteredEvents implements Rows {
	/** Matches found going back, newest first. */
	private older: number[] = [];
	/** Matches among the events that arrived since, oldest first. */
	private newer: number[] = [];
	/** The backward scan has tested every held event with seq >= this. */
	private backSeq: number;
	/** The forward scan has tested every event with seq <= this. */
	private frontSeq: number;
	private backDone = false;
	private scanned = 0;
	private readonly startSize: number;

	constructor(private readonly store: Store, readonly filter: Filter) {
		const newest = store.newest()?.seq ?? 0;
		this.backSeq = newest + 1;
		this.frontSeq = newest;
		this.startSize = store.size;
	}

	/** True while some held event has not been tested. */
	get pending(): boolean {
		return !this.backDone || (this.store.newest()?.seq ?? 0) > this.frontSeq;
	}

	/** True once every held event has been tested. */
	get complete(): boolean {
		return !this.pending;
	}

	/** Share of the held events tested, 0 to 1. */
	get progress(): number {
		return this.backDone ? 1 : Math.min(0.99, this.scanned / Math.max(1, this.startSize));
	}

	/** Test events until `deadline` (performance.now() time). Returns true when work is left. New events first. */
	step(deadline: number): boolean {
		const {store, filter} = this;
		let n = 0;
		for (let i = store.indexAfter(this.frontSeq); i < store.size; i++) {
			const e = store.at(i)!;
			if (filter.test(e)) {
				this.newer.push(e.seq);
			}

			this.frontSeq = e.seq;
			if (overdue(++n, e, deadline)) {
				return true;
			}
		}

		if (!this.backDone) {
			let i = store.indexAfter(this.backSeq - 1) - 1;
			for (; i >= 0; i--) {
				const e = store.at(i)!;
				if (filter.test(e)) {
					this.older.push(e.seq);
				}

				this.backSeq = e.seq;
				this.scanned++;
				if (overdue(++n, e, deadline) && i > 0) {
					return true;
				}
			}

			this.backDone = true;
		}

		this.compact();
		return false;
	}

	private get length(): number {
		return this.older.length + this.newer.length;
	}

	/** The k-th match, oldest first. */
	private seqAt(k: number): number {
		const o = this.older.length;
		return k < o ? this.older[o - 1 - k]! : this.newer[k - o]!;
	}

	/** Number of matches with seq <= `seq`. */
	private rank(seq: number): number {
		let lo = 0;
		let hi = this.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (this.seqAt(mid) <= seq) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}

		return lo;
	}

	/** Index of the first match still held. */
	private firstHeld(): number {
		const oldest = this.store.at(0)?.seq;
		return oldest === undefined ? this.length : this.rank(oldest - 1);
	}

	private events(from: number, to: number): LogEvent[] {
		const out: LogEvent[] = [];
		for (let k = from; k < to; k++) {
			const e = this.store.get(this.seqAt(k));
			if (e) {
				out.push(e);
			}
		}

		return out;
	}

	tail(count: number, beforeSeq?: number): LogEvent[] {
		const end = beforeSeq === undefined ? this.length : this.rank(beforeSeq - 1);
		return this.events(Math.max(this.firstHeld(), end - count), end);
	}

	after(afterSeq: number, count: number): LogEvent[] {
		const start = Math.max(this.firstHeld(), this.rank(afterSeq));
		return this.events(start, Math.min(this.length, start + count));
	}

	/** True when the event with this seq passes (only meaningful once complete). */
	has(seq: number): boolean {
		const r = this.rank(seq);
		return r > 0 && this.seqAt(r - 1) === seq;
	}

	/** Forget matches that left the store, once they are many. */
	private compact(): void {
		const dead = this.firstHeld();
		if (dead < 1024 || dead < this.store.capacity) {
			return;
		}

		const all: number[] = [];
		for (let k = dead; k < this.length; k++) {
			all.push(this.seqAt(k));
		}

		this.older = [];
		this.newer = all;
	}
}

export type ScanResult = 'found' | 'none' | 'more';

/** The nearest event before (older) or after (newer) a sequence number that `accept` takes. */
export class SearchScan {
	/** Seq the scan has reached (exclusive bound in its direction). */
	private cursor: number;
	private scanned = 0;
	private readonly total: number;
	found: LogEvent | undefined;

	constructor(private readonly store: Store, private readonly accept: (e: LogEvent) => boolean, from: number, readonly direction: 'older' | 'newer') {
		this.cursor = from;
		const i = store.indexAfter(from - (direction === 'older' ? 1 : 0));
		this.total = direction === 'older' ? i : store.size - i;
	}

	get progress(): number {
		return Math.min(0.99, this.scanned / Math.max(1, this.total));
	}

	step(deadline: number): ScanResult {
		const {store, accept} = this;
		let n = 0;
		if (this.direction === 'older') {
			for (let i = store.indexAfter(this.cursor - 1) - 1; i >= 0; i--) {
				const e = store.at(i)!;
				this.cursor = e.seq;
				this.scanned++;
				if (accept(e)) {
					this.found = e;
					return 'found';
				}

				if (overdue(++n, e, deadline) && i > 0) {
					return 'more';
				}
			}

			return 'none';
		}

		for (let i = store.indexAfter(this.cursor); i < store.size; i++) {
			const e = store.at(i)!;
			this.cursor = e.seq;
			this.scanned++;
			if (accept(e)) {
				this.found = e;
				return 'found';
			}

			if (overdue(++n, e, deadline) && i + 1 < store.size) {
				return 'more';
			}
		}

		return 'none';
	}
}

/** `filter` over the store, with the filtered index when there is one. */
export function passes(filter: Filter, index: FilteredEvents | undefined): (e: LogEvent) => boolean {
	if (filter.all) {
		return () => true;
	}

	return index?.complete ? e => index.has(e.seq) : e => filter.test(e);
}
