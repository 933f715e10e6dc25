import {escapeJsonText} from './sanitize.js';
import {isoTime} from './time.js';

// Bodies of the http destination's three shapes, and how a `_bulk` reply's items read. Each
// event becomes a piece of text once (measured for batching, then joined into the body):
//   ndjson  one JSON object per line (the `-o json` shape)
//   bulk    Elasticsearch/OpenSearch `_bulk`: an action line {"index":{"_index":…}}, then the document
//   loki    the push API's JSON: {"streams":[{"stream":{labels},"values":[["<ns>","<line>"],…]}]},
//           one stream per label set, its values in time order

/** Loki refuses longer label values (its max_label_value_length). */
export const maxLabelValue = 1024;
/** Loki refuses longer lines by default (max_line_size): cut, with a marker, rather than losing the batch. */
export const maxLokiLine = 256 * 1024;
export const truncatedMarker = ' …[truncated by logmon]';

/** JSON text of a string, every control and invisible character escaped (core/sanitize.ts). */
export function jsonString(text: string): string {
	return escapeJsonText(JSON.stringify(text));
}

/** The longest start of `text` within `maxBytes` of UTF-8, with the marker when it was cut. */
export function truncateUtf8(text: string, maxBytes: number, marker = truncatedMarker): string {
	if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) {
		return text;
	}

	const room = maxBytes - Buffer.byteLength(marker);
	let cut = Buffer.from(text).subarray(0, Math.max(0, room)).toString('utf8');
	// A character cut in half decodes to U+FFFD: drop it.
	if (cut.endsWith('\uFFFD')) {
		cut = cut.slice(0, -1);
	}

	return cut + marker;
}

/** An NDJSON line. */
export function ndjsonPiece(json: string): string {
	return json + '\n';
}

const indexForbidden = /[\\/*?"<>|,#:\s]+/g;

/**
 * An index name Elasticsearch and OpenSearch accept: lowercase, none of \ / * ? " < > | , # : or
 * spaces (each run becomes `_`), not starting with - _ +, not `.` or `..`, at most 255 bytes.
 */
export function indexName(text: string): string {
	let name = text.toLowerCase().replace(indexForbidden, '_').replace(/^[-_+]+/, '');
	if (name === '' || name === '.' || name === '..') {
		name = 'logmon';
	}

	return truncateUtf8(name, 255, '');
}

/** A `_bulk` document: the NDJSON object with `@timestamp` first, the time field of Kibana and data streams. */
export function bulkDocument(json: string, time: number): string {
	return `{"@timestamp":"${isoTime(time)}",${json.slice(1)}`;
}

/** The action line and the document of one event. */
export function bulkPiece(action: 'index' | 'create', index: string, document: string): string {
	return `{"${action}":{"_index":${jsonString(index)}}}\n${document}\n`;
}

/**
 * An entry's time in nanoseconds since the epoch, as Loki wants it (a decimal string): the
 * milliseconds and microseconds of the event's time, and the last three digits of its bus
 * sequence number as nanoseconds. Loki keeps one of two entries of a stream with the same time
 * and line: so two equal lines of one millisecond stay two, and an event sent again (a retry,
 * the spool after a restart) is the same entry, which Loki stores once.
 */
export function lokiTime(ms: number, seq: number): {ms: number; tail: number; text: string} {
	const whole = Math.floor(ms);
	const micro = Math.min(999, Math.round((ms - whole) * 1000));
	const tail = micro * 1000 + (Math.abs(Math.trunc(seq)) % 1000);
	return {ms: whole, tail, text: String(whole) + String(tail).padStart(6, '0')};
}

/** One event's part of a push: its stream's labels (the text of a JSON object), its time and its value `["<ns>","<line>"]`. */
export type LokiEntry = {stream: string; ms: number; tail: number; value: string};

export function lokiEntry(stream: string, time: number, seq: number, line: string): LokiEntry {
	const t = lokiTime(time, seq);
	return {stream, ms: t.ms, tail: t.tail, value: `[${jsonString(t.text)},${jsonString(truncateUtf8(line, maxLokiLine))}]`};
}

/**
 * A label set Loki takes: empty values left out (Loki drops them), values cut to its limit,
 * and `job="logmon"` when nothing is left (a stream needs at least one label).
 */
export function lokiLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(labels)) {
		if (value !== '') {
			out[name] = truncateUtf8(value, maxLabelValue, '');
		}
	}

	return Object.keys(out).length > 0 ? out : {job: 'logmon'};
}

/** The labels of a stream as JSON text, names sorted: the key events of one stream share. */
export function lokiStream(labels: Readonly<Record<string, string>>): string {
	const sorted = Object.keys(labels).sort();
	return '{' + sorted.map(name => `${jsonString(name)}:${jsonString(labels[name]!)}`).join(',') + '}';
}

/** The push body: entries grouped by stream (streams in order of first appearance), each stream's values in time order. */
export function lokiBody(entries: readonly LokiEntry[]): string {
	const streams = new Map<string, LokiEntry[]>();
	for (const e of entries) {
		const list = streams.get(e.stream);
		if (list) {
			list.push(e);
		} else {
			streams.set(e.stream, [e]);
		}
	}

	const parts: string[] = [];
	for (const [stream, list] of streams) {
		list.sort((a, b) => a.ms - b.ms || a.tail - b.tail);
		parts.push(`{"stream":${stream},"values":[${list.map(e => e.value).join(',')}]}`);
	}

	return `{"streams":[${parts.join(',')}]}`;
}

/** What one item of a `_bulk` reply came to. */
export type BulkItem = {status: number; error?: string | undefined};

/** Bytes a stream's frame adds to a push, counted once per event (a bound, not exact). */
export function lokiOverhead(stream: string): number {
	return stream.length + 30;
}

/**
 * The items of a `_bulk` reply (`{"errors":true,"items":[{"index":{"status":429,"error":{…}}}]}`);
 * undefined when it is not one.
 */
export function bulkItems(text: string): {errors: boolean; items: BulkItem[]} | undefined {
	let reply: unknown;
	try {
		reply = JSON.parse(text);
	} catch {
		return undefined;
	}

	if (reply === null || typeof reply !== 'object' || !Array.isArray((reply as {items?: unknown}).items)) {
		return undefined;
	}

	const r = reply as {errors?: unknown; items: unknown[]};
	const items = r.items.map((item): BulkItem => {
		const result = item !== null && typeof item === 'object' ? Object.values(item)[0] as {status?: unknown; error?: unknown} | undefined : undefined;
		const status = typeof result?.status === 'number' ? result.status : 0;
		return {status, error: result?.error === undefined ? undefined : bulkError(result.error)};
	});
	return {errors: r.errors === true, items};
}

/** `mapper_parsing_exception: failed to parse field [status]` from an item's error. */
function bulkError(error: unknown): string {
	if (typeof error === 'string') {
		return error;
	}

	if (error === null || typeof error !== 'object') {
		return String(error);
	}

	const e = error as {type?: unknown; reason?: unknown};
	return [e.type, e.reason].filter(v => typeof v === 'string' && v !== '').join(': ') || JSON.stringify(error);
}

/** What a `_bulk` reply means for its batch: which items to send again, which were refused for good. */
export type BulkVerdict = {
	/** Indexes of the items that were stored. */
	stored: number[];
	/** Indexes worth another try: 429, 408, 5xx, or no item at all for them. */
	again: number[];
	/** Indexes refused for good (other 4xx): a bad document or index. */
	refused: number[];
	/** The first error of each kind, for the reason. */
	firstAgain?: string | undefined;
	firstRefused?: string | undefined;
};

export function bulkVerdict(items: readonly BulkItem[], count: number): BulkVerdict {
	const verdict: BulkVerdict = {stored: [], again: [], refused: []};
	for (let i = 0; i < count; i++) {
		const item = items[i];
		const status = item?.status ?? 0;
		const why = item ? `${status}${item.error ? ' ' + item.error : ''}` : 'no item in the reply';
		if (status >= 200 && status < 300) {
			verdict.stored.push(i);
		} else if (status === 0 || status === 408 || status === 429 || status >= 500) {
			verdict.again.push(i);
			verdict.firstAgain ??= why;
		} else {
			verdict.refused.push(i);
			verdict.firstRefused ??= why;
		}
	}

	return verdict;
}
