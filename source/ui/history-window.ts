import {type Bus} from '../core/bus.js';
import {ErrorGroups} from '../core/errors.js';
import {type LogEvent} from '../core/event.js';
import {type ServiceStats, type StatsRow, type StatsSort} from '../core/stats.js';
import {WindowStats} from '../core/stats-window.js';
import {type HistoryReader, errorLevels} from '../history/types.js';

// The time window of the error list and the statistics (`h`): since start (the live aggregates,
// which began with the history's last hour), or the last hour, day or three days answered from
// the history. Counts per service × level come from the store's per-segment counts, not from
// events; the error groups need messages, so they are built once per switch from the errors
// stream (ERROR and CRITICAL only), off the frame path, bounded like the live list. Events
// that arrive afterwards are added to the window as they come.

export const windowIds = ['since start', '1h', '24h', '3d'] as const;
export type WindowId = (typeof windowIds)[number];

export const windowSpans: Record<Exclude<WindowId, 'since start'>, number> = {
	'1h': 3_600_000,
	'24h': 86_400_000,
	'3d': 3 * 86_400_000,
};

const sliceMs = 10;

/** What the errors and stats panes show. */
export type Aggregates = {
	window: WindowId;
	/** The window's data is still being read. */
	loading: boolean;
	/** Why it could not be read. */
	failed: string | undefined;
	errors: ErrorGroups;
	/** Errors in the window (the store's counts, then the live ones). */
	errorTotal: number;
	stats(options: {byHost: boolean; sort: StatsSort; now: number}): StatsRow[];
	/** Rows per host are there (the store's counts have no hosts). */
	hosts: boolean;
	/** Changes when what is shown changes. */
	version: number;
};

export type LiveAggregates = {errors: ErrorGroups; stats: ServiceStats};

/** The live aggregates: since start. */
export function liveAggregates(live: LiveAggregates, version: number): Aggregates {
	return {
		window: 'since start',
		loading: false,
		failed: undefined,
		errors: live.errors,
		errorTotal: live.errors.total,
		stats: options => live.stats.rows(options),
		hosts: true,
		version,
	};
}

/** One window's data, read once when switched to. */
class WindowData {
	readonly errors: ErrorGroups;
	readonly stats: WindowStats;
	errorTotal = 0;
	loading = true;
	failed: string | undefined;
	readonly abort = new AbortController();

	constructor(readonly span: number, readonly since: number, readonly snapshot: number) {
		this.errors = new ErrorGroups({buckets: 30, bucketMs: Math.ceil(span / 30)});
		this.stats = new WindowStats(span);
	}

	/** Live events, received after the history was read. */
	add(events: readonly LogEvent[]): void {
		const fresh = events.filter(e => e.receivedAt > this.snapshot);
		if (fresh.length === 0) {
			return;
		}

		this.stats.add(fresh);
		const errors = fresh.filter(e => !e.marker && errorLevels.has(e.level));
		this.errors.add(errors);
		this.errorTotal += errors.length;
	}
}

async function nextTurn(): Promise<void> {
	await new Promise(resolve => {
		setImmediate(resolve);
	});
}

export class HistoryWindow {
	id: WindowId = 'since start';
	private data: WindowData | undefined;
	private readonly off: () => void;
	private version = 0;

	constructor(private readonly reader: HistoryReader, bus: Bus, private readonly now: () => number, private readonly changed: () => void) {
		this.off = bus.subscribe(events => {
			this.data?.add(events);
		});
	}

	/** The next window: since start → 1h → 24h → 3d → since start. */
	next(): WindowId {
		this.data?.abort.abort();
		this.data = undefined;
		this.id = windowIds[(windowIds.indexOf(this.id) + 1) % windowIds.length]!;
		this.version++;
		if (this.id !== 'since start') {
			const span = windowSpans[this.id];
			const now = this.now();
			this.data = new WindowData(span, now - span, now);
			void this.load(this.data);
		}

		return this.id;
	}

	aggregates(live: LiveAggregates): Aggregates {
		const d = this.data;
		if (!d) {
			return liveAggregates(live, this.version);
		}

		return {
			window: this.id,
			loading: d.loading,
			failed: d.failed,
			errors: d.errors,
			errorTotal: d.errorTotal,
			stats: options => d.stats.rows({sort: options.sort}),
			hosts: false,
			version: this.version + d.errors.version + d.stats.version,
		};
	}

	stop(): void {
		this.data?.abort.abort();
		this.off();
	}

	private async load(d: WindowData): Promise<void> {
		const {signal} = d.abort;
		try {
			const {counts} = await this.reader.counts(d.since);
			if (signal.aborted) {
				return;
			}

			d.stats.addCounts(counts);
			for (const [key, n] of counts) {
				if (errorLevels.has(key.slice(key.lastIndexOf('\t') + 1) as never)) {
					d.errorTotal += n;
				}
			}

			this.version++;
			this.changed();
			let batch: LogEvent[] = [];
			let slice = performance.now();
			for await (const e of this.reader.scan({errorsOnly: true, since: d.since, signal})) {
				if (e.receivedAt <= d.snapshot) {
					batch.push(e);
				}

				if (performance.now() - slice > sliceMs) {
					d.errors.add(batch);
					batch = [];
					this.changed();
					await nextTurn();
					slice = performance.now();
					if (signal.aborted) {
						return;
					}
				}
			}

			d.errors.add(batch);
		} catch (error) {
			if (!signal.aborted) {
				d.failed = error instanceof Error ? error.message : String(error);
			}
		} finally {
			d.loading = false;
			this.version++;
			this.changed();
		}
	}
}
