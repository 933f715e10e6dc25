import {expect, test} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {inBatches} from '../../source/core/event-batches.js';
import {event} from '../support/events.js';

async function * stream(events: LogEvent[]): AsyncGenerator<LogEvent> {
	for (const e of events) {
		yield e; // eslint-disable-line no-await-in-loop
	}
}

async function sizes(events: LogEvent[], limits: {events: number; chars: number}): Promise<number[]> {
	const out: number[] = [];
	for await (const batch of inBatches(stream(events), limits)) {
		out.push(batch.length);
	}

	return out;
}

test('batches end at so many events', async () => {
	const events = Array.from({length: 25}, (_, i) => event({raw: `line ${i}`, message: `line ${i}`}));
	expect(await sizes(events, {events: 10, chars: 1e9})).toEqual([10, 10, 5]);
	expect(await sizes([], {events: 10, chars: 1e9})).toEqual([]);
});

test('batches end at so much text: a few long lines do not wait for a thousand more', async () => {
	const long = 'x'.repeat(1000);
	const events = [event({raw: 'a', message: 'a'}), ...Array.from({length: 5}, () => event({raw: long, message: long})), event({raw: 'b', message: 'b'})];
	// 2,500 characters at most: the batch that passes it ends with the event that did.
	expect(await sizes(events, {events: 1000, chars: 2500})).toEqual([4, 3]);
});
