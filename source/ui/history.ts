import {type Bus} from '../core/bus.js';
import {type Filter} from '../core/filter.js';
import {type Store} from '../core/store.js';
import {type HistoryReader} from '../history/types.js';
import {HistorySearch} from './history-search.js';
import {TailHistory} from './history-tail.js';
import {HistoryWindow} from './history-window.js';
import {type UiState} from './state.js';

// The UI's parts over the history, made together when there is one:
//   history-tail.ts    the tail's older pages (history-chain.ts, history-rows.ts)
//   history-search.ts  `/` and `n` past what memory holds
//   history-window.ts  the time window of the errors and stats (`h`)

export type UiHistory = {
	tail: TailHistory;
	search: HistorySearch;
	window: HistoryWindow;
};

export type UiHistoryHost = {
	readonly state: UiState;
	readonly store: Store;
	readonly bus: Bus;
	readonly reader: HistoryReader;
	readonly runStart: number;
	readonly pageSize?: number | undefined;
	now(): number;
	/** The tail's filter. */
	filter(): Filter;
	/** Show this row in the middle of the tail, marked (a search match in the history). */
	found(seq: number): void;
	/** Something to draw. */
	changed(): void;
	notify(text: string): void;
};

export function uiHistory(host: UiHistoryHost): UiHistory {
	const {reader, changed, notify, filter} = host;
	const tail = new TailHistory({state: host.state, store: host.store, reader, runStart: host.runStart, filter, changed, notify}, {pageSize: host.pageSize});
	const search = new HistorySearch({
		reader,
		filter,
		chain: () => tail.searchChain(),
		found: host.found,
		none() {
			notify(`no older match for /${host.state.search?.text ?? ''}/`);
			changed();
		},
		changed,
		notify,
	}, tail.pageSize);
	const window = new HistoryWindow(reader, host.bus, host.now, changed);
	return {tail, search, window};
}
