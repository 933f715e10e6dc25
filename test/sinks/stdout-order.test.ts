import {Writable} from 'node:stream';
import {expect, test} from 'vitest';
import {Bus} from '../../source/core/bus.js';
import {type EventInit} from '../../source/core/event.js';
import {StdoutSink} from '../../source/sinks/stdout.js';

// The stdout sink against a source that publishes the moment it is resumed: the bus resumes it
// from inside the sink's own taking from the queue, and what it adds then must come out after
// what the sink had already taken, not before.

const event = (n: number): EventInit => ({
	time: 0, receivedAt: 0, sourceId: 'src', sourceKind: 'stdin', service: 's', host: '', proc: '', type: '', level: 'INFO', message: String(n), raw: String(n),
});

test('lines keep their order when taking from the queue resumes a source that publishes at once', async () => {
	const total = 20_000;
	const bus = new Bus();
	const queue = bus.queue('stdout', {capacity: 400});
	const lines: string[] = [];
	// A slow reader: each write is taken on a later turn, so the sink is often blocked.
	const out = new Writable({
		highWaterMark: 4096,
		write(chunk: Buffer, _encoding, done) {
			lines.push(...chunk.toString().split('\n').filter(Boolean));
			setImmediate(done);
		},
	});
	let next = 0;
	let paused = false;
	const send = (): void => {
		const batch = Array.from({length: Math.min(150, total - next)}, (_, i) => event(next + i));
		next += batch.length;
		handle.publish(batch);
	};

	const handle = bus.addSource('src', 'stdin', {
		pause() {
			paused = true;
		},
		resume() {
			paused = false;
			// What a source holds already read goes out at once.
			if (next < total) {
				send();
			}
		},
	});
	const sink = new StdoutSink(queue, out, e => e.message, {batch: 100});
	sink.start();
	while (!paused && next < total) {
		send();
	}

	const deadline = Date.now() + 20_000;
	while (lines.length < total && Date.now() < deadline) {
		if (!paused && next < total) {
			send();
		}

		await new Promise(resolve => setImmediate(resolve)); // eslint-disable-line no-await-in-loop
	}

	expect(lines).toHaveLength(total);
	const misplaced = lines.findIndex((line, i) => line !== String(i));
	expect(misplaced).toBe(-1);
});
