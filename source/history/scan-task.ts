import {type LogEvent} from '../core/event.js';
import {compileFilter, type Filter, type FilterSpec} from '../core/filter.js';
import {decodeLine} from './format.js';
import {type LineTest} from './line-filter.js';

// What `logmon query`'s scan asks of a segment's lines, as plain data a worker thread can be
// given (scan-worker.ts), and the test itself: the lines' bytes first (line-filter.ts), then the
// decoded event through the time window and pipe mode's filter. No fs calls.

export type ScanTask = {
	/** The test of a line's bytes. */
	test: LineTest;
	/** The filter's plain description; undefined: no filter. */
	filter?: FilterSpec | undefined;
	/** Only the number of matches is wanted, not the lines. */
	count: boolean;
	/**
	 * Lines are sent as picked by their bytes, for the query's thread to decode and test: when a
	 * literal leaves few, decoding the matches twice (there and here) would cost more than it saves.
	 */
	undecoded?: boolean | undefined;
};

/** The query's full test of a decoded event. */
export function eventAccept(since: number | undefined, until: number | undefined, filter: Filter | undefined): (e: LogEvent) => boolean {
	return e => (since === undefined || e.time >= since) && (until === undefined || e.time <= until) && (filter === undefined || filter.test(e));
}

export type LineCounts = {matched: number; damagedLines: number};

/**
 * The lines of `lines` (whole lines, each ending with a newline) whose events pass `accept`, as
 * [start, end) byte ranges pushed onto `ranges` (unless it is undefined: only counted).
 */
export function matchLines(lines: Buffer, accept: (e: LogEvent) => boolean, counts: LineCounts, ranges: number[] | undefined): void {
	for (let start = 0; start < lines.length;) {
		const nl = lines.indexOf(10, start);
		const stop = nl < 0 ? lines.length : nl;
		const end = nl < 0 ? lines.length : nl + 1;
		if (stop > start) {
			const e = decodeLine(lines.toString('utf8', start, stop));
			if (!e) {
				counts.damagedLines++;
			} else if (accept(e)) {
				counts.matched++;
				if (ranges) {
					if (ranges.length > 0 && ranges.at(-1) === start) {
						ranges[ranges.length - 1] = end; // joins the line before
					} else {
						ranges.push(start, end);
					}
				}
			}
		}

		start = end;
	}
}

/** The test a worker runs, from its task. */
export function taskAccept(task: ScanTask): (e: LogEvent) => boolean {
	const filter = task.filter ? compileFilter(task.filter) : undefined;
	return eventAccept(task.test.since, task.test.until, filter);
}
