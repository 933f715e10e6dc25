// Sliding windows for alert rules: a ring of time buckets with running sums, so
// adding an event and reading a window's count are constant work, whatever the
// rate. A window of W ms is `buckets` buckets of W/buckets ms (at least 250 ms):
// its edges are exact to one bucket. With `spans: 2` the ring also holds the
// window before the current one (for spike rules).
//
// Bucket numbers (time / bucketMs) pass 2^31, where V8's `%` becomes a floating-point
// call: the newest bucket's slot is kept instead, and others are found from it by
// small differences. This runs for every rule of every run of matching events.

/** Buckets per window: fine enough for edges, small enough for thousands of groups. */
export const bucketsPerWindow = 60;
const minBucketMs = 250;

export class BucketRing {
	readonly bucketMs: number;
	/** Buckets in one window. */
	readonly perWindow: number;
	private readonly size: number;
	private readonly counts: Uint32Array;
	/** Absolute index (time / bucketMs) of the newest bucket; -Infinity before the first. */
	private head = Number.NEGATIVE_INFINITY;
	/** Where the newest bucket is in `counts`. */
	private headSlot = 0;
	/** Sum of the newest `perWindow` buckets. */
	private recent = 0;
	/** Sum of every bucket held. */
	private total = 0;

	constructor(windowMs: number, spans: 1 | 2 = 1) {
		this.perWindow = Math.max(1, Math.min(bucketsPerWindow, Math.floor(windowMs / minBucketMs)));
		this.bucketMs = windowMs / this.perWindow;
		this.size = this.perWindow * spans;
		this.counts = new Uint32Array(this.size);
	}

	/** The slot of the bucket `back` buckets before the newest (0 <= back < size). */
	private slotBack(back: number): number {
		const s = this.headSlot - back;
		return s < 0 ? s + this.size : s;
	}

	/** Move the newest bucket to `b`, emptying what leaves the ring and shifting the current window. */
	private advance(b: number): void {
		if (b <= this.head) {
			return;
		}

		const {counts, size, perWindow} = this;
		if (this.head === Number.NEGATIVE_INFINITY || b - this.head >= size) {
			counts.fill(0);
			this.recent = 0;
			this.total = 0;
			this.head = b;
			this.headSlot = 0;
			return;
		}

		for (let steps = b - this.head; steps > 0; steps--) {
			const s = this.headSlot + 1 === size ? 0 : this.headSlot + 1;
			if (size > perWindow) {
				// The bucket that leaves the current window stays in the previous one.
				this.recent -= counts[this.slotBack(perWindow - 1)]!;
			} else {
				this.recent -= counts[s]!;
			}

			this.total -= counts[s]!;
			counts[s] = 0;
			this.headSlot = s;
		}

		this.head = b;
	}

	add(time: number, n = 1): void {
		const b = Math.floor(time / this.bucketMs);
		this.advance(b);
		const back = this.head - b;
		if (back >= this.size) {
			return; // older than anything held
		}

		this.counts[this.slotBack(back)]! += n;
		this.total += n;
		if (back < this.perWindow) {
			this.recent += n;
		}
	}

	/** Events in the window ending at `now` (the bucket holding `now` included). */
	current(now: number): number {
		this.advance(Math.floor(now / this.bucketMs));
		return this.recent;
	}

	/** Events in the window before the current one (spans: 2 only). */
	previous(now: number): number {
		this.advance(Math.floor(now / this.bucketMs));
		return this.total - this.recent;
	}
}
