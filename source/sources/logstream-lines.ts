import {type EventInit} from '../core/event.js';
import {detectLevel, levelFromStatus} from '../core/level.js';
import {truncationMarker} from '../core/lines.js';
import {parseJsonObject, parseTime} from '../core/record.js';
import {sanitize} from '../core/sanitize.js';
import {type Json, preview} from './logstream-messages.js';

// A logstream `line` message (protocols.md §1.2) into a log event: the site as
// service, the server as host, the log type as type, the HTTP status, the time
// from unix_time or disp_time (UTC), and varnish-request JSON parsed into fields.
// A text longer than --max-line is cut there, marked and counted, as stdin does.
// This runs for every line, so the repeated work (names, times) is cached.

/** `disp_time` is "YYYY-MM-DD HH:MM:SS" in UTC with no zone marker. */
const dispTimePattern = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)$/;

function parseDispTime(text: string): number | undefined {
	const m = dispTimePattern.exec(text);
	if (!m) {
		return undefined;
	}

	const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
	return Number.isNaN(ms) ? undefined : ms;
}

/** A varnish-request record as one readable request line; the full record stays in `record`. */
function varnishMessage(f: Json): string {
	const s = (key: string): string => {
		const v = f[key];
		return typeof v === 'string' ? v : (typeof v === 'number' ? String(v) : '');
	};

	const query = s('query');
	const url = s('url') + (query && !query.startsWith('?') ? '?' + query : query);
	const parts = [s('client_ip') || '-', `"${s('method') || '-'} ${url || '-'}"`, s('status') || '-', s('bytes') || '-'];
	for (const key of ['host', 'hitmiss', 'handling', 'time_firstbyte', 'request_id']) {
		const v = s(key);
		if (v) {
			parts.push(`${key}=${v}`);
		}
	}

	const ua = s('user_agent');
	if (ua) {
		parts.push(`"${ua}"`);
	}

	return parts.join(' ');
}

/** Request logs: the HTTP status says how bad a line is; words in a URL must not. */
const requestTypes = new Set(['apache-request', 'varnish-request', 'bal-request', 'drupal-request']);

function statusOf(v: unknown): number | undefined | false {
	if (v === undefined || v === null) {
		return undefined;
	}

	if (typeof v === 'number' && Number.isInteger(v)) {
		return v;
	}

	if (typeof v === 'string' && /^\d{3}$/.test(v)) {
		return Number(v);
	}

	return false;
}

/** `text` cut to at most `maxLine` UTF-8 bytes at a character boundary, and the bytes cut; undefined when it fits. */
function cutToBytes(text: string, maxLine: number): {kept: string; cut: number} | undefined {
	// A UTF-16 unit is at most 3 UTF-8 bytes: most lines need no counting at all.
	if (text.length * 3 <= maxLine || Buffer.byteLength(text) <= maxLine) {
		return undefined;
	}

	const bytes = Buffer.from(text);
	let end = maxLine;
	while (end > 0 && (bytes[end]! & 0xC0) === 0x80) {
		end--; // Inside a character: cut before it.
	}

	return {kept: bytes.toString('utf8', 0, end), cut: bytes.length - end};
}

export class LineReader {
	private readonly lastName: [string, string] = ['', ''];
	private readonly lastSafe: [string, string] = ['', ''];
	/** Lines of one second share their disp_time: parsed once. */
	private lastDisp = '';
	private lastDispMs: number | undefined;

	/** `problem` hears every parse error; `maxLine` is the longest text kept whole, in bytes. */
	constructor(private readonly sourceId: string, private readonly maxLine: number, private readonly problem: (why: string) => void) {}

	/** The event for a `line` message, or undefined when the line is skipped (its problem reported). */
	read(m: Json, service: string): EventInit | undefined {
		const type = m['log_type'];
		const server = m['server'];
		const text = m['text'];
		if (typeof type !== 'string' || typeof server !== 'string' || typeof text !== 'string') {
			const bad = [['log_type', type], ['server', server], ['text', text]].filter(([, v]) => typeof v !== 'string').map(([k]) => k as string);
			this.problem(`line with a missing or mistyped ${bad.join(', ')}; skipped`);
			return undefined;
		}

		let status = statusOf(m['http_status']);
		if (status === false) {
			this.problem(`line with a mistyped http_status ${preview(JSON.stringify(m['http_status']))}; skipped`);
			return undefined;
		}

		const now = Date.now();
		let time: number | undefined;
		const unix = m['unix_time'];
		const disp = m['disp_time'];
		if (unix !== undefined && unix !== null) {
			time = parseTime(unix);
			if (time === undefined) {
				this.problem(`line with a mistyped unix_time ${preview(JSON.stringify(unix))}; skipped`);
				return undefined;
			}
		} else if (disp !== undefined && disp !== null) {
			if (typeof disp !== 'string') {
				this.problem(`line with a mistyped disp_time ${preview(JSON.stringify(disp))}; skipped`);
				return undefined;
			}

			// A malformed but present time keeps the line, stamped when it arrived.
			if (disp !== this.lastDisp) {
				this.lastDisp = disp;
				this.lastDispMs = parseDispTime(disp);
			}

			time = this.lastDispMs;
		}

		let raw = text;
		let record: unknown = m;
		const over = cutToBytes(text, this.maxLine);
		if (over) {
			this.problem(`line longer than the cap (--max-line ${this.maxLine} bytes), ${over.cut} bytes cut`);
			raw = over.kept + truncationMarker(over.cut);
			// The record must not keep the whole text alive either.
			record = {...m, text: raw};
		}

		let message = raw;
		if (type === 'varnish-request' && !over) {
			const fields = parseJsonObject(text, this.problem);
			if (fields) {
				message = varnishMessage(fields);
				record = {...m, fields};
				if (status === undefined) {
					const s = statusOf(fields['status']);
					status = s === false ? undefined : s;
				}
			}
		}

		return {
			time: time ?? now,
			receivedAt: now,
			sourceId: this.sourceId,
			sourceKind: 'logstream',
			service,
			host: this.safeName(server, 0),
			proc: '',
			type: this.safeName(type, 1),
			level: status !== undefined && requestTypes.has(type) ? levelFromStatus(status) ?? 'INFO' : detectLevel({status, type, text: message}),
			status,
			message: sanitize(message),
			raw,
			record,
		};
	}

	/** Consecutive lines mostly share a server and a type: sanitise a name only when it changes. */
	private safeName(name: string, slot: 0 | 1): string {
		if (name !== this.lastName[slot]) {
			this.lastName[slot] = name;
			this.lastSafe[slot] = sanitize(name);
		}

		return this.lastSafe[slot];
	}
}
