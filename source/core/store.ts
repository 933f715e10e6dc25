import {type LogEvent, eventChars} from './event.js';
import {type Filter} from './filter.js';
import {Ring} from './ring.js';

// The store keeps the most recent events for views. Views ask it for only the
// rows they can show: the newest K that match, or K before a given event.

export const defaultBufferSize = 50_000;

/**
 * The text the store holds at most (UTF-16 units, core/event.ts eventChars): 128 Mi, or 1 Ki an
 * event of its capacity if that is more. A count alone bounds nothing when lines are long: the
 * default 50,000 lines of 1 MiB (--max-line) would be 50 GB.
 */
export function storeChars(capacity: number): number {
	return Math.max(128 * 1024 * 1024, capacity * 1024);
}

export class Store {
	private readonly ring: Ring<LogEvent>;
	/** The text held at most (lines and messages, UTF-16 units). */
	readonly maxChars: number;
	private held = 0;
	/** Bumped on every append; views compare it to skip work when nothing changed. */
	version = 0;

	constructor(capacity = defaultBufferSize, maxChars = storeChars(capacity)) {
		this.ring = new Ring<LogEvent>(capacity);
		this.maxChars = maxChars;
	}

	get size(): number {
		return this.ring.size;
	}

	get capacity(): number {
		return this.ring.capacity;
	}

	/** The text held now (lines and messages, UTF-16 units). */
	get chars(): number {
		return this.held;
	}

	/** Events pushed out of the buffer by newer ones. */
	get evicted(): number {
		return this.ring.evicted;
	}

	append(events: readonly LogEvent[]): void {
		for (const e of events) {
			this.held += eventChars(e);
			const old = this.ring.push(e);
			if (old) {
				this.held -= eventChars(old);
			}
		}

		// Past the budget of text, the oldest go too; the newest is kept however long.
		while (this.held > this.maxChars && this.ring.size > 1) {
			this.held -= eventChars(this.ring.dropOldest()!);
		}

		if (events.length > 0) {
			this.version++;
		}
	}

	newest(): LogEvent | undefined {
		return this.ring.last();
	}

	/**
	 * Up to `count` matching events, oldest first, ending just before the event
	 * with sequence `beforeSeq` (or at the newest when omitted). Scans backwards
	 * and stops as soon as it has enough, so a view pays for what it shows.
	 */
	tail(count: number, filter?: Filter, beforeSeq?: number): LogEvent[] {
		const out: LogEvent[] = [];
		const test = filter && !filter.all ? filter.test : undefined;
		const start = beforeSeq === undefined ? this.ring.size - 1 : this.indexAfter(beforeSeq - 1) - 1;
		for (let i = start; i >= 0 && out.length < count; i--) {
			const e = this.ring.at(i)!;
			if (!test || test(e)) {
				out.push(e);
			}
		}

		return out.reverse();
	}

	/** Up to `count` matching events strictly after `afterSeq`, oldest first. */
	after(afterSeq: number, count: number, filter?: Filter): LogEvent[] {
		const start = this.indexAfter(afterSeq);
		const out: LogEvent[] = [];
		const test = filter && !filter.all ? filter.test : undefined;
		for (let i = start; i < this.ring.size && out.length < count; i++) {
			const e = this.ring.at(i)!;
			if (!test || test(e)) {
				out.push(e);
			}
		}

		return out;
	}

	/** The event with this sequence number, if still held. */
	get(seq: number): LogEvent | undefined {
		const i = this.indexAfter(seq - 1);
		const e = this.ring.at(i);
		return e?.seq === seq ? e : undefined;
	}

	/** Count matching events after `afterSeq` (e.g. what arrived while paused). */
	countAfter(afterSeq: number, filter?: Filter): number {
		let n = 0;
		const test = filter && !filter.all ? filter.test : undefined;
		for (let i = this.indexAfter(afterSeq); i < this.ring.size; i++) {
			if (!test || test(this.ring.at(i)!)) {
				n++;
			}
		}

		return n;
	}

	/** Held event by age: 0 is the oldest, size-1 the newest. Indexes move as events come and go; scans hold on to seqs. */
	at(index: number): LogEvent | undefined {
		return this.ring.at(index);
	}

	/** Binary search: index of the first held event with seq > afterSeq. Seqs are increasing. */
	indexAfter(afterSeq: number): number {
		let lo = 0;
		let hi = this.ring.size;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (this.ring.at(mid)!.seq <= afterSeq) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}

		return lo;
	}

	/** Visit every held event, oldest first (for searches). */
	forEach(visit: (event: LogEvent, index: number) => boolean | void): void {
		for (let i = 0; i < this.ring.size; i++) {
			if (visit(this.ring.at(i)!, i) === false) {
				return;
			}
		}
	}
}
