import {LineSplitter} from './lines.js';
import {isoTime, pad} from './time.js';

// The text formats of logio (protocols.md §2). Pure: no I/O.
//
// Subscriber stream: one record per published log, written as
//   YYYY-MM-DDTHH:MM:SS.mmm app[proc] host: raw
// with the time in UTC, milliseconds truncated, no zone letter. The server adds
// no newline: `raw` carries its own, and a multi-line raw continues on lines
// without the prefix. Chunks do not follow lines, so the parser splits on \n
// across chunks and holds the last record until it knows no continuation follows.

export type LogioRecord = {
	/** ms since the epoch; the receive time when the stamp could not be read. */
	time: number;
	app: string;
	proc: string;
	host: string;
	/** The text, continuation lines joined with \n, no trailing newline. */
	raw: string;
	/** Bytes cut off because the record was longer than the cap. */
	truncated: number;
	/** A line with no prefix and no record before it to continue. */
	orphan: boolean;
	/** The prefix looked right but its time did not exist (e.g. month 13). */
	badTime: boolean;
};

/** `2016-12-06T22:14:21.448`: UTC, milliseconds, no zone letter. */
export function formatLogioTime(ms: number): string {
	const iso = isoTime(ms);
	if (iso.length === 24) {
		// Years 0-9999: the ISO text without its zone letter.
		return iso.slice(0, 23);
	}

	const d = new Date(ms);
	const y = d.getUTCFullYear();
	const year = y >= 0 && y <= 9999 ? pad(y, 4) : String(y);
	return `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** The subscriber prefix for a record: `time app[proc] host: `. */
export function logioPrefix(ms: number, app: string, proc: string, host: string): string {
	return `${formatLogioTime(ms)} ${app}[${proc}] ${host}: `;
}

// Ambiguous when app holds "[" or host holds ":"; the server does no escaping.
const lineRe = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3}) ([^[]*)\[([^\]]*)\] ([^:]*): (.*)$/s;

// RFC 3339 with any fraction, as Go's time.RFC3339Nano writes it.
const rfc3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:Z|([+-])(\d\d):(\d\d))$/i;

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
	const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
	return month === 2 && leap ? 29 : monthDays[month - 1]!;
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | undefined {
	if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) {
		return undefined;
	}

	const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
	if (y < 100) {
		date.setUTCFullYear(y); // Date.UTC reads 0-99 as 1900-1999
	}

	return date.getTime();
}

// Logs from a publisher come many per second, so the part up to the seconds and the zone
// repeat: the last one is remembered and only the fraction is read again.
let cachedHead = '';
let cachedZone = '';
let cachedBase = 0;

/** A publisher's `time` (RFC 3339, e.g. 2016-12-06T17:14:21.448912-05:00) in ms, fraction truncated; undefined when invalid. */
export function parseRfc3339(text: string): number | undefined {
	if (cachedHead !== '' && text.startsWith(cachedHead)) {
		let i = 19;
		let ms = 0;
		if (text.charCodeAt(19) === 0x2E) {
			i = 20;
			while (i < text.length && i < 29) {
				const c = text.charCodeAt(i);
				if (c < 0x30 || c > 0x39) {
					break;
				}

				if (i < 23) {
					ms = ms * 10 + c - 0x30;
				}

				i++;
			}

			if (i === 20) {
				return undefined;
			}

			for (let k = Math.min(i, 23); k < 23; k++) {
				ms *= 10;
			}
		}

		if (text.length - i === cachedZone.length && text.endsWith(cachedZone)) {
			return cachedBase + ms;
		}
	}

	const t = parseRfc3339Slow(text);
	if (t !== undefined) {
		const m = rfc3339.exec(text)!;
		cachedHead = text.slice(0, 19);
		cachedZone = m[8] === undefined ? text.slice(text.length - 1) : text.slice(text.length - 6);
		cachedBase = t - (m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0')));
	}

	return t;
}

function parseRfc3339Slow(text: string): number | undefined {
	const m = rfc3339.exec(text);
	if (!m) {
		return undefined;
	}

	const [, y, mo, d, h, mi, s, frac, sign, oh, om] = m;
	const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
	const t = utc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), ms);
	if (t === undefined) {
		return undefined;
	}

	if (sign === undefined) {
		return t;
	}

	const offH = Number(oh);
	const offM = Number(om);
	if (offH > 23 || offM > 59) {
		return undefined;
	}

	const offset = (offH * 60 + offM) * 60_000;
	return sign === '-' ? t + offset : t - offset;
}

type Head = {time: number; app: string; proc: string; host: string; badTime: boolean};

/** Parse the prefix of one subscriber line; undefined when the line is a continuation. */
export function parseLogioLine(line: string, receivedAt: number): (Head & {raw: string}) | undefined {
	const m = lineRe.exec(line);
	if (!m) {
		return undefined;
	}

	const [, y, mo, d, h, mi, s, ms, app = '', proc = '', host = '', raw = ''] = m;
	const t = utc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), Number(ms));
	return {time: t ?? receivedAt, app, proc, host, raw, badTime: t === undefined};
}

export class LogioLineParser {
	private readonly splitter: LineSplitter;
	private held: LogioRecord | undefined;
	private last: Head | undefined; // the head of the latest record, for late continuation lines

	/** `maxRecord`: longest record kept, bytes (roughly: UTF-16 units once decoded). */
	constructor(private readonly maxRecord = 1024 * 1024) {
		this.splitter = new LineSplitter(maxRecord);
	}

	/** True while a record is held back waiting for possible continuation lines. */
	get holding(): boolean {
		return this.held !== undefined;
	}

	/** Feed a chunk; returns the records known to be complete. */
	push(chunk: Buffer, receivedAt: number): LogioRecord[] {
		const out: LogioRecord[] = [];
		for (const {text, truncated} of this.splitter.push(chunk)) {
			this.line(text, truncated, receivedAt, out);
		}

		return out;
	}

	/** Release the held record (the stream went quiet, or ended). A partial last line is completed at `end`. */
	flush(): LogioRecord[] {
		const r = this.held;
		this.held = undefined;
		return r ? [r] : [];
	}

	/** End of stream: the partial last line, then the held record. */
	end(receivedAt: number): LogioRecord[] {
		const out: LogioRecord[] = [];
		for (const {text, truncated} of this.splitter.end()) {
			this.line(text, truncated, receivedAt, out);
		}

		out.push(...this.flush());
		return out;
	}

	private line(text: string, truncated: number, receivedAt: number, out: LogioRecord[]): void {
		const head = parseLogioLine(text, receivedAt);
		if (head) {
			if (this.held) {
				out.push(this.held);
			}

			const {raw, ...rest} = head;
			this.last = rest;
			this.held = {...rest, raw, truncated, orphan: false};
			return;
		}

		const held = this.held;
		if (held) {
			// A continuation line of a multi-line raw.
			if (held.raw.length + 1 + text.length > this.maxRecord) {
				held.truncated += Buffer.byteLength(text) + 1 + truncated;
			} else {
				held.raw += '\n' + text;
				held.truncated += truncated;
			}

			return;
		}

		// A continuation that came after its record was released, or a line with no record at all.
		const last = this.last;
		this.held = last
			? {...last, raw: text, truncated, orphan: false}
			: {time: receivedAt, app: '', proc: '', host: '', raw: text, truncated, orphan: true, badTime: false};
	}
}
