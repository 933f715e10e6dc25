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
// Encoding is on the ingest path (one call per event); see encodeEventInto.

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

// Encoding writes UTF-8 bytes straight into the writer's buffer: the numbers digit by digit,
// the fields that repeat (level, service, source, host, proc, type) as bytes made once per run
// of events sharing them, and the raw text (most of a line) as it is, checked afterwards for
// anything JSON must escape. No string is built for the line as a whole.

function ascii(text: string): Uint8Array {
	return Uint8Array.from(text, c => c.charCodeAt(0));
}

const seqKey = ascii('{"seq":');
const timeKey = ascii(',"time":');
const recvKey = ascii(',"recv":');
const statusKey = ascii(',"status":');
const msgKey = ascii(',"msg":');
const rawKey = ascii(',"raw":"');

function put(buf: Uint8Array, at: number, bytes: Uint8Array): number {
	for (let i = 0; i < bytes.length; i++) {
		buf[at + i] = bytes[i]!;
	}

	return at + bytes.length;
}

/** Digits of 0 <= n < 2^31, in 32-bit integer arithmetic. */
function putSmall(buf: Uint8Array, at: number, n: number): number {
	let digits = 1;
	for (let x = n; x >= 10; x = (x / 10) | 0) {
		digits++;
	}

	for (let i = at + digits - 1; i >= at; i--) {
		const q = (n / 10) | 0;
		buf[i] = 48 + n - (q * 10);
		n = q;
	}

	return at + digits;
}

/** A number as JSON writes it (not finite: null). Times in ms are two 32-bit halves. */
function putNumber(buf: Buffer, at: number, n: number): number {
	if (n >= 0 && n < 2_147_483_648 && (n | 0) === n) {
		return putSmall(buf, at, n);
	}

	if (n >= 1e6 && Number.isSafeInteger(n)) {
		const high = Math.floor(n / 1e6);
		let low = n - (high * 1e6);
		at = putSmall(buf, at, high);
		for (let i = at + 5; i >= at; i--) {
			const q = (low / 10) | 0;
			buf[i] = 48 + low - (q * 10);
			low = q;
		}

		return at + 6;
	}

	return at + buf.write(Number.isFinite(n) ? String(n) : 'null', at, 'latin1');
}

/** The bytes of the fields that repeat, for one combination of their values. */
type Fields = {level: Level; service: string; sourceId: string; kind: SourceKind; host: string; proc: string; type: string; bytes: Uint8Array};

/** Recent combinations, newest first: events of a few sources interleave, each source at a few levels. */
const recentFields: Fields[] = [];
const maxRecentFields = 16;

/** `,"level":…,"service":…,"src":…,"kind":…[,"host"…][,"proc"…][,"type"…]` as bytes, made once per combination. */
function fieldsBytes(e: LogEvent): Uint8Array {
	for (let i = 0; i < recentFields.length; i++) {
		const f = recentFields[i]!;
		// Mostly the very same strings (one per source), so these compare pointers.
		if (f.level === e.level && f.service === e.service && f.host === e.host && f.proc === e.proc && f.sourceId === e.sourceId && f.type === e.type && f.kind === e.sourceKind) {
			if (i > 0) {
				recentFields.splice(i, 1);
				recentFields.unshift(f);
			}

			return f.bytes;
		}
	}

	let part = levelPart[e.level] + ',"service":' + cached(e.service) + ',"src":' + cached(e.sourceId) + ',"kind":' + cached(e.sourceKind);
	if (e.host !== '') {
		part += ',"host":' + cached(e.host);
	}

	if (e.proc !== '') {
		part += ',"proc":' + cached(e.proc);
	}

	if (e.type !== '') {
		part += ',"type":' + cached(e.type);
	}

	if (recentFields.length >= maxRecentFields) {
		recentFields.pop();
	}

	const bytes = new Uint8Array(Buffer.from(part));
	recentFields.unshift({level: e.level, service: e.service, sourceId: e.sourceId, kind: e.sourceKind, host: e.host, proc: e.proc, type: e.type, bytes});
	return bytes;
}

/** Bytes a JSON string must escape: the controls, the quote, the backslash. */
const mustEscape = new Uint8Array(256);
mustEscape.fill(1, 0, 0x20);
mustEscape[0x22] = 1;
mustEscape[0x5C] = 1;

/**
 * Write `text` as the inside of a JSON string at `at` (the opening quote is before it) and the
 * closing quote; returns the offset after it. Most log lines are ASCII with nothing to escape:
 * those are written as UTF-8 (the same bytes) and then checked, which costs less than testing
 * the text first. Anything else is written as JSON.stringify makes it, over the first attempt.
 */
function putJsonText(buf: Buffer, at: number, text: string): number {
	const n = buf.write(text, at);
	if (n === text.length) {
		// ASCII (any other character takes more than one byte): escaping is all that can be needed.
		let i = at;
		const end = at + n;
		while (i < end && mustEscape[buf[i]!] === 0) {
			i++;
		}

		if (i === end) {
			buf[end] = 0x22;
			return end + 1;
		}
	}

	return at - 1 + buf.write(JSON.stringify(text), at - 1); // over the opening quote
}

/** The line after the raw text: the record, the marker. */
function lineTail(e: LogEvent): string {
	let tail = '';
	if (e.record !== undefined) {
		const rec = recordJson(e.record);
		tail += rec === e.raw ? ',"rawrec":1' : ',"rec":' + rec;
	}

	if (e.marker !== undefined) {
		tail += ',"marker":"' + e.marker + '"';
	}

	return tail;
}

/**
 * Encode one event as a line (newline included), UTF-8, into `buf` at `at`; returns the offset
 * after it, or -1 when it may not fit (then nothing is written).
 */
export function encodeEventInto(e: LogEvent, buf: Buffer, at: number): number {
	const head = fieldsBytes(e);
	const message = e.message === e.raw ? undefined : e.message;
	const tail = e.record === undefined && e.marker === undefined ? '' : lineTail(e);
	const raw = e.raw;
	const bound = 120 + head.length + ((message?.length ?? 0) * 6) + (raw.length * 6) + (tail.length * 3);
	if (at + bound > buf.length) {
		return -1;
	}

	at = put(buf, at, seqKey);
	at = putNumber(buf, at, e.seq);
	at = put(buf, at, timeKey);
	at = putNumber(buf, at, e.time);
	at = put(buf, at, recvKey);
	at = putNumber(buf, at, e.receivedAt);
	buf.set(head, at);
	at += head.length;
	if (e.status !== undefined) {
		at = put(buf, at, statusKey);
		at = putNumber(buf, at, e.status);
	}

	if (message !== undefined) {
		at = put(buf, at, msgKey);
		at += buf.write(JSON.stringify(message), at);
	}

	at = put(buf, at, rawKey);
	at = putJsonText(buf, at, raw);

	if (tail !== '') {
		at += buf.write(tail, at);
	}

	buf[at++] = 0x7D;
	buf[at++] = 0x0A;
	return at;
}

/** One event as one line, newline included: the same bytes as encodeEventInto. */
export function encodeEvent(e: LogEvent): string {
	let size = 4096;
	for (;;) {
		const buf = Buffer.allocUnsafe(size);
		const end = encodeEventInto(e, buf, 0);
		if (end >= 0) {
			return buf.toString('utf8', 0, end);
		}

		size *= 4;
	}
}

type Line = {
	seq: number;
	time: number | null;
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
	if (typeof l.seq !== 'number' || (typeof l.time !== 'number' && l.time !== null) || typeof l.recv !== 'number' || typeof l.raw !== 'string' || !levels.has(l.level)) {
		return undefined;
	}

	const e: LogEvent = {
		seq: l.seq,
		time: l.time ?? Number.NaN, // JSON has no NaN
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
