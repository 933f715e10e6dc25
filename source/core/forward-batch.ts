// Where a forwarder cuts its batches. Items are held per partition (a CloudWatch stream, say);
// a partition's open batch is cut when the next item would pass `maxEvents` or `maxBytes`,
// and goes out once full or `delayMs` after its first item. One batch per partition is in
// flight at a time (the caller says which are busy), so each partition keeps its order. Each
// item may carry a weight of text (core/event.ts eventChars): what the cutter holds in all is
// kept, for the caller to bound. Pure: the caller owns the clock and the timers.

export type CutLimits = {maxEvents: number; maxBytes: number; delayMs: number};

export type Batch<T> = {
	key: string;
	items: T[];
	/** Sum of the items' measured bytes. */
	bytes: number;
	/** Sum of the items' text, as given to `add`. */
	chars: number;
};

type Partition<T> = {
	/** Cut and waiting for the partition's turn. */
	full: Array<Batch<T>>;
	open: Batch<T> | undefined;
	/** When the open batch got its first item. */
	openedAt: number;
};

export class BatchCutter<T> {
	/** Items held, in open and cut batches. */
	size = 0;
	/** Their text, as given to `add`. */
	chars = 0;
	private readonly partitions = new Map<string, Partition<T>>();

	constructor(private readonly limits: CutLimits) {}

	add(item: T, bytes: number, key: string, now: number, chars = 0): void {
		let p = this.partitions.get(key);
		if (!p) {
			p = {full: [], open: undefined, openedAt: now};
			this.partitions.set(key, p);
		}

		const open = p.open;
		if (open && (open.items.length + 1 > this.limits.maxEvents || open.bytes + bytes > this.limits.maxBytes)) {
			p.full.push(open);
			p.open = undefined;
		}

		if (!p.open) {
			p.open = {key, items: [], bytes: 0, chars: 0};
			p.openedAt = now;
		}

		p.open.items.push(item);
		p.open.bytes += bytes;
		p.open.chars += chars;
		this.size++;
		this.chars += chars;
		if (p.open.items.length >= this.limits.maxEvents || p.open.bytes >= this.limits.maxBytes) {
			p.full.push(p.open);
			p.open = undefined;
		}
	}

	/**
	 * The next batch to send among partitions not `busy`: a cut one, or an open one that is due
	 * (or any open one when `flush`, at exit). Undefined when none is ready.
	 */
	next(busy: ReadonlySet<string>, now: number, flush = false): Batch<T> | undefined {
		for (const [key, p] of this.partitions) {
			if (busy.has(key)) {
				continue;
			}

			let batch = p.full.shift();
			if (!batch && p.open && (flush || now - p.openedAt >= this.limits.delayMs)) {
				batch = p.open;
				p.open = undefined;
			}

			if (batch) {
				this.size -= batch.items.length;
				this.chars -= batch.chars;
				if (this.size === 0) {
					this.chars = 0; // nothing can drift past an empty cutter
				}

				if (p.full.length === 0 && !p.open) {
					this.partitions.delete(key);
				}

				return batch;
			}
		}

		return undefined;
	}

	/** When the earliest open batch becomes due, or undefined when none is open. */
	nextDue(busy: ReadonlySet<string>): number | undefined {
		let due: number | undefined;
		for (const [key, p] of this.partitions) {
			if (p.open && !busy.has(key)) {
				const at = p.openedAt + this.limits.delayMs;
				due = due === undefined ? at : Math.min(due, at);
			}
		}

		return due;
	}

	/** Partitions holding items. */
	get partitionCount(): number {
		return this.partitions.size;
	}
}
