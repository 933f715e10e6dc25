// Resuming a container's log stream without repeats. Pure: no I/O.
//
// Docker's `since` is inclusive and takes Unix seconds (with nanoseconds after a dot). Lines of
// stdout and stderr are not written in time order (each stream is stamped on its own, and a long
// line carries the time of its first part), so resuming exactly at the last time seen could lose
// a line of the other stream written just after it with an earlier time. So the stream is asked
// again from the oldest of the last lines shown, and what each stream shows again is dropped
// (SeenLines).

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

function before(a: readonly [number, number], b: readonly [number, number]): boolean {
	return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/** Streams by their index here: stdout 0, stderr 1. */
function streamIndex(stream: string): number {
	return stream === 'stderr' ? 1 : 0;
}

/** How far behind the other one a stream's stamps may run (its copier late in a burst), in seconds. */
const streamLag = 10;

/**
 * The lines shown of one container, as numbers (never the strings, which would keep whole lines
 * alive): where a resume asks from, and what it must not show again.
 *
 * Each stream's lines are stamped in the order they are written (a copier per stream), but the two
 * streams' blocks overlap in time, by more than 2,048 lines in a burst. So what is dropped is decided
 * per stream: a line of a stream at or before the newest time shown on that stream was shown (at
 * that very time, as many lines as were shown there, none longer than the longest: the first part
 * of a long line, shown when a stream ended in the middle of it, does not hide the whole line).
 * A resume asks from the oldest of the last lines shown, or from a stream's newest time when that
 * is earlier (within `streamLag` of the other's), so a line written late with an earlier time than
 * the other stream's is not missed.
 */
export class SeenLines {
	private readonly seconds: Float64Array;
	private readonly nanos: Float64Array;
	private next = 0;
	private count = 0;
	/** Per stream: the newest time shown (NaN seconds: none yet), and how many lines were shown at it. */
	private readonly newestSeconds = [Number.NaN, Number.NaN];
	private readonly newestNanos = [0, 0];
	private readonly atNewest = [0, 0];
	/** Per stream: the longest line shown at its newest time. */
	private readonly longestAtNewest = [0, 0];
	/** During a resume, per stream: lines at its newest time still to drop; -1 once a newer line came (or none was shown). */
	private readonly tiesLeft = [-1, -1];
	/** The `since` of the resume under way; undefined when none is. */
	private resumeFrom: [number, number] | undefined;
	/** Lines dropped as already shown, since this was made. */
	repeats = 0;

	constructor(private readonly capacity = 2048) {
		this.seconds = new Float64Array(capacity);
		this.nanos = new Float64Array(capacity);
	}

	/** A line shown (its length in characters). */
	add(stamp: string, stream: string, length: number): void {
		const parts = stampParts(stamp);
		if (!parts) {
			return;
		}

		this.seconds[this.next] = parts[0];
		this.nanos[this.next] = parts[1];
		this.next = (this.next + 1) % this.capacity;
		this.count = Math.min(this.count + 1, this.capacity);
		// Compared as numbers, not tuples: this runs for every line.
		const s = streamIndex(stream);
		const seconds = this.newestSeconds[s]!;
		const nanos = this.newestNanos[s]!;
		if (Number.isNaN(seconds) || seconds < parts[0] || (seconds === parts[0] && nanos < parts[1])) {
			this.newestSeconds[s] = parts[0];
			this.newestNanos[s] = parts[1];
			this.atNewest[s] = 1;
			this.longestAtNewest[s] = length;
		} else if (seconds === parts[0] && nanos === parts[1]) {
			this.atNewest[s]!++;
			this.longestAtNewest[s] = Math.max(this.longestAtNewest[s]!, length);
		}
	}

	get empty(): boolean {
		return this.count === 0;
	}

	/**
	 * Start a resume: returns the `since` to ask for (undefined when nothing was seen), and from
	 * then on `isRepeat` drops what was shown, on each stream until a line newer than its newest.
	 */
	startResume(): string | undefined {
		if (this.count === 0) {
			this.resumeFrom = undefined;
			return undefined;
		}

		let oldest: [number, number] | undefined;
		for (let i = 0; i < this.count; i++) {
			const at = (this.next - this.count + i + this.capacity) % this.capacity;
			const time: [number, number] = [this.seconds[at]!, this.nanos[at]!];
			if (!oldest || before(time, oldest)) {
				oldest = time;
			}
		}

		const latest = Math.max(...this.newestSeconds.filter(n => !Number.isNaN(n)));
		for (let s = 0; s < 2; s++) {
			const shown = !Number.isNaN(this.newestSeconds[s]!);
			this.tiesLeft[s] = shown ? this.atNewest[s]! : -1;
			const newest: [number, number] = [this.newestSeconds[s]!, this.newestNanos[s]!];
			if (shown && latest - newest[0] <= streamLag && before(newest, oldest!)) {
				oldest = newest;
			}
		}

		this.resumeFrom = oldest!;
		return `${oldest![0]}.${String(oldest![1]).padStart(9, '0')}`;
	}

	/** The newest time shown on either stream, as a stamp key (core/docker-resume.ts `stampKey`). */
	newestKey(): string | undefined {
		let best = -1;
		for (let s = 0; s < 2; s++) {
			if (!Number.isNaN(this.newestSeconds[s]!) && (best === -1 || before([this.newestSeconds[best]!, this.newestNanos[best]!], [this.newestSeconds[s]!, this.newestNanos[s]!]))) {
				best = s;
			}
		}

		if (best === -1) {
			return undefined;
		}

		return `${new Date(this.newestSeconds[best]! * 1000).toISOString().slice(0, 19)}.${String(this.newestNanos[best]!).padStart(9, '0')}`;
	}

	/** True when the line was already shown (count it and drop it). */
	isRepeat(stamp: string, stream: string, length: number): boolean {
		const from = this.resumeFrom;
		if (!from) {
			return false;
		}

		const time = stampParts(stamp);
		if (!time) {
			return false;
		}

		if (before(time, from)) {
			// Docker sent a line from before `since`: seen before.
			this.repeats++;
			return true;
		}

		const s = streamIndex(stream);
		const left = this.tiesLeft[s]!;
		if (left === -1) {
			return false;
		}

		const newest: [number, number] = [this.newestSeconds[s]!, this.newestNanos[s]!];
		if (before(time, newest) || (left > 0 && !before(newest, time) && length <= this.longestAtNewest[s]!)) {
			if (!before(time, newest)) {
				this.tiesLeft[s] = left - 1;
			}

			this.repeats++;
			return true;
		}

		// Newer than all this stream showed: its resume is over.
		this.tiesLeft[s] = -1;
		if (this.tiesLeft[0] === -1 && this.tiesLeft[1] === -1) {
			this.resumeFrom = undefined;
		}

		return false;
	}
}
