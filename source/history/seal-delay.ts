import {type Stream} from './retention-plan.js';

// When a rolled segment is sealed. A seal (gzip, and the sidecar's word hashes) costs about 3 µs
// of CPU an event: as much as the rest of the history put together. On a two-core machine whose
// two CPUs share one physical core, as they do here, any CPU a seal takes during a burst slows
// ingest by a third, nice 19 or not. So a rolled segment waits while the history is written fast,
// and is sealed once the writes calm down, when more than `maxWaitingBytes` wait (the oldest
// first), or when it has waited `maxWaitMs`. A waiting segment is a raw segment like the active
// one: readers read it, and a crash leaves it to be sealed at the next start. No I/O here.

export type SealDelayOptions = {
	/** Below this write rate (and its segments' fill rate for sealLevel), a seal waits for nothing. */
	calmBytesPerSecond: number;
	maxWaitingBytes: number;
	maxWaitMs: number;
};

export const defaultSealDelay: SealDelayOptions = {
	calmBytesPerSecond: 1024 * 1024,
	maxWaitingBytes: 256 * 1024 * 1024,
	maxWaitMs: 120_000,
};

export type WaitingSegment = {stream: Stream; base: string; bytes: number; since: number};

const key = (stream: Stream, base: string) => `${stream}/${base}`;

export class SealDelay {
	private readonly waiting: WaitingSegment[] = [];
	private readonly keys = new Set<string>();
	private waitingBytes = 0;
	/** Bytes written in the current second of the clock, and in the second before it. */
	private second = Number.NEGATIVE_INFINITY;
	private bytesThisSecond = 0;
	private bytesLastSecond = 0;

	constructor(private readonly options: SealDelayOptions = defaultSealDelay) {}

	get size(): number {
		return this.waiting.length;
	}

	has(stream: Stream, base: string): boolean {
		return this.keys.has(key(stream, base));
	}

	/** Bytes just written to the history. */
	wrote(bytes: number, now: number): void {
		this.tick(now);
		this.bytesThisSecond += bytes;
	}

	add(stream: Stream, base: string, bytes: number, now: number): void {
		if (this.keys.has(key(stream, base))) {
			return;
		}

		this.keys.add(key(stream, base));
		this.waiting.push({stream, base, bytes, since: now});
		this.waitingBytes += bytes;
	}

	/** The segments to seal now, oldest first, taken out. */
	due(now: number): WaitingSegment[] {
		this.tick(now);
		const calm = Math.max(this.bytesThisSecond, this.bytesLastSecond) < this.options.calmBytesPerSecond;
		let count = 0;
		let bytes = this.waitingBytes;
		for (const w of this.waiting) {
			if (!calm && bytes <= this.options.maxWaitingBytes && now - w.since < this.options.maxWaitMs) {
				break;
			}

			bytes -= w.bytes;
			count++;
		}

		return this.take(count);
	}

	/** Every waiting segment, taken out (to seal them now). */
	all(): WaitingSegment[] {
		return this.take(this.waiting.length);
	}

	private take(count: number): WaitingSegment[] {
		const out = this.waiting.splice(0, count);
		for (const w of out) {
			this.keys.delete(key(w.stream, w.base));
			this.waitingBytes -= w.bytes;
		}

		return out;
	}

	private tick(now: number): void {
		const second = Math.floor(now / 1000);
		if (second !== this.second) {
			this.bytesLastSecond = second === this.second + 1 ? this.bytesThisSecond : 0;
			this.bytesThisSecond = 0;
			this.second = second;
		}
	}
}
