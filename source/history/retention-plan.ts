import {compareSegments} from './format.js';

// Which whole segments retention deletes. No fs calls; the clock is passed in.
//
// - By age: a sealed segment goes once its newest event (receive time) is older than the
//   stream's retention (`all`: --retention, `errors`: history.errorRetention).
// - By size: while the directory holds more than --history-max, the oldest sealed segments
//   of `all` go first; the errors stream is cut only when `all` has nothing sealed left,
//   since its events are the ones kept longest.
// Active (still written) segments are never deleted.

export type Stream = 'all' | 'errors';

export type PlannedSegment = {
	stream: Stream;
	hour: number;
	n: number;
	base: string;
	/** Receive time of its newest event (or the file's modification time when unknown). */
	newest: number;
	/** Bytes on disk, sidecar included. */
	bytes: number;
	active: boolean;
};

export type RetentionLimits = {
	maxAgeMs: number;
	errorMaxAgeMs: number;
	maxBytes: number;
};

export type RetentionPlan = {
	remove: Array<PlannedSegment & {why: 'age' | 'size'}>;
	/** Bytes left once the plan ran. */
	bytesAfter: number;
};

export function planRetention(segments: readonly PlannedSegment[], now: number, limits: RetentionLimits): RetentionPlan {
	const remove: RetentionPlan['remove'] = [];
	const kept: PlannedSegment[] = [];
	for (const s of [...segments].sort(compareSegments)) {
		const maxAge = s.stream === 'errors' ? limits.errorMaxAgeMs : limits.maxAgeMs;
		if (!s.active && now - s.newest > maxAge) {
			remove.push({...s, why: 'age'});
		} else {
			kept.push(s);
		}
	}

	let bytes = kept.reduce((n, s) => n + s.bytes, 0);
	for (const stream of ['all', 'errors'] as const) {
		for (const s of kept) {
			if (bytes <= limits.maxBytes) {
				break;
			}

			if (s.stream === stream && !s.active) {
				remove.push({...s, why: 'size'});
				bytes -= s.bytes;
			}
		}
	}

	return {remove, bytesAfter: bytes};
}
