import {type LogEvent} from '../core/event.js';
import {Bloom, hashWords, recordWords} from './bloom.js';
import {type SegmentIndex, errorLevels} from './types.js';
import {WordHashes} from './word-hashes.js';

// Builds a sealed segment's sidecar (types.ts SegmentIndex) from its events. No fs calls:
// the sealer feeds it the decoded lines. Counts and word hashes are gathered first; the
// bloom filter is sized at the end, when the number of distinct words is known.

const minuteMs = 60_000;

export class IndexBuilder {
	private minTime = Number.POSITIVE_INFINITY;
	private maxTime = Number.NEGATIVE_INFINITY;
	private minReceived = Number.POSITIVE_INFINITY;
	private maxReceived = Number.NEGATIVE_INFINITY;
	private firstSeq = 0;
	private lastSeq = 0;
	events = 0;
	private readonly counts = new Map<string, number>();
	private readonly errorsPerMinute = new Map<number, number>();
	readonly hashes = new WordHashes();
	private readonly addHash = (h: number): void => {
		this.hashes.add(h);
	};

	readonly addText = (text: string): void => {
		hashWords(text, this.addHash);
	};

	/** One event's figures (not its words): `countsKey` is `${service}\t${level}`. */
	count(seq: number, time: number, receivedAt: number, countsKey: string, error: boolean): void {
		this.events++;
		this.minTime = Math.min(this.minTime, time);
		this.maxTime = Math.max(this.maxTime, time);
		this.minReceived = Math.min(this.minReceived, receivedAt);
		this.maxReceived = Math.max(this.maxReceived, receivedAt);
		if (this.events === 1) {
			this.firstSeq = seq;
		}

		this.lastSeq = seq;
		this.counts.set(countsKey, (this.counts.get(countsKey) ?? 0) + 1);
		if (error) {
			const minute = Math.floor(time / minuteMs) * minuteMs;
			this.errorsPerMinute.set(minute, (this.errorsPerMinute.get(minute) ?? 0) + 1);
		}
	}

	add(e: LogEvent): void {
		this.count(e.seq, e.time, e.receivedAt, `${e.service}\t${e.level}`, errorLevels.has(e.level));

		// The words of bloom.ts eventTexts; the fields that repeat are hashed when they change.
		this.addText(e.raw);
		if (e.message !== e.raw) {
			this.addText(e.message);
		}

		const seen = this.seen;
		for (const text of [e.service, e.host, e.proc, e.type, e.sourceId, e.status === undefined ? '' : String(e.status)]) {
			if (!seen.has(text)) {
				if (seen.size >= 10_000) {
					seen.clear();
				}

				seen.add(text);
				this.addText(text);
			}
		}

		if (e.record !== undefined) {
			recordWords(e.record, this.addText);
		}
	}

	/** Field values whose words are in already. */
	private readonly seen = new Set<string>();

	build(rawBytes: number, gzBytes: number): SegmentIndex {
		const bloom = Bloom.forCount(this.hashes.size);
		this.hashes.forEach(h => {
			bloom.add(h);
		});

		const empty = this.events === 0;
		return {
			version: 1,
			minTime: empty ? 0 : this.minTime,
			maxTime: empty ? 0 : this.maxTime,
			minReceived: empty ? 0 : this.minReceived,
			maxReceived: empty ? 0 : this.maxReceived,
			firstSeq: this.firstSeq,
			lastSeq: this.lastSeq,
			events: this.events,
			rawBytes,
			gzBytes,
			counts: Object.fromEntries(this.counts),
			errorsPerMinute: Object.fromEntries(this.errorsPerMinute),
			bloom: bloom.toJson(),
		};
	}
}

/** A sidecar's JSON checked for the fields readers rely on; undefined when damaged. */
export function parseIndex(text: string): SegmentIndex | undefined {
	let v: unknown;
	try {
		v = JSON.parse(text);
	} catch {
		return undefined;
	}

	const x = v as Partial<SegmentIndex> | null;
	if (x === null || typeof x !== 'object' || x.version !== 1) {
		return undefined;
	}

	const numbers = [x.minTime, x.maxTime, x.minReceived, x.maxReceived, x.events, x.rawBytes, x.gzBytes];
	if (!numbers.every(n => typeof n === 'number' && Number.isFinite(n))) {
		return undefined;
	}

	if (x.counts === null || typeof x.counts !== 'object' || x.errorsPerMinute === null || typeof x.errorsPerMinute !== 'object' || !x.bloom || typeof x.bloom.bits !== 'string') {
		return undefined;
	}

	return x as SegmentIndex;
}
