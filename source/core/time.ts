// Time text, shared by the outputs, the UI and the logio line format.

export function pad(n: number, width = 2): string {
	return String(n).padStart(width, '0');
}

// Formatting a time is on the hot path. Times of one second share everything up to
// the milliseconds, so the "YYYY-MM-DDTHH:MM:SS." prefix is made once per second. Two
// seconds are kept: an event's own time and its receive time, written one after the other
// (-o json), are often seconds apart.
let prefixSecond = Number.NaN;
let prefix = '';
let otherSecond = Number.NaN;
let other = '';

/** Like `toISOString()` (`2024-05-01T10:00:00.123Z`); an invalid time is shown as its number. */
export function isoTime(ms: number): string {
	const second = Math.floor(ms / 1000);
	if (second !== prefixSecond) {
		if (second === otherSecond) {
			[otherSecond, other, prefixSecond, prefix] = [prefixSecond, prefix, otherSecond, other];
		} else {
			const d = new Date(second * 1000);
			if (Number.isNaN(d.getTime())) {
				return String(ms);
			}

			otherSecond = prefixSecond;
			other = prefix;
			prefix = d.toISOString().slice(0, -4);
			prefixSecond = second;
		}
	}

	const milli = Math.floor(ms - second * 1000);
	return prefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + String(milli) + 'Z';
}

/** HH:MM:SS in local time, for markers a person reads. */
export function clock(ms: number): string {
	const d = new Date(ms);
	return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
