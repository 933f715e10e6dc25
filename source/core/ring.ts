// Fixed-capacity ring buffer: O(1) push, overwrites the oldest when full.

export class Ring<T> {
	readonly capacity: number;
	private readonly items: Array<T | undefined>;
	private head = 0; // next write position
	private count = 0;
	/** How many items were overwritten since creation. */
	evicted = 0;

	constructor(capacity: number) {
		if (!Number.isInteger(capacity) || capacity < 1) {
			throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
		}

		this.capacity = capacity;
		this.items = new Array<T | undefined>(capacity);
	}

	get size(): number {
		return this.count;
	}

	/** Returns the item it overwrote, if the ring was full. */
	push(item: T): T | undefined {
		const old = this.count < this.capacity ? undefined : this.items[this.head];
		this.items[this.head] = item;
		this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
		if (this.count < this.capacity) {
			this.count++;
		} else {
			this.evicted++;
		}

		return old;
	}

	/** Remove and return the oldest item (counted as evicted). */
	dropOldest(): T | undefined {
		if (this.count === 0) {
			return undefined;
		}

		let i = this.head - this.count;
		if (i < 0) {
			i += this.capacity;
		}

		const old = this.items[i];
		this.items[i] = undefined;
		this.count--;
		this.evicted++;
		return old;
	}

	/** Item by age: 0 is the oldest held, size-1 the newest. */
	at(index: number): T | undefined {
		if (index < 0 || index >= this.count) {
			return undefined;
		}

		let i = this.head - this.count + index;
		if (i < 0) {
			i += this.capacity;
		}

		return this.items[i];
	}

	/** The newest item, or undefined. */
	last(): T | undefined {
		return this.at(this.count - 1);
	}

	clear(): void {
		this.items.fill(undefined);
		this.head = 0;
		this.count = 0;
	}

	/** Oldest to newest. For tests and small rings; views use `at`. */
	toArray(): T[] {
		const out: T[] = [];
		for (let i = 0; i < this.count; i++) {
			out.push(this.at(i)!);
		}

		return out;
	}
}
