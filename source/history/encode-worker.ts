import {setPriority} from 'node:os';
import {parentPort} from 'node:worker_threads';
import {type LogEvent} from '../core/event.js';
import {type Batch, Capture, slots} from './capture.js';
import {encodeBatch} from './encode-batch.js';
import {type EncodeReply, type EncodeRequest} from './encoder.js';
import {SlabMap, SlabPool} from './slabs.js';

// The encoder worker: captured batches in, their JSON lines out, both in shared memory
// (slabs.ts); messages carry only slab numbers, lengths and the few strings of a batch.

/** The writer's slabs, holding batches. */
const batches = new SlabMap();
/** This thread's slabs, holding lines. */
const lines = new SlabPool(16 * 1024 * 1024);
const made = new Map<number, ReturnType<SlabPool['take']>>();

// A little below the ingest thread (per thread on Linux: only this one): when both want the same
// core, ingest goes first, and this thread catches up on the other core. Measured on the ingest
// bench (two cores): the main thread waited for a CPU 35-45% less at nice 5, with nothing
// dropped; at nice 10 this thread fell behind and the writer dropped events.
try {
	setPriority(5);
} catch {
	// Not allowed here: encoding runs at the normal priority.
}

// Encode made-up events first, so the first real batches (often the largest: a burst at start)
// meet compiled code rather than the interpreter. A few milliseconds, once.
warmUp();

parentPort?.on('message', (m: EncodeRequest) => {
	batches.learn(m.news);
	for (const id of m.written) {
		const slab = made.get(id);
		if (slab) {
			lines.give(slab);
		}
	}

	let reply: EncodeReply;
	try {
		const b = m.batch;
		const encoded = encodeBatch(batchIn(batches.get(b.table).buffer, batches.get(b.text).buffer, b), lines);
		const news = lines.news();
		for (const s of news.slabs) {
			made.set(s.id, s);
		}

		for (const id of news.forget) {
			made.delete(id);
		}

		const part = (p: {slab: {id: number}; bytes: number}) => ({slab: p.slab.id, bytes: p.bytes});
		reply = {id: m.id, all: encoded.all.map(p => part(p)), allBytes: encoded.allBytes, errors: encoded.errors.map(p => part(p)), errorBytes: encoded.errorBytes, news};
	} catch (error) {
		reply = {id: m.id, error: error instanceof Error ? error.message : String(error), news: lines.news()};
	}

	parentPort!.postMessage(reply);
});

/** A batch as the encoder reads it, over the slabs it is in. */
function batchIn(table: SharedArrayBuffer, text: SharedArrayBuffer, b: {count: number; textBytes: number; fields: string[]; extras: string[]}): Batch {
	return {count: b.count, table: new Float64Array(table, 0, b.count * slots), text: new Uint8Array(text, 0, b.textBytes), textBytes: b.textBytes, fields: b.fields, extras: b.extras};
}

/**
 * Lines as logs have them: most plain, some with quotes to escape, some not ASCII. Encoded as
 * the messages give batches (batchIn), so the code compiled now is the code used later.
 */
function warmUp(): void {
	const pool = new SlabPool(4 * 1024 * 1024);
	const events: LogEvent[] = [];
	for (let i = 0; i < 2000; i++) {
		const raw = i % 10 === 0 ? `line ${i}: GET /index.html 200 "quoted" é` : `line ${i}: service started in ${i} ms on host-${i % 7}`;
		events.push({
			seq: i,
			time: 1_700_000_000_000 + i,
			receivedAt: 1_700_000_000_000 + i,
			sourceId: 'warm-up',
			sourceKind: 'stdin',
			service: `service${i % 4}`,
			host: 'host',
			proc: '',
			type: '',
			level: i % 9 === 0 ? 'ERROR' : 'INFO',
			message: i % 5 === 0 ? `message ${i}` : raw,
			raw,
			status: i % 3 === 0 ? 200 : undefined,
		});
	}

	const capture = new Capture(0, pool, 2048, 256 * 1024);
	capture.pushAll(events, 0, events.length);
	const b = capture.batch();
	for (let round = 0; round < 8; round++) {
		const encoded = encodeBatch(batchIn(capture.tableSlab.buffer, capture.textSlab.buffer, b), pool);
		for (const p of [...encoded.all, ...encoded.errors]) {
			pool.give(p.slab);
		}
	}
}
