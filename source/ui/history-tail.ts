import {type LogEvent} from '../core/event.js';
import {type Filter} from '../core/filter.js';
import {type Store} from '../core/store.js';
import {type HistoryReader} from '../history/types.js';
import {HistoryChain, type Key, keyOf, pageEnd, standinPages} from './history-chain.js';
import {TailRows, memoryRows} from './history-rows.js';
import {type Rows, type Scannable} from './scan.js';
import {type UiState} from './state.js';

// The tail over the history: at start, the last events of the history above the live ones
// (the last `--buffer` events or the last hour, whichever is less), and, when the view goes up
// past them or past the oldest event in memory, older pages read from the store. Reads run off
// the frame path: a frame only starts them (`check`), and the rows come in when they are read.

/** Events per page read from the store. */
export const defaultPageSize = 1000;

/** How far back the start fill looks. */
const startWindowMs = 3_600_000;

export type TailHistoryHost = {
	readonly state: UiState;
	readonly store: Store;
	readonly reader: HistoryReader;
	/** Receive time when this run began: older events are history. */
	readonly runStart: number;
	/** The tail's filter: pages are read through it. */
	filter(): Filter;
	/** Something to draw. */
	changed(): void;
	notify(text: string): void;
};

export class TailHistory {
	chain: HistoryChain | undefined;
	readonly pageSize: number;
	private readonly maxRows: number;
	private failed = false;

	constructor(private readonly host: TailHistoryHost, options: {pageSize?: number} = {}) {
		this.pageSize = options.pageSize ?? defaultPageSize;
		this.maxRows = Math.max(host.store.capacity, this.pageSize * 3);
	}

	/**
	 * Fill the tail from the history, before the sources start; `seed` gets the same events
	 * (unfiltered) for the error list and the statistics.
	 */
	async start(seed: (events: LogEvent[]) => void): Promise<void> {
		const {reader, runStart, store} = this.host;
		const chain = this.newChain();
		this.chain = chain;
		chain.startLoading(0);
		let events: LogEvent[];
		try {
			events = await reader.newest(store.capacity, runStart - startWindowMs, store.maxChars);
		} catch (error) {
			chain.doneLoading(0);
			this.fail(error);
			return;
		}

		chain.doneLoading(0);
		events = events.filter(e => e.receivedAt < runStart);
		seed(events);
		if (this.chain === chain) {
			const filter = this.host.filter();
			const shown = filter.all ? events : events.filter(e => filter.test(e));
			// Pages as a read from the store would cut them, so one let go reads back the same.
			const newestFirst = shown.slice().reverse();
			for (let from = 0; from < newestFirst.length;) {
				const end = pageEnd(newestFirst, from, this.pageSize, chain.pageChars);
				chain.addOlder(newestFirst.slice(from, end), true, false);
				from = end;
			}
		}

		this.host.changed();
	}

	/** The tail's rows: `live` (the store, filtered) with the history's above. */
	rows(live: Rows): Rows {
		return this.chain ? new TailRows(live, this.chain) : live;
	}

	/** What a search looks through in memory. */
	memory(): Scannable {
		return memoryRows(this.chain, this.host.store);
	}

	/** The lowest seq the tail can still show: anything below is clamped. */
	floor(): number {
		return this.chain ? Number.NEGATIVE_INFINITY : (this.host.store.at(0)?.seq ?? 0);
	}

	/** The filter changed: pages read through the old one are dropped. */
	reset(): void {
		this.chain = undefined;
	}

	/** The chain a search extends, made when there is none. */
	searchChain(): HistoryChain {
		this.chain ??= this.newChain();
		return this.chain;
	}

	busy(): string | undefined {
		return this.chain && this.chain.loading.size > 0 ? 'loading history…' : undefined;
	}

	/** Where the tail shows an event read from the history, if it holds it. */
	find(e: Key): number | undefined {
		return this.chain?.find(e);
	}

	/** Before each frame: drop a chain that no longer meets the events in memory. */
	prune(): void {
		const {state: s, store} = this.host;
		const {chain} = this;
		if (chain && store.evicted !== chain.evictedAt && (s.following || s.anchorSeq > 0)) {
			// The store has moved on: this chain no longer ends where memory begins.
			this.chain = undefined;
		} else if (chain && s.following && (chain.held()[0] ?? 0) > 0) {
			chain.releaseAll(); // back at the live end: the far pages are read again when needed
		}
	}

	/** Called with each frame's visible rows: start reading the pages the view is near. Never waits. */
	check(visible: readonly LogEvent[], height: number, rows: Rows): void {
		const s = this.host.state;
		let {chain} = this;
		if (this.failed) {
			return;
		}

		// Memory stays bounded: the held pages far from the view go (they are read again when needed).
		const inView = chain ? visible.filter(e => e.seq < 0).map(e => chain!.pageOf(e.seq)) : [];
		chain?.trim(inView.length > 0 ? Math.min(...inView) : 0, inView.length > 0 ? Math.max(...inView) : 0);
		for (const e of visible) {
			const pages = chain && standinPages(e);
			if (chain && pages) {
				// The end of the run next to the held pages (page 0, next to memory, when none are held).
				const held = chain.held();
				const heldAreOlder = held.length > 0 && held[0]! > pages.oldest;
				this.load(chain, heldAreOlder ? pages.oldest : pages.newest);
			}
		}

		// The older end: read the next page when the view's top is in the oldest page, or at the
		// top of everything (following too, while the screen is not full).
		if (s.following && visible.length >= height) {
			return;
		}

		// Only past a held page: pages known but let go are read again first (above).
		const n = chain?.known ?? 0;
		if (chain && n > 0 && !chain.held().includes(n - 1)) {
			return;
		}

		const top = visible[0];
		const atTop = !top || rows.tail(1, top.seq).length === 0;
		if (!atTop && !(chain && top.seq < 0 && chain.pageOf(top.seq) >= n - 1)) {
			return;
		}

		chain ??= this.chain = this.newChain();
		if (!chain.exhausted && !chain.extending && !chain.loading.has(chain.known)) {
			this.load(chain, chain.known);
		}
	}

	private newChain(): HistoryChain {
		const {store, runStart} = this.host;
		const oldest = store.evicted > 0 ? store.at(0) : undefined;
		const top: Key = oldest ? keyOf(oldest) : {receivedAt: runStart, seq: 0};
		return new HistoryChain(top, store.evicted, {pageSize: this.pageSize, maxRows: this.maxRows, maxChars: store.maxChars, runStart});
	}

	private load(chain: HistoryChain, page: number): void {
		if (chain.loading.has(page)) {
			return;
		}

		const adding = page === chain.known;
		const generation = chain.generation;
		const filter = this.host.filter();
		chain.startLoading(page);
		this.host.reader.before(chain.top(page), this.pageSize, filter.all ? undefined : filter, chain.pageChars).then(events => {
			chain.doneLoading(page);
			if (this.chain !== chain || chain.generation !== generation) {
				return;
			}

			const newestFirst = events.reverse();
			if (!adding) {
				chain.fill(page, newestFirst);
			} else if (page === chain.known && !chain.extending) {
				chain.addOlder(newestFirst);
			}

			this.host.changed();
		}, (error: unknown) => {
			chain.doneLoading(page);
			this.fail(error);
		});
	}

	private fail(error: unknown): void {
		this.failed = true;
		this.host.notify(`history ${this.host.reader.dir}: ${error instanceof Error ? error.message : String(error)}`);
		this.host.changed();
	}
}
