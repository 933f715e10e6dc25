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

/** A stamp as [Unix seconds, nanoseconds], or undefined. The last second read is kept: lines come in time order, mostly. */
let cachedSecond = '';
let cachedSeconds = 0;

export function stampParts(stamp: string): [number, number] | undefined {
	// Docker writes "2026-01-02T03:04:05.123456789Z"; anything else takes the slow road.
	if (stamp.length === 30 && stamp.charCodeAt(29) === 0x5A && stamp.charCodeAt(19) === 0x2E) {
		const second = stamp.slice(0, 19);
		if (second !== cachedSecond) {
			const ms = Date.parse(`${second}Z`);
			if (Number.isNaN(ms)) {
				return undefined;
			}

			cachedSecond = second;
			cachedSeconds = ms / 1000;
		}

		const nanos = Number(stamp.slice(20, 29));
		return Number.isInteger(nanos) ? [cachedSeconds, nanos] : undefined;
	}

	const key = stampKey(stamp);
	if (key === undefined) {
		return undefined;
	}

	return [Date.parse(`${key.slice(0, 19)}Z`) / 1000, Number(key.slice(20))];
}

type Resume = {
	oldest: [number, number];
	newest: [number, number];
	/** How many times each (time, stream, length) is still to be dropped. */
	pending: Map<string, number>;
};

function before(a: readonly [number, number], b: readonly [number, number]): boolean {
	return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/**
 * The last lines shown of one container, as numbers (never the strings, which would keep
 * whole lines alive): what a resume must not show again.
 */
export class SeenLines {
	private readonly seconds: Float64Array;
	private readonly nanos: Float64Array;
	private readonly lengths: Float64Array;
	private readonly stderr: Uint8Array;
	private next = 0;
	private count = 0;
	private resume: Resume | undefined;
	/** Lines dropped as already shown, since this was made. */
	repeats = 0;

	constructor(private readonly capacity = 2048) {
		this.seconds = new Float64Array(capacity);
		this.nanos = new Float64Array(capacity);
		this.lengths = new Float64Array(capacity);
		this.stderr = new Uint8Array(capacity);
	}

	/** A line shown. */
	add(stamp: string, stream: string, length: number): void {
		const parts = stampParts(stamp);
		if (!parts) {
			return;
		}

		this.seconds[this.next] = parts[0];
		this.nanos[this.next] = parts[1];
		this.lengths[this.next] = length;
		this.stderr[this.next] = stream === 'stderr' ? 1 : 0;
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
		if (this.count === 0) {
			this.resume = undefined;
			return undefined;
		}

		const pending = new Map<string, number>();
		let oldest: [number, number] | undefined;
		let newest: [number, number] | undefined;
		for (let i = 0; i < this.count; i++) {
			const at = (this.next - this.count + i + this.capacity) % this.capacity;
			const time: [number, number] = [this.seconds[at]!, this.nanos[at]!];
			const id = `${time[0]}.${time[1]} ${this.stderr[at]!} ${this.lengths[at]!}`;
			pending.set(id, (pending.get(id) ?? 0) + 1);
			if (!oldest || before(time, oldest)) {
				oldest = time;
			}

			if (!newest || before(newest, time)) {
				newest = time;
			}
		}

		this.resume = {oldest: oldest!, newest: newest!, pending};
		return `${oldest![0]}.${String(oldest![1]).padStart(9, '0')}`;
	}

	/** True when the line was already shown (count it and drop it). */
	isRepeat(stamp: string, stream: string, length: number): boolean {
		const r = this.resume;
		if (!r) {
			return false;
		}

		const time = stampParts(stamp);
		if (!time) {
			return false;
		}

		if (before(time, r.oldest)) {
			// Docker sent a line from before `since`: seen before.
			this.repeats++;
			return true;
		}

		const id = `${time[0]}.${time[1]} ${stream === 'stderr' ? 1 : 0} ${length}`;
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

		if (before(r.newest, time)) {
			this.resume = undefined;
		}

		return false;
	}
}
