import {Worker} from 'node:worker_threads';
import {type Batch, type BatchBuffers} from './capture.js';
import {type Encoded, encodeBatch} from './encode-batch.js';
import {workerFile} from './worker-file.js';

// Encodes the writer's captured batches into lines in a worker thread (encode-worker.js), so
// the ingest thread only captures. Where there is no compiled worker file, in this thread.
// The memory goes round rather than being made anew for each batch (the garbage collector
// counts every new buffer): a batch's buffers come back for a later batch (`reuse`), and the
// lines' buffers, once written (`recycle`), go back to hold more lines.

const maxSpares = 8;
const maxBuffers = 4;

type Pending = {resolve: (r: Encoded) => void; reject: (e: Error) => void};

/** A Uint8Array the worker sent back: a Buffer over the same memory. */
function asBuffer(a: Uint8Array): Buffer {
	return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export class Encoder {
	private worker: Worker | undefined;
	private readonly file = workerFile('encode-worker.js');
	private nextId = 1;
	private readonly pending = new Map<number, Pending>();
	private closed = false;
	/** Written lines' buffers, for the encoder to fill again. */
	private spares: ArrayBuffer[] = [];
	/** Batch buffers given back. */
	private readonly buffers: BatchBuffers[] = [];

	/** True when batches are encoded in a worker thread. */
	get threaded(): boolean {
		return this.file !== undefined;
	}

	/** The lines of a batch. The batch's buffers are handed over: the caller must not touch them again. */
	async encode(batch: Batch): Promise<Encoded> {
		if (this.closed) {
			throw new Error('history closed');
		}

		if (!this.file) {
			const encoded = encodeBatch(batch, this.spares);
			this.giveBack(batch);
			return encoded;
		}

		const w = this.start(this.file);
		const id = this.nextId++;
		const spares = this.spares;
		this.spares = [];
		return new Promise<Encoded>((resolve, reject) => {
			this.pending.set(id, {resolve, reject});
			w.postMessage({id, batch, spares}, [batch.numbers.buffer, batch.meta.buffer, batch.text.buffer, ...spares] as ArrayBuffer[]);
		});
	}

	/** Buffers for the next batch, when one came back. */
	reuse(): BatchBuffers | undefined {
		return this.buffers.pop();
	}

	/** Lines that are written: their buffers can hold more. */
	recycle(parts: Buffer[]): void {
		for (const p of parts) {
			if (this.spares.length < maxSpares && p.byteOffset === 0 && !this.spares.includes(p.buffer as ArrayBuffer)) {
				this.spares.push(p.buffer as ArrayBuffer);
			}
		}
	}

	private giveBack(b: BatchBuffers): void {
		if (this.buffers.length < maxBuffers) {
			this.buffers.push({numbers: b.numbers, meta: b.meta, text: b.text});
		}
	}

	async close(): Promise<void> {
		this.closed = true;
		const w = this.worker;
		this.worker = undefined;
		this.fail(new Error('history closed'));
		await w?.terminate();
	}

	private start(file: string): Worker {
		if (this.worker) {
			return this.worker;
		}

		const w = new Worker(file, {resourceLimits: {maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64}});
		// Nothing is left to it at exit: the writer's last flush waits for its answer.
		w.unref();
		w.on('message', (m: {id: number; encoded?: Encoded; returned?: BatchBuffers; error?: string}) => {
			const p = this.pending.get(m.id);
			this.pending.delete(m.id);
			if (m.returned) {
				this.giveBack(m.returned);
			}

			if (m.encoded) {
				const e = m.encoded;
				p?.resolve({all: e.all.map(b => asBuffer(b)), allBytes: e.allBytes, errors: e.errors.map(b => asBuffer(b)), errorBytes: e.errorBytes});
			} else {
				p?.reject(new Error(m.error ?? 'the history encoder failed'));
			}
		});
		w.on('error', error => {
			this.fail(error);
		});
		w.on('exit', () => {
			if (this.worker === w) {
				this.worker = undefined;
			}

			this.fail(new Error('the history encoder stopped'));
		});
		this.worker = w;
		return w;
	}

	private fail(error: Error): void {
		for (const p of this.pending.values()) {
			p.reject(error);
		}

		this.pending.clear();
	}
}
