// A fixed window of time buckets (e.g. 60 one-second buckets) for sparklines
// and rates. O(1) per count; old buckets are zeroed lazily as time moves on.

export class Histogram {
	readonly bucketMs: number;
	readonly size: number;
	private readonly counts: Uint32Array;
	/** Absolute index (time / bucketMs) of the newest bucket written. */
	private newest = -1;

	constructor(size: number, bucketMs: number) {
		this.size = size;
		this.bucketMs = bucketMs;
		this.counts = new Uint32Array(size);
	}

	add(time: number, n = 1): void {
		const b = Math.floor(time / this.bucketMs);
		if (b > this.newest) {
			this.advance(b);
		} else if (b <= this.newest - this.size) {
			return; // older than the window
		}

		this.counts[b % this.size]! += n;
	}

	/** Counts oldest to newest, ending with the bucket that holds `now`. */
	series(now: number): number[] {
		const end = Math.floor(now / this.bucketMs);
		const out = new Array<number>(this.size).fill(0);
		for (let i = 0; i < this.size; i++) {
			const b = end - this.size + 1 + i;
			if (b <= this.newest && b > this.newest - this.size && b >= 0) {
				out[i] = this.counts[b % this.size]!;
			}
		}

		return out;
	}

	/** Sum of the buckets covering the last `spanMs` before `now` (the current bucket included). */
	sum(now: number, spanMs: number): number {
		const end = Math.floor(now / this.bucketMs);
		const n = Math.min(this.size, Math.max(1, Math.ceil(spanMs / this.bucketMs)));
		let total = 0;
		for (let b = end - n + 1; b <= end; b++) {
			if (b <= this.newest && b > this.newest - this.size && b >= 0) {
				total += this.counts[b % this.size]!;
			}
		}

		return total;
	}

	private advance(b: number): void {
		const gap = this.newest < 0 ? this.size : Math.min(this.size, b - this.newest);
		for (let i = 1; i <= gap; i++) {
			this.counts[(b - gap + i) % this.size] = 0;
		}

		this.newest = b;
	}
}

const blocks = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** Render counts as a block sparkline, `width` characters wide (the newest on the right). */
export function sparkline(counts: readonly number[], width = counts.length): string {
	const values = resample(counts, width);
	let max = 0;
	for (const v of values) {
		max = Math.max(max, v);
	}

	let out = '';
	for (const v of values) {
		out += v === 0 ? ' ' : blocks[Math.min(7, Math.floor((v / max) * 7.999))]!;
	}

	return out;
}

// Merge neighbouring buckets (sum) so the newest bucket always ends up last.
function resample(counts: readonly number[], width: number): number[] {
	if (width >= counts.length) {
		return [...counts];
	}

	const out = new Array<number>(width).fill(0);
	const per = counts.length / width;
	for (let i = 0; i < counts.length; i++) {
		const slot = Math.min(width - 1, Math.floor((counts.length - 1 - i) / per));
		out[width - 1 - slot]! += counts[i]!;
	}

	return out;
}
