import {parseTime} from './record.js';

// `--since` and `since` values: Kafka's and Docker's start, the query's window, the API's `since`.

const units: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000};

/** Whether `ms` is a time a Date can hold (±8.64e15 ms, some 273,000 years either side of 1970). */
export function isDateTime(ms: number): boolean {
	return Math.abs(ms) <= 8.64e15;
}

/**
 * `10m`, `2h`, `30s`, `1d` before `now` (`-10m` too, as journalctl writes it), or an RFC 3339
 * time: ms since the epoch. Undefined past a Date's range.
 */
export function parseSince(text: string, now = Date.now()): number | undefined {
	const m = /^-?(\d+)\s*([smhd])$/.exec(text.trim());
	if (m) {
		const ms = now - Number(m[1]) * units[m[2]!]!;
		return isDateTime(ms) ? ms : undefined;
	}

	// A bare number would read as epoch seconds; ask for a unit instead. Only an RFC 3339 or ISO 8601
	// time is read as one: a looser parse takes `May 1` for 2001 and `1.5` for an epoch second.
	return isIsoTime(text.trim()) ? parseTime(text.trim()) : undefined;
}

const isoTime = /^\d{4}-\d\d-\d\d(?:[Tt ]\d\d:\d\d(?::\d\d(?:[.,]\d{1,9})?)?)?(?:[Zz]|[+-]\d\d(?::?\d\d)?)?$/;

/** `2024-05-01`, `2024-05-01T10:00:00.000Z`, `2024-05-01 10:00:00+02:00` and the like. */
export function isIsoTime(text: string): boolean {
	return isoTime.test(text);
}
