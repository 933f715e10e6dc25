import {type Writable} from 'node:stream';
import {type Level, LEVELS, levelRank} from './core/event.js';

// What `logmon query` writes: lines in chunks that wait for a slow reader, and the `--stats` table.

/** Lines to stdout in chunks of about 64 KiB; `flush` waits while the reader is slow. */
export class QueryOutput {
	/** The reader went away (`| head`): stop reading history, exit 0. */
	closed = false;
	private chunk = '';
	/** Set while stdout's buffer is full: resolves on 'drain' (or when the reader goes away). */
	private blocked: Promise<void> | undefined;
	private wake: (() => void) | undefined;
	private soon = false;

	constructor(private readonly out: Writable) {
		out.on('error', () => {
			this.closed = true;
			this.wake?.();
		});
		out.on('drain', () => {
			this.wake?.();
		});
	}

	/** Queue one line; true when the chunk is big enough to flush. */
	line(text: string): boolean {
		this.chunk += text + '\n';
		return this.chunk.length >= 65_536;
	}

	/** Hand the chunk to stdout; resolves when stdout can take more (or the reader is gone). */
	async flush(): Promise<void> {
		while (this.blocked) {
			await this.blocked;
		}

		if (this.chunk === '' || this.closed) {
			this.chunk = '';
			return;
		}

		const ok = this.out.write(this.chunk);
		this.chunk = '';
		if (!ok && !this.closed) {
			this.blocked = new Promise<void>(resolve => {
				this.wake = () => {
					this.blocked = undefined;
					this.wake = undefined;
					resolve();
				};
			});
			await this.blocked;
		}
	}

	/**
	 * Flush once the lines at hand are queued (after the current turn of the event loop): a live
	 * line is not held back waiting for 64 KiB of company.
	 */
	flushSoon(): void {
		if (!this.soon) {
			this.soon = true;
			setImmediate(() => {
				this.soon = false;
				void this.flush();
			});
		}
	}

	/** Flush, then resolve once stdout has taken every byte. */
	async end(): Promise<void> {
		await this.flush();
		if (!this.closed) {
			await new Promise<void>(resolve => {
				this.out.write('', () => resolve());
			});
		}
	}
}

export type ServiceCounts = {service: string; total: number; errors: number; levels: Record<Level, number>};

/**
 * Per-service rows from the index's `${service}\t${level}` counts, keeping the services and the
 * minimum level asked for; busiest first.
 */
export function serviceRows(counts: ReadonlyMap<string, number>, services: ReadonlySet<string> | undefined, minLevel: Level | undefined): ServiceCounts[] {
	const rows = new Map<string, ServiceCounts>();
	const min = minLevel === undefined ? -1 : levelRank[minLevel];
	for (const [key, n] of counts) {
		const tab = key.lastIndexOf('\t');
		const service = key.slice(0, tab);
		const level = key.slice(tab + 1) as Level;
		if (!(level in levelRank) || levelRank[level] < min || (services && !services.has(service)) || n <= 0) {
			continue;
		}

		let row = rows.get(service);
		if (!row) {
			row = {service, total: 0, errors: 0, levels: Object.fromEntries(LEVELS.map(l => [l, 0])) as Record<Level, number>};
			rows.set(service, row);
		}

		row.total += n;
		row.levels[level] += n;
		if (levelRank[level] >= levelRank.ERROR) {
			row.errors += n;
		}
	}

	return [...rows.values()].sort((a, b) => b.total - a.total || a.service.localeCompare(b.service));
}

function share(part: number, whole: number): string {
	if (whole === 0 || part === 0) {
		return '0%';
	}

	const pct = (part / whole) * 100;
	return pct < 0.1 ? '<0.1%' : `${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`;
}

/** The stats pane's figures as a table: service, total, errors and their share, then each level seen. */
export function statsTable(rows: ServiceCounts[], safe: (text: string) => string): string[] {
	const all: ServiceCounts = {service: 'all services', total: 0, errors: 0, levels: Object.fromEntries(LEVELS.map(l => [l, 0])) as Record<Level, number>};
	for (const r of rows) {
		all.total += r.total;
		all.errors += r.errors;
		for (const l of LEVELS) {
			all.levels[l] += r.levels[l];
		}
	}

	const levels = LEVELS.filter(l => all.levels[l] > 0);
	const header = ['SERVICE', 'EVENTS', 'ERRORS', 'ERR%', ...levels];
	const body = [...rows, ...(rows.length > 1 ? [all] : [])].map(r => [
		r.service === '' ? '(none)' : safe(r.service),
		String(r.total),
		String(r.errors),
		share(r.errors, r.total),
		...levels.map(l => String(r.levels[l])),
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...body.map(cells => cells[i]!.length)));
	const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
	return [line(header), ...body.map(cells => line(cells))];
}
