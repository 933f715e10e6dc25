import {type LogEvent} from './event.js';

// What one PutLogEvents request of CloudWatch Logs may hold, and the packing of events into
// requests within it. A request over any limit is refused whole (InvalidParameterException),
// so these are hard limits, never targets to approach loosely:
//   - at most 10,000 events;
//   - at most 1,048,576 bytes, counted as each message's UTF-8 bytes plus 26;
//   - events in time order, spanning at most 24 hours.
// One event's message is thus at most 1,048,550 bytes; a longer one is cut, with a marker.

export const cloudwatchLimits = {
	maxEvents: 10_000,
	maxBytes: 1_048_576,
	eventOverhead: 26,
	maxSpanMs: 24 * 60 * 60 * 1000,
} as const;

export type CloudwatchLimits = {
	maxEvents: number;
	maxBytes: number;
	eventOverhead: number;
	maxSpanMs: number;
};

/** The longest message one event may carry. */
export const maxMessageBytes = cloudwatchLimits.maxBytes - cloudwatchLimits.eventOverhead;

/** One event as PutLogEvents takes it. */
export type CloudwatchEvent = {timestamp: number; message: string};

/** CloudWatch refuses an empty message: an empty line is sent as this. */
export const emptyMessage = '(empty)';

/** `text` cut to at most `maxBytes` UTF-8 bytes (on a character boundary), ending with a marker saying how long it was. */
export function truncateMessage(text: string, maxBytes = maxMessageBytes): string {
	const bytes = Buffer.byteLength(text, 'utf8');
	if (bytes <= maxBytes) {
		return text;
	}

	const marker = ` [truncated by logmon: ${bytes} bytes]`;
	const encoded = Buffer.from(text, 'utf8');
	let keep = Math.max(0, maxBytes - Buffer.byteLength(marker, 'utf8'));
	// Back off to the first byte of a character: 10xxxxxx continues one.
	while (keep > 0 && (encoded[keep]! & 0xC0) === 0x80) {
		keep--;
	}

	return encoded.subarray(0, keep).toString('utf8') + marker;
}

/** The text logmon sends for an event: the line as it came (redaction applied, a CR that ended it dropped), else the message; never empty. */
export function cloudwatchText(event: LogEvent): string {
	let text = event.raw === '' ? event.message : event.raw;
	if (text.endsWith('\r')) {
		text = text.slice(0, -1);
	}

	return text === '' ? emptyMessage : text;
}

/** The message logmon sends for an event: its text, cut to the size limit. */
export function cloudwatchMessage(event: LogEvent, maxBytes = maxMessageBytes): string {
	return truncateMessage(cloudwatchText(event), maxBytes);
}

/** What an event counts for against the byte limit: its message's UTF-8 bytes plus the overhead. */
export function eventSize(message: string, limits: CloudwatchLimits = cloudwatchLimits): number {
	return Buffer.byteLength(message, 'utf8') + limits.eventOverhead;
}

/**
 * Events cut into PutLogEvents requests: sorted by time (stable: events of one instant keep
 * their order), then cut greedily where the next event would pass the count, the bytes or
 * the 24-hour span. Greedy cutting of a sorted run gives the fewest requests for that order.
 * Every message must already fit one request (see `truncateMessage`).
 */
export function packRequests<T extends CloudwatchEvent>(events: readonly T[], limits: CloudwatchLimits = cloudwatchLimits): T[][] {
	const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp);
	const requests: T[][] = [];
	let current: T[] = [];
	let bytes = 0;
	let first = 0;
	for (const event of sorted) {
		const size = eventSize(event.message, limits);
		if (size > limits.maxBytes) {
			throw new RangeError(`a CloudWatch event of ${size} bytes is over the ${limits.maxBytes}-byte limit; it should have been truncated`);
		}

		if (current.length > 0 && (current.length >= limits.maxEvents || bytes + size > limits.maxBytes || event.timestamp - first > limits.maxSpanMs)) {
			requests.push(current);
			current = [];
			bytes = 0;
		}

		if (current.length === 0) {
			first = event.timestamp;
		}

		current.push(event);
		bytes += size;
	}

	if (current.length > 0) {
		requests.push(current);
	}

	return requests;
}

/** What CloudWatch said it refused of one request (`rejectedLogEventsInfo`). */
export type RejectedInfo = {
	tooNewLogEventStartIndex?: number | undefined;
	tooOldLogEventEndIndex?: number | undefined;
	expiredLogEventEndIndex?: number | undefined;
};

export type RejectedCounts = {tooOld: number; tooNew: number; expired: number};

/**
 * How many events of a request of `count` were refused. The API reference: the too-old and
 * expired end indexes are exclusive (events before them were refused), the too-new start
 * index is inclusive (it and those after it were).
 */
export function countRejected(info: RejectedInfo | undefined, count: number): RejectedCounts {
	const clamp = (n: number | undefined): number => (n === undefined || !Number.isFinite(n) ? 0 : Math.max(0, Math.min(count, Math.trunc(n))));
	return {
		tooOld: clamp(info?.tooOldLogEventEndIndex),
		expired: clamp(info?.expiredLogEventEndIndex),
		tooNew: info?.tooNewLogEventStartIndex === undefined ? 0 : count - clamp(info.tooNewLogEventStartIndex),
	};
}
