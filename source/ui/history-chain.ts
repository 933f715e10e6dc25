import {type LogEvent, eventChars} from '../core/event.js';

// The history rows the tail shows above the events in memory: pages of events read from the
// store, page 0 ending just before the chain's top (the start of this run, or the oldest event
// in memory), page 1 before page 0's oldest event, and so on. A row's place in the tail is its
// `seq`, rewritten below every live event's: page i's rows take -(i·stride)-1 downwards, so a
// page read again, or older pages added, never move the others. Only some pages are held, a
// contiguous run of them (a bounded window); a page let go is read again by its key when the
// view comes back to it. Where pages are not held, one `loading…` row stands for them.
//
// A page ends at `pageSize` events or once its text reaches `pageChars`, whichever comes first, and
// the pages held are bounded in rows and in text: a line may be up to --max-line (1 MiB) long.
//
// Rows the chain makes itself carry `marker: 'history'`: where the history of earlier runs ends
// and this run begins (the seam), `loading…`, and the oldest event in the history.

/** Where an event is in receive order: the reader's paging key. */
export type Key = Pick<LogEvent, 'receivedAt' | 'seq'>;

export function keyOf(e: Key): Key {
	return {receivedAt: e.receivedAt, seq: e.seq};
}

/** True when `a` was received before `b`. */
export function receivedBefore(a: Key, b: Key): boolean {
	return a.receivedAt < b.receivedAt || (a.receivedAt === b.receivedAt && a.seq < b.seq);
}

export const seamText = 'history above · live below';
export const loadingText = 'loading…';
export const oldestText = 'oldest event in the history';

/** What a row the chain made stands for. */
type Standin = {kind: 'seam' | 'oldest' | 'loading'} | {kind: 'pages'; newest: number; oldest: number};

const standins = new WeakMap<LogEvent, Standin>();

function standin(seq: number, message: string, info: Standin): LogEvent {
	const e: LogEvent = {seq, time: 0, receivedAt: 0, sourceId: '', sourceKind: 'stdin', service: '', host: '', proc: '', type: '', level: 'INFO', message, raw: message, marker: 'history'};
	standins.set(e, info);
	return e;
}

/** For a `loading…` row that stands for pages not held: their numbers. */
export function standinPages(e: LogEvent): {newest: number; oldest: number} | undefined {
	const info = standins.get(e);
	return info?.kind === 'pages' ? info : undefined;
}

/** True for the chain's top `loading…` row (older pages being read). */
export function isLoadingTop(e: LogEvent): boolean {
	return standins.get(e)?.kind === 'loading';
}

export type Page = {
	/** Oldest first, seqs rewritten. */
	rows: LogEvent[];
	/** The original seq of each row (undefined for the seam). */
	original: Array<number | undefined>;
	events: number;
	/** The text of its events (eventChars). */
	chars: number;
};

export type ChainOptions = {
	/** Events per page read from the store. */
	pageSize: number;
	/** Rows held at most (whole pages; at least three pages are kept). */
	maxRows: number;
	/** A page ends once its events' text reaches this. Default 8 Mi characters. */
	pageChars?: number;
	/** Text held at most, as for maxRows. Default 128 Mi characters. */
	maxChars?: number;
	/** Receive time of this run's first event: older events are history, and the seam goes between. */
	runStart: number;
};

export const defaultPageChars = 8 * 1024 * 1024;
const defaultMaxChars = 128 * 1024 * 1024;

/** The text of events, as a page counts it. */
export function textOf(events: readonly LogEvent[]): number {
	let chars = 0;
	for (const e of events) {
		chars += eventChars(e);
	}

	return chars;
}

/**
 * Where the page that begins at `from` ends (exclusive): at `pageSize` events, or past the event
 * whose text reaches `pageChars`; one event at least.
 */
export function pageEnd(events: readonly LogEvent[], from: number, pageSize: number, pageChars: number): number {
	let chars = 0;
	let i = from;
	while (i < events.length && (i === from || (i - from < pageSize && chars < pageChars))) {
		chars += eventChars(events[i]!);
		i++;
	}

	return i;
}

export class HistoryChain {
	readonly stride: number;
	/** tops[i]: page i holds events received before this key; tops[i + 1] is its oldest event's. */
	private readonly tops: Key[];
	private readonly pages = new Map<number, Page>();
	/** No events before the last known page. */
	exhausted = false;
	/** Pages being read (the next older page has number `known`). */
	readonly loading = new Set<number>();
	/** Bumped when a page comes or goes. */
	version = 0;
	/** Bumped when known pages are forgotten: a read begun before then is dropped. */
	generation = 0;
	/** A history search is adding the older pages: no other read adds them meanwhile. */
	extending = false;
	private cache: {version: number; rows: LogEvent[]} | undefined;

	readonly pageChars: number;
	private readonly maxChars: number;

	constructor(top: Key, readonly evictedAt: number, readonly options: ChainOptions) {
		this.tops = [keyOf(top)];
		this.stride = options.pageSize + 2;
		this.pageChars = options.pageChars ?? defaultPageChars;
		this.maxChars = options.maxChars ?? defaultMaxChars;
	}

	/** True when a read of a page came back short of a whole page: the history has nothing older. */
	isLast(newestFirst: readonly LogEvent[]): boolean {
		return newestFirst.length < this.options.pageSize && textOf(newestFirst) < this.pageChars;
	}

	/** Pages whose keys are known (held or not). */
	get known(): number {
		return this.tops.length - 1;
	}

	/** Events before this key belong to page `page`. */
	top(page: number): Key {
		return this.tops[page]!;
	}

	/** Page `page`'s oldest event, once known. */
	bottom(page: number): Key | undefined {
		return this.tops[page + 1];
	}

	/** Held pages, newest first. */
	held(): number[] {
		return [...this.pages.keys()].sort((a, b) => a - b);
	}

	heldRows(): number {
		let n = 0;
		for (const p of this.pages.values()) {
			n += p.rows.length;
		}

		return n;
	}

	heldChars(): number {
		let n = 0;
		for (const p of this.pages.values()) {
			n += p.chars;
		}

		return n;
	}

	/** The page a row of this chain is on. */
	pageOf(seq: number): number {
		return Math.floor((-seq - 1) / this.stride);
	}

	/**
	 * The next older page, read after the last known one (events newest first). `last`: the
	 * history has nothing older (a read of a whole page that came back short).
	 */
	addOlder(newestFirst: readonly LogEvent[], hold = true, last = this.isLast(newestFirst)): Page | undefined {
		if (last) {
			this.exhausted = true;
		}

		if (newestFirst.length === 0) {
			this.version++;
			return undefined;
		}

		const i = this.known;
		this.tops.push(keyOf(newestFirst.at(-1)!));
		const page = this.build(i, newestFirst);
		if (hold) {
			this.pages.set(i, page);
		}

		this.version++;
		return page;
	}

	/** Page `page` read again (events newest first, before its top); what is past its bottom is left out. */
	fill(page: number, newestFirst: readonly LogEvent[]): void {
		const bottom = this.bottom(page);
		if (!bottom) {
			return;
		}

		const events = newestFirst.filter(e => !receivedBefore(e, bottom));
		this.pages.set(page, this.build(page, events));
		this.version++;
	}

	/** A page is being read: its `loading…` row shows. */
	startLoading(page: number): void {
		this.loading.add(page);
		this.version++;
	}

	doneLoading(page: number): void {
		if (this.loading.delete(page)) {
			this.version++;
		}
	}

	/** Let a page go (it can be read again by its key). */
	release(page: number): void {
		if (this.pages.delete(page)) {
			this.version++;
		}
	}

	releaseAll(): void {
		if (this.pages.size > 0) {
			this.pages.clear();
			this.version++;
		}
	}

	/** Forget pages from `page` on: a search reads them again from there. */
	truncate(page: number): void {
		this.tops.length = Math.min(this.tops.length, page + 1);
		for (const p of this.pages.keys()) {
			if (p >= page) {
				this.pages.delete(p);
			}
		}

		this.exhausted = false;
		this.loading.clear();
		this.generation++;
		this.version++;
	}

	/**
	 * Keep at most `maxRows` rows and `maxChars` of text (and at least three pages), letting go of the held pages
	 * farthest from the view (pages `first` to `last`, 0 the newest) first; the pages in view and
	 * the one on each side of them are kept whatever it costs.
	 */
	trim(first: number, last: number): void {
		const max = Math.max(this.options.maxRows, this.options.pageSize * 3);
		const maxChars = Math.max(this.maxChars, this.pageChars * 3);
		while (this.heldRows() > max || this.heldChars() > maxChars) {
			const far = this.held().filter(p => p < first - 1 || p > last + 1);
			if (far.length === 0) {
				return;
			}

			const distance = (p: number): number => (p < first ? first - p : p - last);
			this.release(far.reduce((a, b) => (distance(b) > distance(a) ? b : a)));
		}
	}

	/** The original key of a held row, for the reader. */
	original(seq: number): Key | undefined {
		const page = this.pages.get(this.pageOf(seq));
		if (!page) {
			return undefined;
		}

		const j = page.rows.findIndex(r => r.seq === seq);
		const original = j < 0 ? undefined : page.original[j];
		return original === undefined ? undefined : {receivedAt: page.rows[j]!.receivedAt, seq: original};
	}

	/** Where a held row read from the history is, by the event's own receive time and seq. */
	find(key: Key): number | undefined {
		for (const page of this.pages.values()) {
			for (const [j, row] of page.rows.entries()) {
				if (page.original[j] === key.seq && row.receivedAt === key.receivedAt) {
					return row.seq;
				}
			}
		}

		return undefined;
	}

	/** Every row, oldest first: held pages, and a stand-in for each run of pages not held. */
	rows(): LogEvent[] {
		if (this.cache?.version === this.version) {
			return this.cache.rows;
		}

		const out: LogEvent[] = [];
		const n = this.known;
		if (this.exhausted && n > 0 && this.pages.has(n - 1)) {
			out.push(standin(-(n * this.stride) - 1, oldestText, {kind: 'oldest'}));
		} else if (!this.exhausted && this.loading.has(n)) {
			out.push(standin(-(n * this.stride) - 1, loadingText, {kind: 'loading'}));
		}

		for (let i = n - 1; i >= 0; i--) {
			const page = this.pages.get(i);
			if (page) {
				out.push(...page.rows);
				continue;
			}

			let newest = i;
			while (newest > 0 && !this.pages.has(newest - 1)) {
				newest--;
			}

			out.push(standin(-((i + 1) * this.stride), loadingText, {kind: 'pages', newest, oldest: i}));
			i = newest;
		}

		this.cache = {version: this.version, rows: out};
		return out;
	}

	/** The stand-in for pages newer than those held, when there is one: the chain's newest row. */
	newerStandin(): LogEvent | undefined {
		const last = this.rows().at(-1);
		return last && standinPages(last) ? last : undefined;
	}

	/** Index of the first row with seq > `seq`. */
	indexAfter(seq: number): number {
		const rows = this.rows();
		let lo = 0;
		let hi = rows.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (rows[mid]!.seq <= seq) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}

		return lo;
	}

	get size(): number {
		return this.rows().length;
	}

	at(index: number): LogEvent | undefined {
		return this.rows()[index];
	}

	/** Up to `count` rows before `beforeSeq` (or the newest), oldest first. */
	tail(count: number, beforeSeq?: number): LogEvent[] {
		const rows = this.rows();
		const end = beforeSeq === undefined ? rows.length : this.indexAfter(beforeSeq - 1);
		return rows.slice(Math.max(0, end - count), end);
	}

	/** Up to `count` rows after `afterSeq`, oldest first. */
	after(afterSeq: number, count: number): LogEvent[] {
		const start = this.indexAfter(afterSeq);
		return this.rows().slice(start, start + count);
	}

	/** Page `page`'s rows from events newest first: seqs rewritten, the seam put in. */
	private build(page: number, newestFirst: readonly LogEvent[]): Page {
		const {runStart} = this.options;
		let newerIsLive = this.tops[page]!.receivedAt >= runStart;
		const rows: LogEvent[] = [];
		const original: Array<number | undefined> = [];
		let seq = -(page * this.stride) - 1;
		for (const e of newestFirst) {
			if (newerIsLive && e.receivedAt < runStart) {
				rows.push(standin(seq--, seamText, {kind: 'seam'}));
				original.push(undefined);
				newerIsLive = false;
			}

			rows.push({...e, seq: seq--});
			original.push(e.seq);
		}

		return {rows: rows.reverse(), original: original.reverse(), events: newestFirst.length, chars: textOf(newestFirst)};
	}
}
