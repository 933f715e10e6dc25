import {parentPort} from 'node:worker_threads';
import {type Batch} from './capture.js';
import {encodeBatch} from './encode-batch.js';

// The encoder worker: captured batches in, their JSON lines out. Memory is moved, not copied,
// and goes round: a batch's buffers go back with its lines for the next batch, and the lines'
// buffers come back with a later batch, once written, to hold more lines.

/** Buffers for lines, handed back by the writer. */
const spares: ArrayBuffer[] = [];
const maxSpares = 8;

parentPort?.on('message', (m: {id: number; batch: Batch; spares: ArrayBuffer[]}) => {
	spares.push(...m.spares);
	spares.splice(0, Math.max(0, spares.length - maxSpares));
	try {
		const encoded = encodeBatch(m.batch, spares);
		const {numbers, meta, text} = m.batch;
		const moved = [...encoded.all, ...encoded.errors, numbers, meta, text].map(b => b.buffer as ArrayBuffer);
		parentPort!.postMessage({id: m.id, encoded, returned: {numbers, meta, text}}, [...new Set(moved)]);
	} catch (error) {
		parentPort!.postMessage({id: m.id, error: error instanceof Error ? error.message : String(error)});
	}
});
