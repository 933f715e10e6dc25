import {parseTime} from './record.js';

// `--since` and `since` values: Kafka's and Docker's start, the query's window, the API's `since`.

const units: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000};

/** Whether `ms` is a time a Date can hold (±8.64e15 ms, some 273,000 years either side of 1970). */
export function isDateTime(ms: number): boolean {
	return Math.abs(ms) <= 8.64e15;
}

/** `10m`, `2h`, `30s`, `1d` before `now`, or an RFC 3339 time: ms since the epoch. Undefined past a Date's range. */
export function parseSince(text: string, now = Date.now()): number | undefined {
	const m = /^(\d+)\s*([smhd])$/.exec(text.trim());
	if (m) {
		const ms = now - Number(m[1]) * units[m[2]!]!;
		return isDateTime(ms) ? ms : undefined;
	}

	// A bare number would read as epoch seconds; ask for a unit instead.
	return /^\d+$/.test(text.trim()) ? undefined : parseTime(text.trim());
}
