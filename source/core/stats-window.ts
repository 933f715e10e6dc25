import {type Level, type LogEvent, LEVELS} from './event.js';
import {Histogram} from './histogram.js';
import {type ServiceStat, type StatsRow, type StatsSort, sortStatsRows, zeroLevels} from './stats.js';

// Per-service statistics over a time window (the last hour, day, three days), built from the
// history's counts per service × level instead of from its events, then kept up to date with
// the events that arrive. The rate is the average over the window. There are no hosts: the
// history's counts have none. Errors are ERROR and CRITICAL, as the history counts them.

const levels = new Set<string>(LEVELS);
const errorLevels = new Set<Level>(['ERROR', 'CRITICAL']);

export class WindowStats {
	private readonly services = new Map<string, ServiceStat>();
	total = 0;
	errors = 0;
	/** Bumped on every change; views compare it to skip work. */
	version = 0;

	constructor(readonly spanMs: number, private readonly maxKeys = 1000) {}

	/** Counts keyed `${service}\t${level}`, as the history's reader gives them. Unknown levels are skipped. */
	addCounts(counts: ReadonlyMap<string, number>): void {
		for (const [key, n] of counts) {
			const tab = key.lastIndexOf('\t');
			const level = key.slice(tab + 1);
			if (tab < 0 || !levels.has(level) || !(n > 0)) {
				continue;
			}

			this.count(key.slice(0, tab), level as Level, n, 0);
		}

		this.version++;
	}

	/** Events that arrived after the counts were taken. */
	add(events: readonly LogEvent[]): void {
		let changed = false;
		for (const e of events) {
			if (!e.marker) {
				const s = this.count(e.service, e.level, 1, e.receivedAt);
				s?.histogram.add(e.receivedAt);
				changed = true;
			}
		}

		if (changed) {
			this.version++;
		}
	}

	rows(options: {sort?: StatsSort; limit?: number} = {}): StatsRow[] {
		const seconds = Math.max(1, this.spanMs / 1000);
		const rows: StatsRow[] = [];
		for (const stat of this.services.values()) {
			rows.push({stat, rate: stat.total / seconds, errorShare: stat.total > 0 ? stat.errors / stat.total : 0});
		}

		sortStatsRows(rows, options.sort ?? 'rate');
		return rows.slice(0, options.limit ?? rows.length);
	}

	private count(service: string, level: Level, n: number, at: number): ServiceStat | undefined {
		let s = this.services.get(service);
		if (!s) {
			if (this.services.size >= this.maxKeys) {
				return undefined;
			}

			s = {key: service, service, host: undefined, total: 0, errors: 0, levels: zeroLevels(), lastSeen: 0, histogram: new Histogram(60, 1000), touched: 0};
			this.services.set(service, s);
		}

		s.total += n;
		s.levels[level] += n;
		this.total += n;
		if (errorLevels.has(level)) {
			s.errors += n;
			this.errors += n;
		}

		s.lastSeen = Math.max(s.lastSeen, at);
		return s;
	}
}
