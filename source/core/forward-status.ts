// A forwarder's counters in words, for the status bar, stderr and the exit summary.

export type ForwardCounts = {
	queued: number;
	spooled: number;
	sent: number;
	dropped: number;
	deadLettered: number;
};

function short(n: number): string {
	if (n < 10_000) {
		return String(n);
	}

	return n < 1e6 ? `${(n / 1e3).toFixed(n < 1e5 ? 1 : 0)}k` : `${(n / 1e6).toFixed(1)}M`;
}

/** "12 sent, 3 queued, 40 spooled, 2 dropped, 1 dead-lettered": zero counts left out but sent. At exit, `spooled` is what the next run sends first. */
export function describeForwarder(c: ForwardCounts, unsent = 0, compact = false): string {
	const n = compact ? short : String;
	const parts = [`${n(c.sent)} sent`];
	if (c.queued > 0) {
		parts.push(`${n(c.queued)} queued`);
	}

	if (c.spooled > 0) {
		parts.push(`${n(c.spooled)} spooled`);
	}

	if (c.dropped > 0) {
		parts.push(`${n(c.dropped)} dropped`);
	}

	if (c.deadLettered > 0) {
		parts.push(`${n(c.deadLettered)} dead-lettered`);
	}

	if (unsent > 0) {
		parts.push(`${n(unsent)} unsent at exit`);
	}

	return parts.join(compact ? ' ' : ', ');
}

/** The counts a forwarder's health details hold (sinks/forward/forwarder.ts), read back for views. */
export function forwardCountsOf(details: Record<string, unknown>): ForwardCounts {
	const num = (key: string): number => (typeof details[key] === 'number' ? details[key] : 0);
	return {queued: num('queued'), spooled: num('spooled'), sent: num('sent'), dropped: num('dropped'), deadLettered: num('deadLettered')};
}
