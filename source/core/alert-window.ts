// Sliding windows for alert rules: a ring of time buckets with running sums, so
// adding an event and reading a window's count are constant work, whatever the
// rate. A window of W ms is `buckets` buckets of W/buckets ms (at least 250 ms):
// its edges are exact to one bucket. With `spans: 2` the ring also holds the
// window before the current one (for spike rules).

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

	private slot(b: number): number {
		return ((b % this.size) + this.size) % this.size;
	}

	/** Move the newest bucket to `b`, emptying what leaves the ring and shifting the current window. */
	private advance(b: number): void {
		if (b <= this.head) {
			return;
		}

		if (this.head === Number.NEGATIVE_INFINITY || b - this.head >= this.size) {
			this.counts.fill(0);
			this.recent = 0;
			this.total = 0;
			this.head = b;
			return;
		}

		for (let next = this.head + 1; next <= b; next++) {
			if (this.size > this.perWindow) {
				// The bucket that leaves the current window stays in the previous one.
				this.recent -= this.counts[this.slot(next - this.perWindow)]!;
			}

			const s = this.slot(next);
			this.total -= this.counts[s]!;
			if (this.size === this.perWindow) {
				this.recent -= this.counts[s]!;
			}

			this.counts[s] = 0;
		}

		this.head = b;
	}

	add(time: number, n = 1): void {
		const b = Math.floor(time / this.bucketMs);
		this.advance(b);
		if (b <= this.head - this.size) {
			return; // older than anything held
		}

		this.counts[this.slot(b)]! += n;
		this.total += n;
		if (b > this.head - this.perWindow) {
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
