import {clock} from './time.js';

// The one normalized event every source produces and every consumer reads.

export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'NOTICE', 'WARN', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

/** Rank of a level; higher is more severe. */
export const levelRank: Readonly<Record<Level, number>> = {
	TRACE: 0,
	DEBUG: 1,
	INFO: 2,
	NOTICE: 3,
	WARN: 4,
	ERROR: 5,
	CRITICAL: 6,
};

/** `alerts`: the notices of logmon's own alert rules (type `alert`, marker `alert`); `connect`: another logmon's stream; `forward`: a forwarder's health only (it publishes nothing). */
export type SourceKind = 'logstream' | 'logio' | 'logio-listen' | 'kafka' | 'stdin' | 'alerts' | 'connect' | 'docker' | 'file' | 'otlp' | 'journald' | 'forward';

export type LogEvent = {
	/** Assigned by the bus: strictly increasing across all sources. */
	seq: number;
	/** Event time in ms since the epoch, from the source when it has one, else the receive time. */
	time: number;
	/** When logmon received it, ms since the epoch. */
	receivedAt: number;
	sourceId: string;
	sourceKind: SourceKind;
	/** logio app, Kafka `service`, logstream site. */
	service: string;
	/** Host or logstream server. */
	host: string;
	proc: string;
	/** Log type, e.g. apache-request, php-error; empty when the source has none. */
	type: string;
	level: Level;
	/** HTTP status when the line is a request log. */
	status?: number | undefined;
	/** Safe to show on a terminal: control characters and escape sequences neutralised. */
	message: string;
	/** The original text as it came (may hold escapes); written by `-o raw` into a pipe. */
	raw: string;
	/** The original structured record (JSON object, Kafka metadata...), kept for `-o json`. */
	record?: unknown;
	/**
	 * Set on synthetic events: `gap`, the marker after a reconnect; `alert`, an alert rule's firing or
	 * resolve; `history`, a row the UI adds over the history (where it ends, loading…), never on the bus.
	 */
	marker?: 'gap' | 'alert' | 'history' | undefined;
};

/** What a source fills in; the bus assigns `seq`. */
export type EventInit = Omit<LogEvent, 'seq'> & {seq?: number};

/** The longest service, host, proc or type kept: they are labels, counted and listed by name. */
export const maxNameLength = 256;

/** The first `n` UTF-16 units of `text` at most, not ending between the halves of a surrogate pair. */
export function headOf(text: string, n: number): string {
	if (text.length <= n) {
		return text;
	}

	return text.slice(0, (text.charCodeAt(n - 1) & 0xFC_00) === 0xD8_00 ? n - 1 : n);
}

function cutName(name: string): string {
	return name.length <= maxNameLength ? name : `${headOf(name, maxNameLength - 1)}…`;
}

/**
 * Names past `maxNameLength` cut, in place. A JSON record's `service` or `host` is whatever its
 * writer put there: a 1 MiB name would be kept once for every per-name count and list.
 */
export function boundNames(e: EventInit): void {
	if (e.service.length > maxNameLength || e.host.length > maxNameLength || e.proc.length > maxNameLength || e.type.length > maxNameLength) {
		e.service = cutName(e.service);
		e.host = cutName(e.host);
		e.proc = cutName(e.proc);
		e.type = cutName(e.type);
	}
}

/**
 * An event's weight against a budget of text (UTF-16 units of its line and message). Counting
 * events alone bounds no memory when lines are up to --max-line long: 10,000 of 1 MiB are 10 GB.
 */
export function eventChars(e: {raw: string; message: string}): number {
	return e.raw.length + (e.message === e.raw ? 0 : e.message.length);
}

/** A gap marker: tells the reader that lines may be missing between two instants. */
export function gapEvent(sourceId: string, sourceKind: SourceKind, from: number, to: number, now = to): LogEvent {
	const message = `${sourceId}: disconnected ${clock(from)}–${clock(to)}, lines may be missing`;
	return {
		seq: 0,
		time: now,
		receivedAt: now,
		sourceId,
		sourceKind,
		service: '',
		host: '',
		proc: '',
		type: '',
		level: 'WARN',
		message,
		raw: message,
		marker: 'gap',
	};
}
