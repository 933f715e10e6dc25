import {type AlertEngine} from '../core/alert-engine.js';
import {type LogEvent} from '../core/event.js';
import {type HistoryReader} from '../history/types.js';

// newTerm rules look back over the history at start, so a restart does not announce every
// error the history already holds as new. They read the errors stream (ERROR and CRITICAL,
// kept for history.errorRetention): what a newTerm rule is for. Live events are not held up:
// the rules' warm-up (10 min by default) covers the seconds this takes.

const batchSize = 1000;

/** Teach the engine's newTerm rules the terms of the stored errors since `since`; returns the events read. */
export async function learnFromHistory(engine: AlertEngine, reader: HistoryReader, since: number, signal?: AbortSignal): Promise<number> {
	let batch: LogEvent[] = [];
	let read = 0;
	for await (const e of reader.scan({since, errorsOnly: true, signal})) {
		batch.push(e);
		if (batch.length >= batchSize) {
			engine.learn(batch);
			read += batch.length;
			batch = [];
		}
	}

	engine.learn(batch);
	return read + batch.length;
}
