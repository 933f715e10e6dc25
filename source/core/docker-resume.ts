// Resuming a container's log stream without repeats. Pure: no I/O.
//
// Docker's `since` is inclusive and takes Unix seconds (with nanoseconds after a dot). Lines of
// stdout and stderr are not written in time order (a long line carries the time of its first
// part), so resuming exactly at the last time seen could lose a line written just after it with
// an earlier time. So the last lines read are remembered (time, stream, length), the stream is
// asked again from the oldest of them, and every line met again is dropped once.

/** RFC 3339 text to a key that sorts as the time does: "2026-01-02T03:04:05.123456789" (UTC). */
export function stampKey(stamp: string): string | undefined {
	const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(stamp);
	if (!m) {
		return undefined;
	}

	const fraction = (m[2] ?? '').padEnd(9, '0');
	if (m[3] === 'Z') {
		return `${m[1]!}.${fraction}`;
	}

	const ms = Date.parse(`${m[1]!}${m[3]!}`);
	return Number.isNaN(ms) ? undefined : `${new Date(ms).toISOString().slice(0, 19)}.${fraction}`;
}

/** A stamp key to Docker's `since`: Unix seconds with nanoseconds, "1767323045.123456789". */
export function sinceParameter(key: string): string {
	const seconds = Math.floor(Date.parse(`${key.slice(0, 19)}Z`) / 1000);
	return `${seconds}.${key.slice(20)}`;
}

/** Milliseconds since the epoch to Docker's `since`. */
export function sinceFromMs(ms: number): string {
	const seconds = Math.floor(ms / 1000);
	return `${seconds}.${String((ms - (seconds * 1000)) * 1_000_000).padStart(9, '0')}`;
}

type Resume = {
	oldest: string;
	newest: string;
	/** How many times each (key, stream, length) is still to be dropped. */
	pending: Map<string, number>;
};

export class SeenLines {
	private readonly stamps: string[];
	private readonly streams: string[];
	private readonly lengths: number[];
	private next = 0;
	private count = 0;
	private resume: Resume | undefined;
	/** Lines dropped as already shown, since this was made. */
	repeats = 0;

	constructor(private readonly capacity = 4096) {
		this.stamps = Array.from({length: capacity});
		this.streams = Array.from({length: capacity});
		this.lengths = Array.from({length: capacity});
	}

	/** A line shown: cheap, no parsing. */
	add(stamp: string, stream: string, length: number): void {
		this.stamps[this.next] = stamp;
		this.streams[this.next] = stream;
		this.lengths[this.next] = length;
		this.next = (this.next + 1) % this.capacity;
		this.count = Math.min(this.count + 1, this.capacity);
	}

	get empty(): boolean {
		return this.count === 0;
	}

	/**
	 * Start a resume: returns the `since` to ask for (undefined when nothing was seen), and from
	 * then on `isRepeat` drops what was seen, until a line newer than all of them arrives.
	 */
	startResume(): string | undefined {
		const pending = new Map<string, number>();
		let oldest: string | undefined;
		let newest: string | undefined;
		for (let i = 0; i < this.count; i++) {
			const at = (this.next - this.count + i + this.capacity) % this.capacity;
			const key = stampKey(this.stamps[at]!);
			if (key === undefined) {
				continue;
			}

			const id = `${key} ${this.streams[at]!} ${this.lengths[at]!}`;
			pending.set(id, (pending.get(id) ?? 0) + 1);
			if (oldest === undefined || key < oldest) {
				oldest = key;
			}

			if (newest === undefined || key > newest) {
				newest = key;
			}
		}

		if (oldest === undefined || newest === undefined) {
			this.resume = undefined;
			return undefined;
		}

		this.resume = {oldest, newest, pending};
		return sinceParameter(oldest);
	}

	/** True when the line was already shown (count it and drop it). */
	isRepeat(stamp: string, stream: string, length: number): boolean {
		const r = this.resume;
		if (!r) {
			return false;
		}

		const key = stampKey(stamp);
		if (key === undefined) {
			return false;
		}

		if (key < r.oldest) {
			// Docker sent a line from before `since`: an older engine rounding it. Seen before.
			this.repeats++;
			return true;
		}

		const id = `${key} ${stream} ${length}`;
		const left = r.pending.get(id);
		if (left !== undefined) {
			if (left <= 1) {
				r.pending.delete(id);
			} else {
				r.pending.set(id, left - 1);
			}

			this.repeats++;
			if (r.pending.size === 0) {
				this.resume = undefined;
			}

			return true;
		}

		if (key > r.newest) {
			this.resume = undefined;
		}

		return false;
	}
}
