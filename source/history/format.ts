import {LEVELS, type Level, type LogEvent, type SourceKind} from '../core/event.js';
import {historyFormatVersion} from './types.js';

// The line format of a segment, and segment names. No fs calls: the writer, the reader,
// the sealer and tests share it.
//
// One JSON object per line, keys short but readable so `zcat … | jq` stays usable:
//   {"seq":1,"time":…,"recv":…,"level":"INFO","service":"…","src":"…","kind":"logio-listen",
//    "host":"…","proc":"…","type":"…","status":200,"msg":"…","raw":"…","rec":{…},"marker":"gap"}
// Empty host/proc/type, a missing status, record and marker are left out; `msg` is written only
// when it differs from `raw` (most lines: the message is the raw text). `"rawrec":1` stands for
// "the record is JSON.parse(raw)", written instead of `rec` when the record's JSON is the raw text itself.
//
// Encoding is on the ingest path (one call per event), so it is string concatenation with
// JSON.stringify only on the strings; the fields that repeat (service, host, source…) are
// encoded once and cached.

/** What the FORMAT file holds. */
export const formatFileText = `${JSON.stringify({format: 'logmon-history', version: historyFormatVersion})}\n`;

export type FormatCheck = {ok: true} | {ok: false; newer: boolean; reason: string};

/** Read the FORMAT file's text: this build's version is fine, a newer one is refused. */
export function checkFormat(text: string): FormatCheck {
	let v: unknown;
	try {
		v = JSON.parse(text);
	} catch {
		return {ok: false, newer: false, reason: 'its FORMAT file is not JSON'};
	}

	const o = v as {format?: unknown; version?: unknown};
	if (o === null || typeof o !== 'object' || o.format !== 'logmon-history' || typeof o.version !== 'number') {
		return {ok: false, newer: false, reason: 'its FORMAT file does not describe a logmon history'};
	}

	if (o.version > historyFormatVersion) {
		return {ok: false, newer: true, reason: `it was written by a newer logmon (history format ${o.version}; this logmon reads ${historyFormatVersion})`};
	}

	if (o.version !== historyFormatVersion) {
		return {ok: false, newer: false, reason: `unknown history format ${o.version}`};
	}

	return {ok: true};
}

const cacheLimit = 4096;
const encodedCache = new Map<string, string>();

/** JSON.stringify of a string, cached for the short values that repeat (service, host, source). */
function cached(s: string): string {
	let out = encodedCache.get(s);
	if (out === undefined) {
		out = JSON.stringify(s);
		if (encodedCache.size >= cacheLimit) {
			encodedCache.clear();
		}

		encodedCache.set(s, out);
	}

	return out;
}

const levelPart = Object.fromEntries(LEVELS.map(l => [l, `,"level":"${l}"`])) as Record<Level, string>;

/** JSON of a record; a value JSON cannot hold (a BigInt, a cycle) is kept as its text. */
function recordJson(record: unknown): string {
	try {
		return JSON.stringify(record) ?? JSON.stringify(String(record));
	} catch {
		return JSON.stringify(String(record));
	}
}

/** One event as one line, newline included. */
export function encodeEvent(e: LogEvent): string {
	let line = '{"seq":' + e.seq + ',"time":' + e.time + ',"recv":' + e.receivedAt + levelPart[e.level]
		+ ',"service":' + cached(e.service) + ',"src":' + cached(e.sourceId) + ',"kind":' + cached(e.sourceKind);
	if (e.host !== '') {
		line += ',"host":' + cached(e.host);
	}

	if (e.proc !== '') {
		line += ',"proc":' + cached(e.proc);
	}

	if (e.type !== '') {
		line += ',"type":' + cached(e.type);
	}

	if (e.status !== undefined) {
		line += ',"status":' + e.status;
	}

	const raw = JSON.stringify(e.raw);
	if (e.message !== e.raw) {
		line += ',"msg":' + JSON.stringify(e.message);
	}

	line += ',"raw":' + raw;
	if (e.record !== undefined) {
		const rec = recordJson(e.record);
		line += rec === e.raw ? ',"rawrec":1' : ',"rec":' + rec;
	}

	if (e.marker !== undefined) {
		line += ',"marker":"' + e.marker + '"';
	}

	return line + '}\n';
}

type Line = {
	seq: number;
	time: number;
	recv: number;
	level: Level;
	service: string;
	src: string;
	kind: SourceKind;
	host?: string;
	proc?: string;
	type?: string;
	status?: number;
	msg?: string;
	raw: string;
	rec?: unknown;
	rawrec?: 1;
	marker?: 'gap';
};

const levels = new Set<string>(LEVELS);

/** A parsed line back to the event; undefined when it is not one of ours. */
export function eventFromLine(o: unknown): LogEvent | undefined {
	if (o === null || typeof o !== 'object') {
		return undefined;
	}

	const l = o as Line;
	if (typeof l.seq !== 'number' || typeof l.time !== 'number' || typeof l.recv !== 'number' || typeof l.raw !== 'string' || !levels.has(l.level)) {
		return undefined;
	}

	const e: LogEvent = {
		seq: l.seq,
		time: l.time,
		receivedAt: l.recv,
		sourceId: String(l.src ?? ''),
		sourceKind: l.kind,
		service: String(l.service ?? ''),
		host: l.host ?? '',
		proc: l.proc ?? '',
		type: l.type ?? '',
		level: l.level,
		message: l.msg ?? l.raw,
		raw: l.raw,
	};
	if (l.status !== undefined) {
		e.status = l.status;
	}

	if (l.rawrec === 1) {
		e.record = parseRecord(l.raw);
	} else if (l.rec !== undefined) {
		e.record = l.rec;
	}

	if (l.marker !== undefined) {
		e.marker = l.marker;
	}

	return e;
}

function parseRecord(raw: string): unknown {
	try {
		return JSON.parse(raw);
	} catch {
		return raw;
	}
}

/** One line of text (without its newline) back to the event; undefined when damaged. */
export function decodeLine(line: string): LogEvent | undefined {
	let o: unknown;
	try {
		o = JSON.parse(line);
	} catch {
		return undefined;
	}

	return eventFromLine(o);
}

// Segment names: <YYYYMMDDTHH>-<n>.ndjson (active), .ndjson.gz (sealed), .idx.json (its index).

export const hourMs = 3_600_000;

export type SegmentName = {
	/** The hour (ms, UTC) the segment's first event was received in. */
	hour: number;
	/** Its number within the hour: a segment rolls early at the size cap or at a restart. */
	n: number;
	/** `20240501T10-0`: the name without its suffix. */
	base: string;
};

function two(n: number): string {
	return n < 10 ? '0' + n : String(n);
}

export function segmentBase(hour: number, n: number): string {
	const d = new Date(hour);
	return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}-${n}`;
}

export function segmentName(hour: number, n: number): SegmentName {
	return {hour, n, base: segmentBase(hour, n)};
}

export const rawSuffix = '.ndjson';
export const gzSuffix = '.ndjson.gz';
export const indexSuffix = '.idx.json';

const namePattern = /^(\d{4})(\d{2})(\d{2})T(\d{2})-(\d{1,6})(\.ndjson|\.ndjson\.gz|\.idx\.json)$/;

export type ParsedFileName = SegmentName & {kind: 'raw' | 'gz' | 'index'};

/** A file name of a segment stream; undefined for anything else. */
export function parseSegmentFile(file: string): ParsedFileName | undefined {
	const m = namePattern.exec(file);
	if (!m) {
		return undefined;
	}

	const hour = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
	if (!Number.isFinite(hour)) {
		return undefined;
	}

	const n = Number(m[5]);
	const kind = m[6] === rawSuffix ? 'raw' : (m[6] === gzSuffix ? 'gz' : 'index');
	return {hour, n, base: segmentBase(hour, n), kind};
}

export function hourOf(ms: number): number {
	return Math.floor(ms / hourMs) * hourMs;
}

/** Segment order: by hour, then number. */
export function compareSegments(a: SegmentName, b: SegmentName): number {
	return a.hour - b.hour || a.n - b.n;
}
