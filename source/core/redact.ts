import {type EventInit} from './event.js';
import {isPlaceholder, keyRule, placeholder, privateKeyBody, privateKeyEnd} from './redact-rules.js';
import {Memo, type RedactSpec} from './redact-spec.js';
import {TextRedactor} from './redact-text.js';

// The redaction stage: secrets and personal data are replaced in every event before the bus
// hands it to anyone (store, stdout, the logio fan-out, and whatever comes later), so nothing
// downstream sees the original text. It rewrites the message, the raw line, the string fields
// of the record, and service, host, proc and type, and never
// throws: an event it cannot handle is withheld (its text replaced) and counted.
//
// Built-in rules are in core/redact-rules.ts. User rules are RE2 regexes (core/regex.ts: linear
// time); when a rule has a capture group, only the first group is replaced. Field rules name keys
// of JSON records (`ssn`, `user.email`: a path matches at any depth, by its last keys) whose whole
// value is replaced, wherever else that value appears in the event too.

type KeyInfo = {segments: string[]; builtin: number; fields: number[]};

export class Redactor extends TextRedactor {
	private readonly keys = new Memo<KeyInfo | null>(4096);
	private readonly names = new Memo<string>(2048);
	/** Record keys, as redacted. */
	private readonly keyTexts = new Memo<string>(4096);
	/** The raw line while its record is walked, and whether the walk changed a text found whole in it. */
	private rawNow = '';
	private leaked = false;
	/** The last name redacted in each slot (service, host, proc, type), and what it became. */
	private readonly lastName = ['', '', '', ''];
	private readonly lastOut = ['', '', '', ''];
	/** Streams in the middle of a private key block: lines left to treat as its body. */
	private readonly openKeys = new Map<string, number>();
	private readonly path: string[] = [];
	/** Values replaced whole in the current event's record, with their replacements. */
	private pairs: Array<[string | number, string]> = [];
	/** The current event's raw line (redacted spans in rawSpans) while it holds the record's strings. */
	private covering: string | undefined;
	private readonly rawSpans: number[] = [];
	/** Batches left to redact without the screen (core/redact-screen.ts), after one where it found most texts marked. */
	private unscreened = 0;
	/** The screen's flags and the events it clears, kept from batch to batch: a typed array costs much to make. */
	private flags = new Uint8Array(1024);
	private clear = new Uint8Array(1024);

	/** `pseudonym`: the keyed hash of a value, for hash mode (made outside core: it needs the key). */
	constructor(spec: RedactSpec, pseudonym?: (value: string) => string) {
		super(spec, pseudonym);
	}

	/**
	 * Redact every event of a batch in place. Gap markers are logmon's own text and pass.
	 * `screened`: a flag per text of `screenTexts(events)`, 0 where another redactor of the same spec
	 * found nothing (core/redact-queue.ts): such an event's texts are left as they are. Without it,
	 * the built-in rules' WebAssembly screen gives those flags where it can (core/redact-screen.ts).
	 */
	redactBatch(events: readonly EventInit[], screened?: Uint8Array): void {
		const screener = screened === undefined ? this.batchScreen() : undefined;
		if (screener !== undefined && this.unscreened > 0) {
			this.unscreened--;
		} else if (screener !== undefined) {
			try {
				const texts = screenTexts(events);
				if (this.flags.length < texts.length) {
					this.flags = new Uint8Array(2 * texts.length);
				}

				const flagged = screener.screen(texts, this.flags);
				screened = this.flags;

				// Where most texts hold a mark (a stream of secrets) the screen costs more than it spares
				// (it costs about a third of the rules' scans): the next few batches go without it.
				if (texts.length >= 16 && 4 * flagged > 3 * texts.length) {
					this.unscreened = 8;
				}
			} catch (error) {
				// The rules' own scans answer from now on.
				this.screener = undefined;
				this.lastFailure = `the redaction screen failed: ${error instanceof Error ? error.message : String(error)}`;
				this.screenFailure = this.lastFailure;
			}
		}

		// Read before any event is redacted: redacting one may make its raw line its message.
		if (screened !== undefined && this.clear.length < events.length) {
			this.clear = new Uint8Array(2 * events.length);
		}

		const clear = screened === undefined ? undefined : clearEvents(events, screened, this.clear);
		for (let i = 0; i < events.length; i++) {
			const e = events[i]!;
			if (e.marker !== undefined) {
				continue;
			}

			// A stream inside a private key block: its next lines are the key, marks or not.
			if (clear?.[i] === 1 && this.openKeys.size === 0) {
				this.serial++;
				this.redactNames(e);
			} else {
				this.redactEvent(e);
			}
		}
	}

	redactEvent(e: EventInit): void {
		this.serial++;
		try {
			this.rewrite(e);
		} catch (error) {
			// A bug must not let the original through: withhold the text, keep the event.
			this.failures++;
			this.lastFailure = error instanceof Error ? error.message : String(error);
			e.message = '[REDACTED:withheld: redaction failed]';
			e.raw = e.message;
			e.record = undefined;
		}
	}

	private rewrite(e: EventInit): void {
		const raw = e.raw;
		let rawOut = raw;
		let messageOut = e.message;
		let stream: string | undefined;
		if (this.openKeys.size > 0) {
			stream = streamOf(e);
			const left = this.openKeys.get(stream);
			if (left !== undefined) {
				this.openKeys.delete(stream);
				[rawOut, messageOut] = this.keyBody(raw, e.message, left, stream);
			}
		}

		const sameText = messageOut === rawOut;
		e.raw = cutTail(this.text(rawOut));
		if (this.hits.open && this.openKeys.size < 1000) {
			// The block goes on in the stream's next lines (a key printed line by line).
			this.openKeys.set(stream ?? streamOf(e), maxKeyLines);
		}

		const record = e.record !== undefined && e.record !== null && typeof e.record === 'object';
		// A raw line without escapes holds every string of the record parsed from it between quotes,
		// where the built-in rules find what they would find in that string alone: a string there,
		// clear of what was found, needs no second look.
		this.covering = !sameText && this.users.length === 0 && !rawOut.includes('\\') ? rawOut : undefined;
		if (this.covering !== undefined) {
			if (this.rawSpans.length > 0) {
				this.rawSpans.length = 0;
			}

			for (let i = 0; i < this.hits.length; i++) {
				this.rawSpans.push(this.hits.start[i]!, this.hits.end[i]!);
			}
		}

		e.message = sameText ? e.raw : cutTail(this.covered(messageOut) ? messageOut : this.text(messageOut));
		if (record) {
			if (this.pairs.length > 0) {
				this.pairs.length = 0;
			}

			if (this.path.length > 0) {
				this.path.length = 0; // left over by a walk that threw
			}

			const original = e.record;
			this.rawNow = e.raw;
			this.leaked = false;
			e.record = this.walk(e.record, 0, -1);
			if (this.pairs.length > 0) {
				e.record = this.spread(e.record, 0);
				e.raw = this.replacePairs(e.raw, raw);
				e.message = sameText ? e.raw : this.replacePairs(e.message);
				e.service = this.replacePairs(e.service, undefined, true);
				e.host = this.replacePairs(e.host, undefined, true);
				e.proc = this.replacePairs(e.proc, undefined, true);
				e.type = this.replacePairs(e.type, undefined, true);
			}

			// What the walk found in the record but the scan of the raw line did not (a value written
			// with escapes, `\u0041KIA…`; JSON inside a string; a card as a number `4111….0`): a JSON
			// raw line that may still hold it is written again from its parse (which writes its numbers
			// as JavaScript reads them: only then).
			if (e.record !== original && (this.leaked || e.raw.includes('\\'))) {
				e.raw = this.reserialize(e.raw);
				e.message = sameText ? e.raw : e.message;
			}
		}

		this.covering = undefined;
		this.redactNames(e);
	}

	/** Names come from the line or the record too (`{"service": …}`): any rule may match them. Each is most often the last one's again. */
	private redactNames(e: EventInit): void {
		e.service = this.name(e.service, 0);
		e.host = this.name(e.host, 1);
		e.proc = this.name(e.proc, 2);
		e.type = this.name(e.type, 3);
	}

	/** The next line of a stream inside a private key block: its body, or its END line, is replaced. */
	private keyBody(raw: string, message: string, left: number, stream: string): [string, string] {
		const end = privateKeyEnd(raw, 0);
		if (end === -1 && !privateKeyBody(raw)) {
			return [raw, message]; // not key material: the block was cut short
		}

		const index = this.rules.findIndex(r => r.name === 'private-key');
		const replacement = this.replacement(index, end === -1 ? raw : raw.slice(0, end), false);
		if (end === -1) {
			if (left > 1) {
				this.openKeys.set(stream, left - 1);
			}

			return [replacement, replacement];
		}

		const messageEnd = privateKeyEnd(message, 0);
		return [replacement + raw.slice(end), messageEnd === -1 ? replacement : replacement + message.slice(messageEnd)];
	}

	/** A service, host, proc or type (`slot` 0 to 3): most events of a stream repeat the last one's. */
	private name(value: string, slot: number): string {
		if (value === '') {
			return value;
		}

		let out = this.lastOut[slot]!;
		if (value !== this.lastName[slot]) {
			out = this.names.get(value, v => this.text(v));
			this.lastName[slot] = value;
			this.lastOut[slot] = out;
		}

		// A remembered answer still counts as a hit for this event.
		if (out !== value) {
			this.countNameHits(out);
		}

		return out;
	}

	private countNameHits(out: string): void {
		placeholder.lastIndex = 0;
		let m: RegExpExecArray | null;
		while ((m = placeholder.exec(out)) !== null) {
			const name = m[0].startsWith('[REDACTED:') ? m[0].slice(10, -1) : m[0].slice(1, m[0].lastIndexOf(':'));
			const index = this.rules.findIndex(r => r.name === name);
			if (index !== -1) {
				this.count(index);
			}
		}
	}

	/** Walk a record, redacting its strings; returns it, or a copy where something changed. */
	private walk(value: unknown, depth: number, owner: number): unknown {
		if (depth > 100) {
			throw new Error('a record nested more than 100 levels deep');
		}

		if (typeof value === 'string') {
			if (owner !== -1) {
				return this.whole(owner, value);
			}

			if (value.length < this.shortest || this.covered(value)) {
				return value;
			}

			const out = this.text(value);
			this.leaked ||= out !== value && this.rawNow.includes(value);
			return out;
		}

		if (typeof value === 'number') {
			if (owner !== -1) {
				return this.whole(owner, value);
			}

			// A card number written as a JSON number.
			if (Number.isSafeInteger(value) && value >= 1e12 && this.enabled.has('card')) {
				const text = String(value);
				const out = this.text(text);
				this.leaked ||= out !== text;
				return out === text ? value : out;
			}

			return value;
		}

		if (value === null || typeof value !== 'object') {
			return value;
		}

		if (Array.isArray(value)) {
			let copy: unknown[] | undefined;
			for (let i = 0; i < value.length; i++) {
				const v: unknown = value[i];
				const out = this.walk(v, depth + 1, owner);
				if (out !== v) {
					copy ??= [...value];
					copy[i] = out;
				}
			}

			return copy ?? value;
		}

		const proto: unknown = Object.getPrototypeOf(value);
		if (proto !== Object.prototype && proto !== null) {
			return value; // not a record's plain object (a Buffer, a Date): left as it is
		}

		const object = value as Record<string, unknown>;
		let copy: Record<string, unknown> | undefined;
		for (const key in object) {
			const v = object[key];
			const info = this.keys.get(key, k => this.keyInfo(k));
			let rule = owner;
			// The path of keys matters to field rules only.
			const tracked = this.fieldsByKey.size === 0 ? 0 : (info === null ? 1 : info.segments.length);
			if (tracked > 0) {
				this.path.push(...(info === null ? [key] : info.segments));
			}

			if (info !== null) {
				const field = tracked > 0 ? this.matchField(info) : -1;
				rule = field === -1 ? (info.builtin === -1 ? owner : info.builtin) : field;
			}

			const out = rule !== -1 && this.rules[rule]!.kind === 'field' && v !== null && typeof v === 'object' ? this.whole(rule, JSON.stringify(v)) : this.walk(v, depth + 1, rule);
			if (tracked > 0) {
				this.path.length -= tracked;
			}

			// A key is text from the line too (`{"AKIA…": 1}`); most are short words, looked at once each.
			const redacted = this.keyText(key);
			let name = redacted;
			if (name !== key) {
				copy ??= {...object};
				delete copy[key];
				// Two keys redacted alike keep both their values.
				for (let n = 2; Object.hasOwn(copy, name) || Object.hasOwn(object, name); n++) {
					name = `${redacted}#${n}`;
				}

				copy[name] = out;
			} else if (out !== v) {
				copy ??= {...object};
				copy[key] = out;
			}
		}

		return copy ?? object;
	}

	private keyText(key: string): string {
		if (key.length < this.shortest) {
			return key;
		}

		const out = this.keyTexts.get(key, k => this.text(k));
		if (out !== key) {
			this.countNameHits(out);
		}

		return out;
	}

	/** The values replaced whole, replaced in the record's other strings too. */
	private spread(value: unknown, depth: number): unknown {
		if (typeof value === 'string') {
			return this.replacePairs(value);
		}

		if (value === null || typeof value !== 'object' || depth > 100) {
			return value;
		}

		const proto: unknown = Object.getPrototypeOf(value);
		if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
			return value;
		}

		let copy: Record<string, unknown> | unknown[] | undefined;
		const object = value as Record<string, unknown>;
		for (const key in object) {
			const v = object[key];
			const out = this.spread(v, depth + 1);
			if (out !== v) {
				copy ??= Array.isArray(value) ? [...value] : {...object};
				(copy as Record<string, unknown>)[key] = out;
			}
		}

		return copy ?? value;
	}

	/** Is the value in the raw line between quotes, clear of every span redacted there? */
	private covered(value: string): boolean {
		const raw = this.covering;
		if (raw === undefined) {
			return false;
		}

		let i = raw.indexOf(value);
		for (let tries = 0; i !== -1 && tries < 8; tries++) {
			if (i > 0 && i + value.length < raw.length && raw.charCodeAt(i - 1) === 0x22 && raw.charCodeAt(i + value.length) === 0x22) {
				const spans = this.rawSpans;
				let clear = true;
				for (let k = 0; k < spans.length && clear; k += 2) {
					clear = spans[k + 1]! <= i || spans[k]! >= i + value.length;
				}

				if (clear) {
					return true;
				}
			}

			i = raw.indexOf(value, i + 1);
		}

		return false;
	}

	private keyInfo(key: string): KeyInfo | null {
		const builtin = keyRule(key, this.enabled);
		const segments = key.includes('.') ? key.split('.') : [key];
		const fields = this.fieldsByKey.get(segments.at(-1)!) ?? [];
		if (builtin === undefined && fields.length === 0 && segments.length === 1) {
			return null;
		}

		return {segments, builtin: builtin === undefined ? -1 : this.rules.findIndex(r => r.name === builtin && r.kind === 'built-in'), fields};
	}

	/** The field rule whose path ends the current path, or -1. */
	private matchField(info: KeyInfo): number {
		for (const index of info.fields) {
			const want = this.rules[index]!.field!;
			const have = this.path;
			if (want.length <= have.length && want.every((s, i) => have[have.length - want.length + i] === s)) {
				return index;
			}
		}

		return -1;
	}

	/** A value a rule owns whole (a password field, a field rule): replaced, and remembered. */
	private whole(index: number, value: string | number): string | number {
		if (value === '' || (typeof value === 'string' && isPlaceholder(value))) {
			return value;
		}

		const out = this.replacement(index, String(value), false);
		this.pairs.push([value, out]);
		return out;
	}

	/**
	 * The values replaced in the record, replaced in a text too: in the raw line as JSON (`"value"`;
	 * `original` is the raw line before redaction), in the message as written (values of 4 characters
	 * or more), or in a name when it is the whole value (`exact`).
	 */
	private replacePairs(text: string, original?: string, exact = false): string {
		let out = text;
		for (const [value, replacement] of this.pairs) {
			if (exact) {
				out = out === String(value) ? replacement : out;
			} else if (typeof value === 'number') {
				out = replaceNumber(out, String(value), original === undefined ? replacement : JSON.stringify(replacement));
			} else if (original !== undefined) {
				const needle = JSON.stringify(value);
				if (out.includes(needle)) {
					out = out.split(needle).join(JSON.stringify(replacement));
				} else if (!original.includes(needle)) {
					return this.reserialize(text); // written with other escapes: once, for every value
				} // else a text rule replaced it already

				// Inside other strings too (a message that quotes the value).
				const inner = needle.slice(1, -1);
				if (inner.length >= 4 && out.includes(inner)) {
					out = out.split(inner).join(replacement);
				}
			} else if (value.length >= 4 && out.includes(value)) {
				out = out.split(value).join(replacement);
			}
		}

		return out;
	}

	/** A JSON line whose value is written with other escapes (`\u0040`): written again from its parse. */
	private reserialize(raw: string): string {
		let parsed: unknown;
		try {
			parsed = JSON.parse(raw);
		} catch {
			return raw; // not JSON: the value was never in it as JSON
		}

		const pairs = this.pairs;
		this.pairs = [];
		const path = [...this.path];
		this.path.length = 0;
		const out = this.walk(parsed, 0, -1);
		this.pairs = pairs;
		this.path.push(...path);
		return out === parsed ? raw : JSON.stringify(out);
	}
}

const maxCutWord = 1024;

/** Does the text end as a cut line's marker does (core/lines.ts truncationMarker)? */
function cutLine(text: string): boolean {
	return text.charCodeAt(text.length - 1) === 0x5D && text.endsWith(' bytes]');
}

/** A line cut short loses the word it was cut in (--max-line): what is left of a secret there is too short for its rule, and would show. */
function cutTail(text: string): string {
	if (!cutLine(text)) {
		return text;
	}

	// A cut of 0 bytes cut nothing (a forwarder that left out other fields says so).
	const marker = text.lastIndexOf(' …[truncated ');
	if (marker <= 0 || !/^ …\[truncated [1-9]\d* bytes\]$/.test(text.slice(marker))) {
		return text;
	}

	// A word longer than any rule's value (1 KiB) is no secret's rest: it stays, as cut.
	let start = marker;
	while (start > 0 && marker - start <= maxCutWord && !/\s/.test(text[start - 1]!)) {
		start--;
	}

	const word = text.slice(start, marker);
	return word === '' || word.length > maxCutWord || word.endsWith(']') ? text : text.slice(0, start) + '[REDACTED:cut]' + text.slice(marker);
}

function replaceNumber(text: string, digits: string, replacement: string): string {
	let out = '';
	let last = 0;
	let i = text.indexOf(digits);
	while (i !== -1) {
		const before = i > 0 ? text.charCodeAt(i - 1) : 0;
		const after = i + digits.length < text.length ? text.charCodeAt(i + digits.length) : 0;
		const bounded = !(before >= 0x30 && before <= 0x39) && before !== 0x2E && !(after >= 0x30 && after <= 0x39) && after !== 0x2E;
		if (bounded) {
			out += text.slice(last, i) + replacement;
			last = i + digits.length;
		}

		i = text.indexOf(digits, i + digits.length);
	}

	return last === 0 ? text : out + text.slice(last);
}

/** Lines of a private key block printed one per event that are taken as its body, at most. */
const maxKeyLines = 200;

function streamOf(e: EventInit): string {
	return `${e.sourceId}\u0000${e.service}\u0000${e.host}\u0000${e.proc}`;
}

/** An event whose texts alone decide what redaction does to them: no record to walk. */
function screenable(e: EventInit): boolean {
	return e.record === undefined || e.record === null || typeof e.record !== 'object';
}

/**
 * The texts of a batch another thread may screen (`mayChange`), in order: each event's message, and
 * its raw line where that differs; none of markers and of events with a record.
 */
export function screenTexts(events: readonly EventInit[]): string[] {
	const texts: string[] = [];
	for (const e of events) {
		if (e.marker === undefined && screenable(e)) {
			texts.push(e.message);
			if (e.raw !== e.message) {
				texts.push(e.raw);
			}
		}
	}

	return texts;
}

/** Per event, into `clear`: 1 where `screened` (a flag per text of `screenTexts(events)`) clears all its texts. */
function clearEvents(events: readonly EventInit[], screened: Uint8Array, clear: Uint8Array): Uint8Array {
	let k = 0;
	for (let i = 0; i < events.length; i++) {
		const e = events[i]!;
		let clean = 0;
		if (e.marker === undefined && screenable(e)) {
			const two = e.raw !== e.message;
			// A cut line loses the word it was cut in whatever the rules find (cutTail): never clear.
			clean = screened[k] === 0 && (!two || screened[k + 1] === 0) && !cutLine(e.message) && (!two || !cutLine(e.raw)) ? 1 : 0;
			k += two ? 2 : 1;
		}

		clear[i] = clean;
	}

	return clear;
}

/** The stage for a spec, or a FilterError naming the flag or config key at fault. */
export function compileRedaction(spec: RedactSpec, pseudonym?: (value: string) => string): Redactor {
	return new Redactor(spec, pseudonym);
}

export {type RedactHealth, type RedactMode, type RedactSpec, type RuleHealth, type RuleKind, checkField, compileUserRules, describeRedaction, ruleNames} from './redact-spec.js';
export {builtinRules} from './redact-rules.js';
