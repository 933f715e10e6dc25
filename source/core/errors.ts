import {type Level, type LogEvent, headOf, levelRank} from './event.js';
import {Histogram} from './histogram.js';

// Error grouping. Every ERROR/CRITICAL event, 5xx response, php-error and
// apache-error line is reduced to a fingerprint (its message with the parts
// that vary masked: UUIDs, URLs, IPs, hex, paths, ids and numbers), and counted
// per fingerprint. The fingerprint is the key, not for reading: views show the
// latest message of a group with its varying parts (`varyingParts`) dimmed. The number of groups is capped; the least recently seen
// group is evicted first. Fed by bus.subscribe, O(batch).

const errorTypes = new Set(['php-error', 'apache-error']);

/** True for the events the error list counts. Gap markers never are. */
export function isErrorEvent(e: LogEvent): boolean {
	if (e.marker) {
		return false;
	}

	return levelRank[e.level] >= levelRank.ERROR || (e.status !== undefined && e.status >= 500 && e.status <= 599) || errorTypes.has(e.type);
}

// One pass, leftmost match; at the same position the earlier alternative wins. No part depends on
// which digit it sees, only on where digits are, but for the 0 of "0x" (alert-fingerprints.ts relies
// on it; errors.test.ts checks it).
const month = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*';
const weekday = '(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*';
const maskParts = [
	// Timestamps first, so "Mon Dec 05 19:14:09 2005" is one <time>, not five numbers.
	// ISO 8601, syslog/ctime ("Mon Dec 05 19:14:09 2005"), Apache's common log format ("10/Dec/2023:06:55:46 +0000"), a bare clock.
	String.raw`(?<time>\b\d{1,2}/${month}/\d{4}:\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?|\b\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:z|[+-]\d{2}:?\d{2})?|\b(?:${weekday},? +)?(?:${month} +\d{1,2}|\d{1,2} +${month})(?: +\d{4})?,? +\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?: +\d{4})?|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?)`,
	String.raw`(?<uuid>\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)`,
	String.raw`(?<url>\b[a-z][a-z0-9+.-]*://[^\s"'<>]+)`,
	String.raw`(?<ip>\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b|(?<![\w:])(?=[0-9a-f:]*(?:::|[a-f][0-9a-f]*:))(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:]))`,
	String.raw`(?<hex>\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b)`,
	String.raw`(?<path>(?<![\w:/.])(?:[a-z]:)?(?:[/\\][\w.~%+@-]+){1,}[/\\]?)`,
	String.raw`(?<id>\b(?=[\w-]*[a-z_])(?=[\w-]*\d)[\w-]{5,}\b)`,
	String.raw`(?<num>[-+]?\d+(?:[.,]\d+)*)`,
];
const maskPattern = new RegExp(maskParts.join('|'), 'gi');

const maskFor = {time: '<time>', uuid: '<uuid>', url: '<url>', ip: '<ip>', hex: '<hex>', path: '<path>', id: '<id>', num: '<n>'} as const;

// For `fingerprint`, the same parts with numbered groups: named groups make the engine build a
// groups object for every match, which cost several times the matching itself. And a part that
// cannot match in a text is left out of the pattern used on it (the others match just the same,
// and each part left out is one less try at every position): a time needs a colon, a UUID a
// hyphen, a URL "://", an IP address a dot or a colon, a path a slash or a backslash.
const numberedParts = maskParts.map(p => p.replace(/^\(\?<\w+>/, '('));
const maskKinds = Object.keys(maskFor) as Array<keyof typeof maskFor>;
const leaveOut: Partial<Record<keyof typeof maskFor, number>> = {time: 1, uuid: 2, url: 4, ip: 8, path: 16};

type Masker = {readonly pattern: RegExp; readonly masks: readonly string[]};

/** By the parts left out (a sum of `leaveOut` values). */
const maskers: Masker[] = [];

function maskerFor(text: string): Masker {
	const colon = text.includes(':');
	let out = 0;
	if (!colon) {
		out |= leaveOut.time!;
	}

	if (!text.includes('-')) {
		out |= leaveOut.uuid!;
	}

	if (!colon || !text.includes('://')) {
		out |= leaveOut.url!;
	}

	if (!colon && !text.includes('.')) {
		out |= leaveOut.ip!;
	}

	if (!text.includes('/') && !text.includes('\\')) {
		out |= leaveOut.path!;
	}

	let masker = maskers[out];
	if (!masker) {
		const kept = [...maskKinds.keys()].filter(i => ((leaveOut[maskKinds[i]!] ?? 0) & out) === 0);
		masker = {
			pattern: new RegExp(kept.map(i => numberedParts[i]!).join('|'), 'gi'),
			masks: kept.map(i => maskFor[maskKinds[i]!]),
		};
		maskers[out] = masker;
	}

	return masker;
}

/** Longest message prefix that is fingerprinted; the rest rarely tells groups apart. */
export const fingerprintLength = 300;

/**
 * Whitespace the fingerprint's one-space rule changes: a run of two or more, or one that is not
 * a space. Replacing only these gives what replacing every run would, without rebuilding a
 * string for each single space.
 */
const untidySpace = /\s{2,}|[^\S ]/g;

/** The message with its varying parts masked, e.g. "timeout after <n> ms from <ip>". */
export function fingerprint(message: string): string {
	const text = message.length > fingerprintLength ? message.slice(0, fingerprintLength) : message;
	// An exec loop, not replace with a callback: that call, with its arguments, cost a third of the masking.
	const {pattern, masks} = maskerFor(text);
	pattern.lastIndex = 0;
	let masked = '';
	let from = 0;
	let m: RegExpExecArray | null;
	while ((m = pattern.exec(text)) !== null) {
		let mask = m[0];
		for (let i = 0; i < masks.length; i++) {
			if (m[i + 1] !== undefined) {
				mask = masks[i]!;
				break;
			}
		}

		masked += text.slice(from, m.index) + mask;
		from = pattern.lastIndex;
		if (m[0].length === 0) {
			pattern.lastIndex++; // no part is empty; should one ever be, step on
		}
	}

	masked = from === 0 ? text : masked + text.slice(from);
	return masked.replace(untidySpace, ' ').trim();
}

/**
 * Fingerprints of the last distinct messages, so an error repeated word for word (a retry
 * loop, a flapping peer) is masked once. Two, compared in turn: on real logs most repeats
 * come straight after each other, and each comparison of two messages costs a little.
 */
export class FingerprintCache {
	private readonly messages: string[] = [];
	private readonly fingerprints: string[] = [];
	private next = 0;

	constructor(readonly size = 2) {}

	get(message: string): string {
		const {messages} = this;
		for (let i = 0; i < messages.length; i++) {
			if (messages[i] === message) {
				return this.fingerprints[i]!;
			}
		}

		const fp = fingerprint(message);
		if (message.length <= fingerprintLength) {
			// Longer ones are not kept (nor held alive): they rarely repeat whole.
			messages[this.next] = message;
			this.fingerprints[this.next] = fp;
			this.next = (this.next + 1) % this.size;
		}

		return fp;
	}
}

export type VaryingPart = {start: number; end: number; kind: keyof typeof maskFor};

/**
 * Where a message's varying parts are: what `fingerprint` masks, as UTF-16
 * ranges of the message, within its first 300 characters.
 */
export function varyingParts(message: string): VaryingPart[] {
	const text = message.length > fingerprintLength ? message.slice(0, fingerprintLength) : message;
	const out: VaryingPart[] = [];
	for (const m of text.matchAll(maskPattern)) {
		const groups = m.groups ?? {};
		for (const name in groups) {
			if (groups[name] !== undefined) {
				out.push({start: m.index, end: m.index + m[0].length, kind: name as VaryingPart['kind']});
				break;
			}
		}
	}

	return out;
}

/** The longest message (and line) a group keeps of its latest event. */
const maxLatest = 32 * 1024;

/**
 * A group keeps its latest event whole up to 32 Ki characters; past that, a copy cut there, with
 * no record: 500 groups of 1 MiB lines would be 1 GB, in each of the lists that group them.
 */
export function latestOf(e: LogEvent): LogEvent {
	if (e.message.length <= maxLatest && e.raw.length <= maxLatest) {
		return e;
	}

	const cut = (text: string): string => {
		const head = headOf(text, maxLatest);
		return head === text ? text : `${head}… (${text.length - head.length} more characters)`;
	};

	return {...e, message: cut(e.message), raw: cut(e.raw), record: undefined};
}

export type ErrorGroup = {
	readonly fingerprint: string;
	count: number;
	/** Receive times, ms since the epoch. */
	firstSeen: number;
	lastSeen: number;
	/** Services seen with this error (at most `maxServices`; `moreServices` counts the rest). */
	readonly services: Set<string>;
	moreServices: boolean;
	/** Most severe level seen. */
	level: Level;
	/** The latest occurrence, kept whole (the tail buffer may have dropped it) up to `latestOf`'s cut. */
	latest: LogEvent;
	readonly histogram: Histogram;
};

export type ErrorGroupsOptions = {
	/** Groups kept; the least recently seen is evicted. Default 500. */
	maxGroups?: number;
	/** Sparkline buckets and their width. Default 30 × 10 s (the last five minutes). */
	buckets?: number;
	bucketMs?: number;
	maxServices?: number;
};

export type ErrorSort = 'recent' | 'count';

export class ErrorGroups {
	readonly maxGroups: number;
	readonly buckets: number;
	readonly bucketMs: number;
	private readonly maxServices: number;
	/** Insertion order is recency order: a group is moved to the end when seen. */
	private readonly groups = new Map<string, ErrorGroup>();
	/** Error events counted since start. */
	total = 0;
	/** Groups evicted to stay within maxGroups. */
	evicted = 0;
	/** Bumped whenever a batch held an error; views compare it to skip work. */
	version = 0;

	constructor(options: ErrorGroupsOptions = {}) {
		this.maxGroups = options.maxGroups ?? 500;
		this.buckets = options.buckets ?? 30;
		this.bucketMs = options.bucketMs ?? 10_000;
		this.maxServices = options.maxServices ?? 8;
	}

	get size(): number {
		return this.groups.size;
	}

	add(events: readonly LogEvent[]): void {
		let changed = false;
		for (const e of events) {
			if (isErrorEvent(e)) {
				this.addOne(e);
				changed = true;
			}
		}

		if (changed) {
			this.version++;
		}
	}

	private addOne(e: LogEvent): void {
		this.total++;
		const key = fingerprint(e.message);
		let g = this.groups.get(key);
		if (g) {
			this.groups.delete(key); // re-inserted below: now the most recent
		} else {
			g = {
				fingerprint: key,
				count: 0,
				firstSeen: e.receivedAt,
				lastSeen: e.receivedAt,
				services: new Set(),
				moreServices: false,
				level: e.level,
				latest: e,
				histogram: new Histogram(this.buckets, this.bucketMs),
			};
			if (this.groups.size >= this.maxGroups) {
				const oldest = this.groups.keys().next().value!;
				this.groups.delete(oldest);
				this.evicted++;
			}
		}

		this.groups.set(key, g);
		g.count++;
		g.lastSeen = Math.max(g.lastSeen, e.receivedAt);
		g.latest = latestOf(e);
		if (levelRank[e.level] > levelRank[g.level]) {
			g.level = e.level;
		}

		if (e.service && !g.services.has(e.service)) {
			if (g.services.size < this.maxServices) {
				g.services.add(e.service);
			} else {
				g.moreServices = true;
			}
		}

		g.histogram.add(e.receivedAt);
	}

	get(fingerprint: string): ErrorGroup | undefined {
		return this.groups.get(fingerprint);
	}

	/** Groups, most recent first (or by count), at most `limit`. */
	list(sort: ErrorSort = 'recent', limit = Number.POSITIVE_INFINITY): ErrorGroup[] {
		const all = [...this.groups.values()].reverse();
		if (sort === 'count') {
			all.sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
		}

		return all.slice(0, limit);
	}
}
