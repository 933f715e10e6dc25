import {type HistoryReader} from '../history/types.js';

// What the history held when logmon started, per service × level, read once before the sources
// start: with the live counts added, the default stats cover the whole history without a read per
// request. Retention removes old events meanwhile; the baseline keeps counting them (documented).

export type Baseline = {
	/** `${service}\t${level}` -> events. */
	counts: Map<string, number>;
	failed: string | undefined;
};

export async function readBaseline(reader: HistoryReader | undefined): Promise<Baseline> {
	if (!reader) {
		return {counts: new Map(), failed: undefined};
	}

	try {
		const {counts} = await reader.counts();
		return {counts, failed: undefined};
	} catch (error) {
		return {counts: new Map(), failed: error instanceof Error ? error.message : String(error)};
	}
}
