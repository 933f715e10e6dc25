import {type Bus} from '../core/bus.js';
import {ErrorGroups, isErrorEvent} from '../core/errors.js';
import {Histogram} from '../core/histogram.js';
import {ServiceStats} from '../core/stats.js';

// What the API answers from memory without a scan: the error groups, per-service counts and rates
// since start, and the last hour's events and errors per minute. A direct bus subscriber, O(batch),
// subscribed before any source starts so it sees every event.

export type HttpAggregates = {
	readonly errors: ErrorGroups;
	readonly stats: ServiceStats;
	/** Every event (not markers) per minute over the last hour, by receive time. */
	readonly eventsPerMinute: Histogram;
	readonly errorsPerMinute: Histogram;
	stop(): void;
};

export function startAggregates(bus: Bus): HttpAggregates {
	const errors = new ErrorGroups({maxGroups: 1000, buckets: 60, bucketMs: 60_000});
	const stats = new ServiceStats();
	const eventsPerMinute = new Histogram(60, 60_000);
	const errorsPerMinute = new Histogram(60, 60_000);
	const off = bus.subscribe(events => {
		errors.add(events);
		stats.add(events);
		for (const e of events) {
			if (!e.marker) {
				eventsPerMinute.add(e.receivedAt);
				if (isErrorEvent(e)) {
					errorsPerMinute.add(e.receivedAt);
				}
			}
		}
	});
	return {errors, stats, eventsPerMinute, errorsPerMinute, stop: off};
}
