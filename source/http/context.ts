import {type AlertsSnapshot} from '../core/alert-engine.js';
import {type Bus} from '../core/bus.js';
import {type Store} from '../core/store.js';
import {type HistoryReader, type HistoryStatus} from '../history/types.js';
import {type HttpAggregates} from './aggregates.js';
import {type SinkHealth} from '../alerts/delivery.js';
import {type Baseline} from './history-baseline.js';

// What every route handler may read: the typed context of the HTTP server. Views of the run, never
// its sockets: sources -> bus -> store, history and aggregates -> here -> JSON.

export type HttpLimits = {
	/** Events or rows one answer holds at most; a larger `limit` is clamped to it. */
	maxLimit: number;
	defaultLimit: number;
	/** SSE clients at once; one more gets a 503. */
	maxStreamClients: number;
	/** Events queued per SSE client before it loses some (counted, said in its stream). */
	streamQueue: number;
	/** A client whose socket takes nothing this long is disconnected. */
	streamStuckMs: number;
	/** Events a scan reads at most for one answer (a stats filter that the counts cannot answer). */
	maxScan: number;
};

export const defaultLimits: HttpLimits = {
	maxLimit: 10_000,
	defaultLimit: 100,
	maxStreamClients: 64,
	streamQueue: 10_000,
	streamStuckMs: 10_000,
	maxScan: 2_000_000,
};

export type HttpCounters = {
	requests: number;
	/** Answers by status class: 2xx, 4xx, 5xx. */
	byStatus: Record<string, number>;
	unauthorized: number;
	streamClients: number;
	streamRefused: number;
	/** Events SSE clients lost (their queues were full), and clients disconnected for it. */
	streamLost: number;
	streamDropped: number;
};

export type HttpContext = {
	readonly bus: Bus;
	/** The most recent events, in memory (the run's buffer). */
	readonly store: Store;
	/** The on-disk history's reader, off the event thread; undefined when the history is off. */
	readonly reader: HistoryReader | undefined;
	/** How often the history writes what it was given (ms): what it holds lags the bus by about this much. */
	readonly historyFlushMs: number;
	/** The history's state (undefined: off). */
	historyStatus(): HistoryStatus | undefined;
	readonly aggregates: HttpAggregates;
	/** The history's counts when logmon started (empty with the history off). */
	readonly baseline: Baseline;
	/** Alert rules, firing alerts and sinks; undefined when no rule is configured. */
	alerts(): (AlertsSnapshot & {sinks: SinkHealth[]}) | undefined;
	readonly version: string;
	/** When this logmon started (ms since the epoch). */
	readonly startedAt: number;
	readonly limits: HttpLimits;
	readonly counters: HttpCounters;
	/** A line about the server's own state: stderr in pipe and serve mode, the log in the UI. */
	say(level: 'info' | 'warn' | 'error', text: string): void;
	now(): number;
	/** Called at close: streams end, timers stop. */
	onClose(cleanup: () => void | Promise<void>): void;
};
