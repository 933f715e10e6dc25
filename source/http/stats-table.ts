import {type Level, type LogEvent, LEVELS} from '../core/event.js';
import {type ServiceStats, zeroLevels} from '../core/stats.js';

// Per service × level counts, whichever way they were got (the history's counts, the live
// aggregates, a scan), and their JSON. Errors are ERROR and CRITICAL, as the history counts them.

export type ServiceRow = {levels: Record<Level, number>; lastSeen: number | undefined; rate: number | undefined};

export class StatsTable {
	readonly rows = new Map<string, ServiceRow>();

	private row(service: string): ServiceRow {
		let r = this.rows.get(service);
		if (!r) {
			r = {levels: zeroLevels(), lastSeen: undefined, rate: undefined};
			this.rows.set(service, r);
		}

		return r;
	}

	/** Counts keyed `${service}\t${level}`; `keep` filters by service and level; `lastSeen` per service, when known. */
	addCounts(counts: ReadonlyMap<string, number>, keep: (service: string, level: Level) => boolean, lastSeen?: ReadonlyMap<string, number>): void {
		for (const [key, n] of counts) {
			const tab = key.lastIndexOf('\t');
			const level = key.slice(tab + 1) as Level;
			const service = key.slice(0, tab);
			if (tab >= 0 && LEVELS.includes(level) && n > 0 && keep(service, level)) {
				const r = this.row(service);
				r.levels[level] += n;
				const seen = lastSeen?.get(service);
				if (seen !== undefined) {
					r.lastSeen = Math.max(r.lastSeen ?? 0, seen);
				}
			}
		}
	}

	addLive(stats: ServiceStats, keep: (service: string, level: Level) => boolean, now: number): void {
		for (const {stat, rate} of stats.rows({now, sort: 'name'})) {
			let any = false;
			for (const level of LEVELS) {
				const n = stat.levels[level];
				if (n > 0 && keep(stat.service, level)) {
					this.row(stat.service).levels[level] += n;
					any = true;
				}
			}

			if (any) {
				const r = this.row(stat.service);
				r.lastSeen = Math.max(r.lastSeen ?? 0, stat.lastSeen);
				r.rate = rate;
			}
		}
	}

	addEvent(e: LogEvent): void {
		const r = this.row(e.service);
		r.levels[e.level]++;
		r.lastSeen = Math.max(r.lastSeen ?? 0, e.receivedAt);
	}

	totals(): {total: number; errors: number; levels: Record<Level, number>} {
		const levels = zeroLevels();
		for (const r of this.rows.values()) {
			for (const l of LEVELS) {
				levels[l] += r.levels[l];
			}
		}

		const total = LEVELS.reduce((n, l) => n + levels[l], 0);
		return {total, errors: levels.ERROR + levels.CRITICAL, levels};
	}

	/** Most events first, then by name. */
	services(): Array<{service: string; total: number; errors: number; errorRate: number; levels: Record<Level, number>; lastSeen: string | null; eventsPerSecond: number | null}> {
		const out = [...this.rows].map(([service, r]) => {
			const total = LEVELS.reduce((n, l) => n + r.levels[l], 0);
			const errors = r.levels.ERROR + r.levels.CRITICAL;
			return {
				service,
				total,
				errors,
				errorRate: total > 0 ? errors / total : 0,
				levels: r.levels,
				lastSeen: r.lastSeen === undefined ? null : new Date(r.lastSeen).toISOString(),
				eventsPerSecond: r.rate ?? null,
			};
		});
		return out.sort((a, b) => b.total - a.total || (a.service < b.service ? -1 : (a.service > b.service ? 1 : 0)));
	}
}
