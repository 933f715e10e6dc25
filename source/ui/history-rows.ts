import {type LogEvent} from '../core/event.js';
import {type Store} from '../core/store.js';
import {type HistoryChain} from './history-chain.js';
import {type Rows, type Scannable} from './scan.js';

// The tail's rows when there is a history: the chain's rows (seq < 0) above the events in
// memory (seq > 0). Where the chain's newest pages are not held, its `loading…` row stands
// between the two and nothing is passed over: scrolling waits there until the pages are read.

export class TailRows implements Rows {
	constructor(private readonly live: Rows, private readonly chain: HistoryChain) {}

	tail(count: number, beforeSeq?: number): LogEvent[] {
		const fromLive = beforeSeq === undefined || beforeSeq > 0;
		const live = fromLive ? this.live.tail(count, beforeSeq) : [];
		if (live.length >= count) {
			return live;
		}

		const standin = this.chain.newerStandin();
		if (fromLive && standin) {
			return [standin, ...live];
		}

		return [...this.chain.tail(count - live.length, fromLive ? undefined : beforeSeq), ...live];
	}

	after(afterSeq: number, count: number): LogEvent[] {
		const older = afterSeq < 0 ? this.chain.after(afterSeq, count) : [];
		if (older.length >= count || (afterSeq < 0 && this.chain.newerStandin())) {
			return older;
		}

		return [...older, ...this.live.after(Math.max(0, afterSeq), count - older.length)];
	}

	stalled(seq: number): boolean {
		const standin = this.chain.newerStandin();
		return standin !== undefined && seq < 0 && seq >= standin.seq;
	}
}

/** What a search looks through in memory: the chain's rows, then the store. */
export function memoryRows(chain: HistoryChain | undefined, store: Store): Scannable {
	if (!chain) {
		return store;
	}

	return {
		get size() {
			return chain.size + store.size;
		},
		at(index: number) {
			const n = chain.size;
			return index < n ? chain.at(index) : store.at(index - n);
		},
		indexAfter(seq: number) {
			return seq < 0 ? chain.indexAfter(seq) : chain.size + store.indexAfter(seq);
		},
	};
}
