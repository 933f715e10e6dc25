import {type LogEvent, eventChars} from './event.js';

// Events read back from the history are handed on in batches: one call per event costs too much,
// one batch for a whole scan could hold gigabytes. A batch ends at so many events or so much text,
// whichever comes first, as a line may be up to --max-line (1 MiB) long.

export type BatchLimits = {events: number; chars: number};

export const scanBatch: BatchLimits = {events: 1000, chars: 8 * 1024 * 1024};

/** `events` in batches of at most `limits.events` events, and past `limits.chars` characters by one event at most. */
export async function * inBatches(events: AsyncIterable<LogEvent>, limits: BatchLimits = scanBatch): AsyncGenerator<LogEvent[]> {
	let batch: LogEvent[] = [];
	let chars = 0;
	for await (const e of events) {
		batch.push(e);
		chars += eventChars(e);
		if (batch.length >= limits.events || chars >= limits.chars) {
			yield batch;
			batch = [];
			chars = 0;
		}
	}

	if (batch.length > 0) {
		yield batch;
	}
}
