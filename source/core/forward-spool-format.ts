import {type LogEvent, LEVELS, type Level} from './event.js';

// The record format of a forwarder's disk spool: one event per line, as JSON (newlines
// inside strings are escaped, so a line is a record). A segment is appended to only; a
// crash can leave its last line torn (no newline), which the next start cuts off.
// Pure: the spool (sinks/forward/spool.ts) does the file work.

export function encodeRecord(event: LogEvent): string {
	return JSON.stringify({
		seq: event.seq,
		time: event.time,
		receivedAt: event.receivedAt,
		sourceId: event.sourceId,
		sourceKind: event.sourceKind,
		service: event.service,
		host: event.host,
		proc: event.proc,
		type: event.type,
		level: event.level,
		status: event.status,
		message: event.message,
		// Most often the same text: kept once.
		raw: event.raw === event.message ? undefined : event.raw,
		record: event.record,
	}) + '\n';
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** One line back into an event; undefined when it is not a record (a damaged line). */
export function decodeRecord(line: string): LogEvent | undefined {
	let v: unknown;
	try {
		v = JSON.parse(line);
	} catch {
		return undefined;
	}

	if (v === null || typeof v !== 'object' || Array.isArray(v)) {
		return undefined;
	}

	const r = v as Record<string, unknown>;
	if (typeof r['message'] !== 'string' || typeof r['time'] !== 'number') {
		return undefined;
	}

	const level = LEVELS.find(l => l === r['level']) ?? 'INFO' satisfies Level;
	return {
		seq: num(r['seq']),
		time: num(r['time']),
		receivedAt: num(r['receivedAt']),
		sourceId: str(r['sourceId']),
		sourceKind: str(r['sourceKind']) as LogEvent['sourceKind'],
		service: str(r['service']),
		host: str(r['host']),
		proc: str(r['proc']),
		type: str(r['type']),
		level,
		status: typeof r['status'] === 'number' ? r['status'] : undefined,
		message: r['message'],
		raw: typeof r['raw'] === 'string' ? r['raw'] : r['message'],
		record: r['record'],
	};
}

/** A segment's file name: its number, zero-padded so names sort in order. */
export function segmentName(id: number): string {
	return `${String(id).padStart(12, '0')}.spool`;
}

export function segmentId(name: string): number | undefined {
	const m = /^(\d{12})\.spool$/.exec(name);
	return m ? Number(m[1]) : undefined;
}
