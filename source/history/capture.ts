import {LEVELS, type Level, type LogEvent, type SourceKind} from '../core/event.js';
import {type Slab, type SlabPool} from './slabs.js';

// What the history does with an event on the ingest thread: as little as it can. Its raw text
// (and message, when it differs) is copied as UTF-8 into the batch's text buffer, the texts of
// the events the bus delivers at once joined and written with one call; its numbers and flags
// go into a table, its repeating fields (level, service, source, host, proc, type) as an index
// into the batch's list of them. The JSON lines are made from a batch later, by
// encode-batch.ts, in the encoder worker (encoder.ts), which reads the text and the table in
// shared memory (slabs.ts). No fs calls.

/** Flags of an event in a batch. */
export const flag = {
	/** The raw bytes are a JSON string literal already (text with a surrogate, see putText). */
	rawJson: 1,
	hasMessage: 2,
	messageJson: 4,
	hasStatus: 8,
	/** The record is JSON.parse(raw): written as `"rawrec":1`. */
	rawRecord: 16,
	/** The record's JSON is the next of `extras`. */
	hasRecord: 32,
	/** The marker is the next of `extras`. */
	hasMarker: 64,
	/** ERROR or CRITICAL: the line goes to the errors stream too. */
	error: 128,
} as const;

/** Per event in `table`: seq, time, receivedAt, status, raw bytes, message bytes, fields index, flags. */
export const slots = 8;

/** A batch of captured events, as the encoder reads it. */
export type Batch = {
	count: number;
	table: Float64Array;
	/** UTF-8 of each event's raw text, then its message when it has one of its own. */
	text: Uint8Array;
	textBytes: number;
	/** The JSON of each combination of repeating fields, `,"level":…` (see fieldsJson). */
	fields: string[];
	/** Record JSON and marker texts, in event order. */
	extras: string[];
};

const levelPart = Object.fromEntries(LEVELS.map(l => [l, `,"level":"${l}"`])) as Record<Level, string>;

/** `,"level":…,"service":…,"src":…,"kind":…[,"host"…][,"proc"…][,"type"…]`: empty host, proc and type left out. */
export function fieldsJson(e: LogEvent): string {
	let part = levelPart[e.level] + ',"service":' + JSON.stringify(e.service) + ',"src":' + JSON.stringify(e.sourceId) + ',"kind":' + JSON.stringify(e.sourceKind);
	if (e.host !== '') {
		part += ',"host":' + JSON.stringify(e.host);
	}

	if (e.proc !== '') {
		part += ',"proc":' + JSON.stringify(e.proc);
	}

	if (e.type !== '') {
		part += ',"type":' + JSON.stringify(e.type);
	}

	return part;
}

/** JSON of a record; a value JSON cannot hold (a BigInt, a cycle) is kept as its text. */
export function recordJson(record: unknown): string {
	try {
		return JSON.stringify(record) ?? JSON.stringify(String(record));
	} catch {
		return JSON.stringify(String(record));
	}
}

/** One combination of repeating fields, and its index in the batch that last used it. */
type Fields = {json: string; batch: number; index: number};

/** The repeating fields of one source but its level, and their combination with each level (by LEVELS index). */
type SourceFields = {service: string; sourceId: string; kind: SourceKind; host: string; proc: string; type: string; byLevel: Array<Fields | undefined>};

/** Recent sources, the last used first: events come in runs from one source. */
const recentSources: SourceFields[] = [];
const maxRecentSources = 16;

function sameSource(s: SourceFields, e: LogEvent): boolean {
	// Mostly the very same strings (one per source), so these compare pointers.
	return s.service === e.service && s.sourceId === e.sourceId && s.host === e.host && s.proc === e.proc && s.type === e.type && s.kind === e.sourceKind;
}

function fieldsOf(e: LogEvent): Fields {
	let s = recentSources[0];
	if (s === undefined || !sameSource(s, e)) {
		s = sourceOf(e);
	}

	let level = 0;
	while (level < LEVELS.length && LEVELS[level] !== e.level) {
		level++;
	}

	let f = s.byLevel[level];
	if (f === undefined) {
		f = {json: fieldsJson(e), batch: 0, index: 0};
		// A level that is not one of LEVELS (never, by its type) is not kept: it would stand for all such.
		if (level < LEVELS.length) {
			s.byLevel[level] = f;
		}
	}

	return f;
}

/** The source of `e` among the recent ones (moved to the front), or a new one at the front. */
function sourceOf(e: LogEvent): SourceFields {
	let i = 1;
	while (i < recentSources.length && !sameSource(recentSources[i]!, e)) {
		i++;
	}

	let s: SourceFields;
	if (i < recentSources.length) {
		s = recentSources[i]!;
		recentSources.splice(i, 1);
	} else {
		if (recentSources.length >= maxRecentSources) {
			recentSources.pop();
		}

		s = {service: e.service, sourceId: e.sourceId, kind: e.sourceKind, host: e.host, proc: e.proc, type: e.type, byLevel: Array.from({length: LEVELS.length}, () => undefined)};
	}

	recentSources.unshift(s);
	return s;
}

/**
 * A surrogate: the text may hold a lone one, which UTF-8 cannot carry (it would turn into
 * U+FFFD) and JSON.stringify writes as an escape. Such text is stored as its JSON.
 */
const surrogate = /[\uD800-\uDFFF]/;

let lastId = 0;

/** Events captured for one hour's lines, until the writer takes them to be encoded and written. */
export class Capture {
	/** Tells the fields cache which batch an index belongs to. */
	private readonly id = ++lastId;
	count = 0;
	/** ERROR and CRITICAL events among them. */
	errors = 0;
	textBytes = 0;
	/** The shared memory the batch is in (slabs.ts): given back to the pool once encoded. */
	tableSlab: Slab;
	textSlab: Slab;
	private table: Float64Array;
	private text: Buffer;
	private readonly fields: string[] = [];
	private readonly extras: string[] = [];
	/** Set by putText: the text went in as JSON. */
	private json = false;

	/** Room for about `events` and `textBytes` to start with, from `pool`. */
	constructor(readonly hour: number, private readonly pool: SlabPool, events = 1024, textBytes = 128 * 1024) {
		this.tableSlab = pool.take(events * slots * 8);
		this.table = new Float64Array(this.tableSlab.buffer);
		this.textSlab = pool.take(textBytes);
		this.text = Buffer.from(this.textSlab.buffer);
	}

	/** What the batch holds, in bytes: what the writer's memory bound counts. */
	get bytes(): number {
		return this.textBytes + (this.count * slots * 8);
	}

	/** Capture one event; returns the bytes it added. */
	push(e: LogEvent): number {
		return this.pushAll([e], 0, 1);
	}

	/**
	 * Capture `events[from, to)`; returns the bytes they added. Their texts are joined and
	 * written with one call: when that gives one byte per character (ASCII, most logs), the
	 * character counts are the byte counts. Otherwise each text is written again on its own.
	 */
	pushAll(events: readonly LogEvent[], from: number, to: number): number {
		const before = this.bytes;
		const first = this.count;
		if ((first + to - from) * slots > this.table.length) {
			this.growTable(first + to - from);
		}

		// A new array each time: young, as the texts are (storing them into an old one costs more).
		const texts = new Array<string>(to - from);
		let n = 0;
		let chars = 0;
		const t = this.table;
		for (let k = from; k < to; k++) {
			const e = events[k]!;
			const f = fieldsOf(e);
			if (f.batch !== this.id) {
				f.batch = this.id;
				f.index = this.fields.length;
				this.fields.push(f.json);
			}

			let flags = 0;
			texts[n++] = e.raw;
			chars += e.raw.length;
			let messageChars = 0;
			if (e.message !== e.raw) {
				flags |= flag.hasMessage;
				texts[n++] = e.message;
				messageChars = e.message.length;
				chars += messageChars;
			}

			const s = (first + k - from) * slots;
			t[s] = e.seq;
			t[s + 1] = e.time;
			t[s + 2] = e.receivedAt;
			if (e.status !== undefined) {
				flags |= flag.hasStatus;
				t[s + 3] = e.status;
			}

			if (e.record !== undefined) {
				const rec = recordJson(e.record);
				if (rec === e.raw) {
					flags |= flag.rawRecord;
				} else {
					flags |= flag.hasRecord;
					this.extras.push(rec);
				}
			}

			if (e.marker !== undefined) {
				flags |= flag.hasMarker;
				this.extras.push(e.marker);
			}

			if (e.level === 'ERROR' || e.level === 'CRITICAL') {
				flags |= flag.error;
				this.errors++;
			}

			t[s + 4] = e.raw.length;
			t[s + 5] = messageChars;
			t[s + 6] = f.index;
			t[s + 7] = flags;
		}

		this.count = first + to - from;
		texts.length = n;
		const joined = n === 1 ? texts[0]! : texts.join('');
		this.room(chars * 3);
		const written = this.text.write(joined, this.textBytes);
		if (written === chars) {
			this.textBytes += written;
		} else {
			this.putEach(events, from, to, first);
		}

		return this.bytes - before;
	}

	/** The texts of events[from, to) (captured from `first` on) one by one: byte counts, and text with a lone surrogate as its JSON. */
	private putEach(events: readonly LogEvent[], from: number, to: number, first: number): void {
		const t = this.table;
		for (let k = from; k < to; k++) {
			const e = events[k]!;
			const s = (first + k - from) * slots;
			let flags = t[s + 7]! & ~(flag.rawJson | flag.messageJson);
			t[s + 4] = this.putText(e.raw);
			if (this.json) {
				flags |= flag.rawJson;
			}

			if ((flags & flag.hasMessage) !== 0) {
				t[s + 5] = this.putText(e.message);
				if (this.json) {
					flags |= flag.messageJson;
				}
			}

			t[s + 7] = flags;
		}
	}

	/** The batch as the encoder reads it. */
	batch(): Batch {
		return {count: this.count, table: this.table, text: this.text, textBytes: this.textBytes, fields: this.fields, extras: this.extras};
	}

	/**
	 * Append `text` as UTF-8 (most text: the same bytes JSON has, escapes aside, which the encoder
	 * adds); text with a surrogate as its JSON (then `json` is set). Returns its bytes.
	 */
	private putText(text: string): number {
		this.room(text.length * 3);
		const at = this.textBytes;
		let n = this.text.write(text, at);
		this.json = false;
		// More bytes than characters: not ASCII; a surrogate is looked for only then.
		if (n !== text.length && surrogate.test(text)) {
			const json = JSON.stringify(text);
			this.room(json.length * 3);
			n = this.text.write(json, at);
			this.json = true;
		}

		this.textBytes += n;
		return n;
	}

	private room(bytes: number): void {
		if (this.textBytes + bytes > this.text.length) {
			const slab = this.pool.take(Math.max(this.text.length * 2, this.textBytes + bytes));
			const bigger = Buffer.from(slab.buffer);
			this.text.copy(bigger, 0, 0, this.textBytes);
			this.pool.give(this.textSlab);
			this.textSlab = slab;
			this.text = bigger;
		}
	}

	/** Room in the table for `events` in all. */
	private growTable(events: number): void {
		const slab = this.pool.take(Math.max(this.table.length * 2, events * slots) * 8);
		const table = new Float64Array(slab.buffer);
		table.set(this.table.subarray(0, this.count * slots));
		this.pool.give(this.tableSlab);
		this.tableSlab = slab;
		this.table = table;
	}
}
