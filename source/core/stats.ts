import {type Level, type LogEvent, LEVELS} from './event.js';
import {isErrorEvent} from './errors.js';
import {Histogram} from './histogram.js';

// Per-service (and per service × host) statistics for the stats pane: rate now,
// a one-minute sparkline, error count and share, level distribution, last seen.
// Also remembers which hosts and log types have been seen (for the toggles).
// Bounded: each table keeps at most `maxKeys` rows, evicting the least recently
// seen. Fed by bus.subscribe, O(batch).

export type ServiceStat = {
	readonly key: string;
	readonly service: string;
	/** Set in the service × host table. */
	readonly host: string | undefined;
	total: number;
	errors: number;
	readonly levels: Record<Level, number>;
	lastSeen: number;
	/** One-second buckets over the last minute. */
	readonly histogram: Histogram;
	/** Batch that last moved this row to the recent end (so that happens once per batch). */
	touched: number;
};

export type StatsSort = 'rate' | 'errors' | 'name';

export type StatsRow = {
	stat: ServiceStat;
	/** Events per second over the last few seconds. */
	rate: number;
	/** Errors as a share of all events, 0..1. */
	errorShare: number;
};

export type ServiceStatsOptions = {
	maxKeys?: number;
	/** Names remembered per kind (hosts, types). */
	maxNames?: number;
	/** Window for "events/s now". Default 5 s. */
	rateWindowMs?: number;
};

export function zeroLevels(): Record<Level, number> {
	const out = {} as Record<Level, number>;
	for (const l of LEVELS) {
		out[l] = 0;
	}

	return out;
}

/** A bounded most-recently-seen set of names. */
class RecentNames {
	private readonly names = new Map<string, number>();

	constructor(private readonly max: number) {}

	touch(name: string, batch: number): void {
		const seen = this.names.get(name);
		if (seen === batch) {
			return;
		}

		if (seen !== undefined) {
			this.names.delete(name);
		} else if (this.names.size >= this.max) {
			this.names.delete(this.names.keys().next().value!);
		}

		this.names.set(name, batch);
	}

	list(): string[] {
		return [...this.names.keys()].sort();
	}
}

/** Sort stats rows in place: by rate, by errors, or by name (then by name, so the order is stable). */
export function sortStatsRows(rows: StatsRow[], sort: StatsSort): void {
	const byName = (a: StatsRow, b: StatsRow): number => a.stat.key < b.stat.key ? -1 : (a.stat.key > b.stat.key ? 1 : 0);
	switch (sort) {
		case 'rate': {
			rows.sort((a, b) => b.rate - a.rate || b.stat.lastSeen - a.stat.lastSeen || byName(a, b));
			break;
		}

		case 'errors': {
			rows.sort((a, b) => b.stat.errors - a.stat.errors || b.rate - a.rate || byName(a, b));
			break;
		}

		case 'name': {
			rows.sort(byName);
			break;
		}
	}
}

export class ServiceStats {
	readonly maxKeys: number;
	readonly rateWindowMs: number;
	private readonly byService = new Map<string, ServiceStat>();
	private readonly byServiceHost = new Map<string, ServiceStat>();
	private readonly hosts: RecentNames;
	private readonly types: RecentNames;
	private readonly servicesSeen: RecentNames;
	/** Every event, for the status bar's events/s. */
	readonly overall = new Histogram(60, 1000);
	total = 0;
	errors = 0;
	private batch = 0;
	version = 0;

	constructor(options: ServiceStatsOptions = {}) {
		this.maxKeys = options.maxKeys ?? 1000;
		this.rateWindowMs = options.rateWindowMs ?? 5000;
		const maxNames = options.maxNames ?? 500;
		this.hosts = new RecentNames(maxNames);
		this.types = new RecentNames(maxNames);
		this.servicesSeen = new RecentNames(maxNames);
	}

	add(events: readonly LogEvent[]): void {
		const batch = ++this.batch;
		let n = 0;
		for (const e of events) {
			if (e.marker) {
				continue;
			}

			n++;
			const error = isErrorEvent(e);
			this.total++;
			if (error) {
				this.errors++;
			}

			this.overall.add(e.receivedAt);
			this.count(this.byService, e.service, e.service, undefined, e, error, batch);
			this.count(this.byServiceHost, `${e.service}\u0000${e.host}`, e.service, e.host, e, error, batch);
			if (e.host) {
				this.hosts.touch(e.host, batch);
			}

			if (e.type) {
				this.types.touch(e.type, batch);
			}

			this.servicesSeen.touch(e.service, batch);
		}

		if (n > 0) {
			this.version++;
		}
	}

	private count(table: Map<string, ServiceStat>, key: string, service: string, host: string | undefined, e: LogEvent, error: boolean, batch: number): void {
		let s = table.get(key);
		if (!s) {
			if (table.size >= this.maxKeys) {
				table.delete(table.keys().next().value!);
			}

			s = {key, service, host, total: 0, errors: 0, levels: zeroLevels(), lastSeen: 0, histogram: new Histogram(60, 1000), touched: batch};
			table.set(key, s);
		} else if (s.touched !== batch) {
			// Move to the recent end once per batch, not once per event.
			table.delete(key);
			table.set(key, s);
			s.touched = batch;
		}

		s.total++;
		if (error) {
			s.errors++;
		}

		s.levels[e.level]++;
		s.lastSeen = Math.max(s.lastSeen, e.receivedAt);
		s.histogram.add(e.receivedAt);
	}

	/** Events per second over the rate window, for a histogram. */
	rate(h: Histogram, now: number): number {
		// The current bucket is partial: count the part of it that has passed.
		const whole = Math.ceil(this.rateWindowMs / h.bucketMs) - 1;
		const span = whole * h.bucketMs + (now % h.bucketMs);
		return span > 0 ? (h.sum(now, this.rateWindowMs) * 1000) / span : 0;
	}

	/** Events per second for everything. */
	overallRate(now: number): number {
		return this.rate(this.overall, now);
	}

	rows(options: {byHost?: boolean; sort?: StatsSort; now?: number; limit?: number} = {}): StatsRow[] {
		const now = options.now ?? Date.now();
		const table = options.byHost ? this.byServiceHost : this.byService;
		const rows: StatsRow[] = [];
		for (const stat of table.values()) {
			rows.push({stat, rate: this.rate(stat.histogram, now), errorShare: stat.total > 0 ? stat.errors / stat.total : 0});
		}

		sortStatsRows(rows, options.sort ?? 'rate');
		return rows.slice(0, options.limit ?? rows.length);
	}

	get(service: string, host?: string): ServiceStat | undefined {
		return host === undefined ? this.byService.get(service) : this.byServiceHost.get(`${service}\u0000${host}`);
	}

	seenHosts(): string[] {
		return this.hosts.list();
	}

	seenTypes(): string[] {
		return this.types.list();
	}

	seenServices(): string[] {
		return this.servicesSeen.list();
	}
}
