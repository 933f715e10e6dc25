import {type HistoryReader} from '../history/types.js';
import {lastSeenFromHistory} from './history-last-seen.js';

// What the history held when logmon started, per service × level, read once before the sources
// start: with the live counts added, the default stats cover the whole history without a read per
// request. Retention removes old events meanwhile; the baseline keeps counting them (documented).
// When each service was last seen is read after, in the background (a segment per group of
// services): until it is, a service this run has not seen has `lastSeen` null.

export type Baseline = {
	/** `${service}\t${level}` -> events. */
	counts: Map<string, number>;
	/** Service -> its newest event's receive time in the history; filled in the background. */
	lastSeen: Map<string, number>;
	failed: string | undefined;
	/** Stops the background read. */
	stop(): void;
};

export async function readBaseline(reader: HistoryReader | undefined): Promise<Baseline> {
	const abort = new AbortController();
	const baseline: Baseline = {counts: new Map(), lastSeen: new Map(), failed: undefined, stop: () => abort.abort()};
	if (!reader) {
		return baseline;
	}

	try {
		baseline.counts = (await reader.counts()).counts;
	} catch (error) {
		baseline.failed = error instanceof Error ? error.message : String(error);
		return baseline;
	}

	const services = new Set([...baseline.counts.keys()].map(key => key.slice(0, key.lastIndexOf('\t'))));
	lastSeenFromHistory(reader, services, abort.signal).then(found => {
		baseline.lastSeen = found;
	}, () => {
		// Stopped, or the history could not be read: lastSeen stays null for those services.
	});
	return baseline;
}
