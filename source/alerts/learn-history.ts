import {type AlertEngine} from '../core/alert-engine.js';
import {inBatches} from '../core/event-batches.js';
import {type HistoryReader} from '../history/types.js';

// newTerm rules look back over the history, so a restart does not announce every error the
// history already holds as new. They read the errors stream (ERROR and CRITICAL, kept for
// history.errorRetention): what a newTerm rule is for. The look-back starts halfway through
// the warm-up (see learnLater), so it neither delays live events nor competes with the burst
// a run's start often brings; the rest of the warm-up (10 min by default) covers the seconds
// it takes.

/** The longest wait a Node timer takes (about 24 days); a longer one would fire at once. */
const maxTimerMs = 2 ** 31 - 1;

/** Teach the engine's newTerm rules the terms of the stored errors since `since`; returns the events read. */
export async function learnFromHistory(engine: AlertEngine, reader: HistoryReader, since: number, signal?: AbortSignal): Promise<number> {
	let read = 0;
	for await (const batch of inBatches(reader.scan({since, errorsOnly: true, signal}))) {
		engine.learn(batch);
		read += batch.length;
	}

	return read;
}

export type Learning = {
	/** Cancel the look-back (at exit), waiting or under way. */
	stop(): void;
};

/**
 * The look-back, once half of the shortest newTerm warm-up has passed. A run's start is when the
 * sources catch up (publishers reconnect and flush, Kafka reads its backlog); reading the stored
 * errors back then, some microseconds of CPU each, would compete with them for the one thread,
 * while no newTerm rule fires before its warm-up is over anyway. Terms new past a warm-up before
 * the look-back is done wait for it, and fire only if the history did not hold them.
 */
export function learnLater(engine: AlertEngine, reader: HistoryReader, retentionMs: number, report: {done: (read: number) => void; failed: (error: unknown) => void}): Learning {
	engine.holdNewTerms();
	const controller = new AbortController();
	const timer = setTimeout(() => {
		learnFromHistory(engine, reader, Date.now() - retentionMs, controller.signal).then(read => {
			if (!controller.signal.aborted) {
				engine.releaseNewTerms();
				report.done(read);
			}
		}, (error: unknown) => {
			if (!controller.signal.aborted) {
				engine.releaseNewTerms();
				report.failed(error);
			}
		});
	}, Math.min(engine.newTermWarmupMs / 2, maxTimerMs));
	timer.unref();
	return {
		stop() {
			clearTimeout(timer);
			controller.abort();
		},
	};
}
