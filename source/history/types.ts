import {type Level, type LogEvent} from '../core/event.js';
import {type Filter} from '../core/filter.js';

// The history store's contract: what the writer, `logmon query`, the UI and (later) the HTTP API share.
//
// On disk, one directory (default $XDG_STATE_HOME/logmon/history, mode 0700, files 0600):
//   FORMAT                      {"format":"logmon-history","version":1}; a higher version is refused, naming the directory
//   writer.lock                 {"pid":…,"host":…,"startedAt":…}: one writer per directory, others open read-only
//   all/<YYYYMMDDTHH>-<n>.ndjson        the active segment of every event (one JSON line per event, appended per flush)
//   all/<YYYYMMDDTHH>-<n>.ndjson.gz     a sealed segment (gzip of the raw file; `zcat … | jq` reads it)
//   all/<YYYYMMDDTHH>-<n>.idx.json      its sidecar index, written when sealed (SegmentIndex below)
//   errors/…                            the same layout, ERROR and CRITICAL events only, kept longer
// A segment is named after the receive time of its first event (UTC) and rolls at the hour or at 64 MiB raw.
// Within a segment, lines are in bus order (increasing seq); event times may be out of order, so the
// sidecar records the min and max event time and queries prune by both.

/** The version this build writes and reads. */
export const historyFormatVersion = 1;

/** What the sidecar of a sealed segment holds: enough to prune and count without decompressing. */
export type SegmentIndex = {
	version: 1;
	/** First and last event time (ms) in the segment: min and max, not first and last line. */
	minTime: number;
	maxTime: number;
	/** First and last receive time. */
	minReceived: number;
	maxReceived: number;
	/** First and last seq (bus order within one writer run; a restart starts again at 1). */
	firstSeq: number;
	lastSeq: number;
	events: number;
	/** Bytes of the raw NDJSON and of the .gz. */
	rawBytes: number;
	gzBytes: number;
	/** Events per service × level: the stats pane and `--stats` without a scan. Key `${service}\t${level}`. */
	counts: Record<string, number>;
	/** ERROR and CRITICAL events per minute (key: minute start in ms, by event time). */
	errorsPerMinute: Record<string, number>;
	/** Bloom filter of the lower-cased words of every message, raw line and string field (base64). */
	bloom: {bits: string; k: number; m: number};
};

/** What a query asks for. Times are event times (ms); a missing bound is open. */
export type HistoryQuery = {
	since?: number | undefined;
	until?: number | undefined;
	/** The same compiled filter as pipe mode's. */
	filter?: Filter | undefined;
	/**
	 * Words that every matching event must contain: lets the bloom filters skip segments. Make them
	 * with bloom.ts `queryWords(text)`, the same word rule the index uses (runs of ASCII letters,
	 * digits and `_`, lower-cased), or a word the index split differently is never found.
	 */
	tokens?: string[] | undefined;
	/** Only ERROR and CRITICAL: reads the errors stream, which is kept longer. */
	errorsOnly?: boolean | undefined;
	/** Newest first. Default oldest first. */
	reverse?: boolean | undefined;
	/** Only events received before this one, by (receivedAt, seq): scroll-back and the API's cursors. */
	before?: Pick<LogEvent, 'receivedAt' | 'seq'> | undefined;
	/** Only events received at or after this time (ms): lets a scan skip older segments. */
	receivedSince?: number | undefined;
	/** Stop after this many matches (with reverse: the newest N). */
	limit?: number | undefined;
	/**
	 * Only events received from this one on (its receive time, then its seq): where `--follow
	 * --limit N` starts, at the oldest of the newest N.
	 */
	from?: Pick<LogEvent, 'receivedAt' | 'seq'> | undefined;
	/**
	 * After the stored events, keep yielding what the writer appends (following the active segment
	 * across rolls, like `tail -F`) until the signal aborts: `logmon query --follow`. Oldest first only.
	 */
	follow?: boolean | undefined;
	/** Cancels a running scan (the UI's Escape). */
	signal?: AbortSignal | undefined;
};

export type HistoryCounts = {
	/** Events per `${service}\t${level}` over the window. */
	counts: Map<string, number>;
	/** ERROR and CRITICAL per minute start (ms). */
	errorsPerMinute: Map<number, number>;
};

/** The state the status bar and health show: "live", "read-only (another logmon writes it)", "failed: disk full". */
export type HistoryStatus = {
	state: 'writing' | 'read-only' | 'failed' | 'off';
	reason?: string | undefined;
	dir: string;
	/** Events written, dropped because the writer fell behind, torn lines cut off and damaged segments skipped. */
	written: number;
	dropped: number;
	tornLines: number;
	damagedSegments: number;
	bytesOnDisk: number;
	segments: number;
	/** Full segments waiting to be sealed while the history is written fast (seal-delay.ts). */
	unsealed?: number;
	oldest?: number | undefined;
};

/** Read access, shared by `logmon query`, the UI and the HTTP API. Safe while another process writes. */
export type HistoryReader = {
	readonly dir: string;
	/** Matching events in time order (see HistoryQuery.reverse), streamed segment by segment. */
	scan(query: HistoryQuery): AsyncIterable<LogEvent>;
	/**
	 * Counts over a window (event time), from the sidecars: no decompression, except for the active
	 * segment and a segment the window cuts through, whose lines are counted.
	 * `errorsOnly` counts the errors stream, which is kept longer (history.errorRetention).
	 * (Refined: `errorsOnly` added; the active segment is counted from its lines, not kept in memory.)
	 */
	counts(since?: number, until?: number, errorsOnly?: boolean): Promise<HistoryCounts>;
	/**
	 * The newest `count` events (by receive order) for the UI's start, oldest first; `since` is a
	 * receive time; no more than `maxChars` of their text (core/event.ts eventChars), as the buffer.
	 */
	newest(count: number, since?: number, maxChars?: number): Promise<LogEvent[]>;
	/**
	 * Up to `count` events received before the event `before` (its receivedAt and seq), oldest first:
	 * scroll-back. They end once their text reaches `maxChars`, the event that reaches it included.
	 */
	before(before: Pick<LogEvent, 'receivedAt' | 'seq'>, count: number, filter?: Filter, maxChars?: number): Promise<LogEvent[]>;
	status(): HistoryStatus;
};

/** Levels the errors stream keeps. */
export const errorLevels: ReadonlySet<Level> = new Set<Level>(['ERROR', 'CRITICAL']);
