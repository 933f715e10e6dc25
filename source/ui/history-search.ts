import {type LogEvent, eventChars} from '../core/event.js';
import {type Filter} from '../core/filter.js';
import {type HistoryReader} from '../history/types.js';
import {type HistoryChain, type Key, keyOf, receivedBefore} from './history-chain.js';

// `/` and `n` past what memory holds: the search goes on into the history, newest first, from
// the oldest row the tail has (the chain's last known page). The scan's events become the
// chain's next pages as it goes (their keys only, so memory stays bounded); at a match the
// page it is on, and the one before for context, are held and the tail shows it. The scan is
// kept between matches, so `n` goes on from where it stopped; Escape ends it (its signal).
// Between slices of about 10 ms the event loop is free for keys and frames.

const sliceMs = 10;

/** How far an event's time may run ahead of its receive time and still be found (segments are skipped by event time). */
const clockAheadMs = 3_600_000;

export type HistorySearchHost = {
	readonly reader: HistoryReader;
	/** The tail's filter: the search finds only rows the tail shows. */
	filter(): Filter;
	/** The chain the search extends (made when there is none). */
	chain(): HistoryChain;
	/** A match: show the row with this seq in the middle of the tail. */
	found(seq: number): void;
	/** No older match in the history. */
	none(): void;
	/** Progress to draw. */
	changed(): void;
	notify(text: string): void;
};

type Run = {
	chain: HistoryChain;
	generation: number;
	text: string;
	test: (e: LogEvent) => boolean;
	abort: AbortController;
	iterator: AsyncIterator<LogEvent>;
	/** Only events received before this are taken (the rows above it were searched already). */
	from: Key;
	/** The page being read, newest first, and the one before it (context below a match). */
	page: LogEvent[];
	/** The page's text (eventChars): it ends at so many events or so much text, as the chain's pages do. */
	pageChars: number;
	previous: LogEvent[] | undefined;
	/** Where the scan stopped: the last match. */
	last: Key | undefined;
	active: boolean;
	scanned: number;
};

async function nextTurn(): Promise<void> {
	await new Promise(resolve => {
		setImmediate(resolve);
	});
}

export class HistorySearch {
	private run: Run | undefined;

	constructor(private readonly host: HistorySearchHost, private readonly pageSize: number) {}

	busy(): string | undefined {
		const r = this.run;
		return r?.active ? `searching history… /${r.text}/ ${r.scanned.toLocaleString('en-US')} read · Esc: stop` : undefined;
	}

	/**
	 * Look for the next older match. `page`: the chain's page the search in memory stopped at
	 * (pages from there on are read again by the search); the end of the chain when omitted.
	 */
	older(text: string, test: (e: LogEvent) => boolean, page?: number): void {
		const chain = this.host.chain();
		if (page !== undefined && page < chain.known) {
			chain.truncate(page);
		}

		if (chain.exhausted) {
			this.cancel();
			this.host.none();
			return;
		}

		const from = chain.top(chain.known);
		let r = this.run;
		const goOn = r && !r.active && r.chain === chain && r.generation === chain.generation && r.text === text
			&& r.last !== undefined && !receivedBefore(r.last, from);
		if (r && goOn) {
			r.from = from;
			r.test = test;
		} else {
			this.cancel();
			const abort = new AbortController();
			const filter = this.host.filter();
			const scan = this.host.reader.scan({reverse: true, until: from.receivedAt + clockAheadMs, filter: filter.all ? undefined : filter, signal: abort.signal});
			r = {chain, generation: chain.generation, text, test, abort, iterator: scan[Symbol.asyncIterator](), from, page: [], pageChars: 0, previous: undefined, last: undefined, active: false, scanned: 0};
			this.run = r;
		}

		r.active = true;
		chain.extending = true;
		void this.loop(r);
	}

	/** Escape, a new search, a new filter: stop, keeping what was read as known pages. */
	cancel(): void {
		const r = this.run;
		if (!r) {
			return;
		}

		this.run = undefined;
		r.abort.abort();
		void r.iterator.return?.().catch(() => undefined);
		if (r.active) {
			this.settle(r);
		}
	}

	private async loop(r: Run): Promise<void> {
		let slice = performance.now();
		try {
			for (;;) {
				// eslint-disable-next-line no-await-in-loop
				const next = await r.iterator.next();
				if (this.run !== r || !r.active) {
					return;
				}

				if (next.done) {
					break;
				}

				const e = next.value;
				if (!receivedBefore(e, r.from)) {
					continue; // newer than the rows searched already
				}

				r.scanned++;
				r.page.push(e);
				r.pageChars += eventChars(e);
				if (r.test(e)) {
					this.match(r, e);
					return;
				}

				if (r.page.length >= this.pageSize || r.pageChars >= r.chain.pageChars) {
					r.chain.addOlder(r.page, false, false);
					r.previous = r.page;
					r.page = [];
					r.pageChars = 0;
				}

				if (performance.now() - slice > sliceMs) {
					this.host.changed();
					// eslint-disable-next-line no-await-in-loop
					await nextTurn();
					slice = performance.now();
					if (this.run !== r || !r.active) {
						return;
					}
				}
			}
		} catch (error) {
			if (this.run === r && !r.abort.signal.aborted) {
				this.host.notify(`history search: ${error instanceof Error ? error.message : String(error)}`);
				this.cancel();
				this.host.changed();
			}

			return;
		}

		// The history ends here.
		this.run = undefined;
		this.settle(r);
		if (r.chain.generation === r.generation) {
			r.chain.addOlder([], false, true);
		}

		this.host.none();
	}

	/** The search stops: the page read so far becomes a known page. */
	private settle(r: Run): void {
		r.active = false;
		r.chain.extending = false;
		if (r.chain.generation === r.generation && r.page.length > 0) {
			r.chain.addOlder(r.page, false, false);
		}

		r.page = [];
		r.pageChars = 0;
		r.previous = undefined;
	}

	private match(r: Run, e: LogEvent): void {
		const {chain} = r;
		r.last = keyOf(e);
		r.active = false;
		chain.extending = false;
		chain.releaseAll();
		if (r.previous) {
			chain.fill(chain.known - 1, r.previous);
		}

		const page = chain.addOlder(r.page, true, false)!;
		r.page = [];
		r.pageChars = 0;
		r.previous = undefined;
		r.scanned = 0;
		this.host.found(page.rows[0]!.seq);
	}
}
