import {type Capture} from './capture.js';
import {type Encoded, encodeBatch} from './encode-batch.js';
import {SlabMap, SlabPool, type SlabNews} from './slabs.js';
import {WorkerClient, workerFile} from './worker-client.js';

// Encodes the writer's captured batches into lines in a worker thread (encode-worker.js), so
// the ingest thread only captures. Where there is no compiled worker file, in this thread.
// Batches and lines are in shared memory (slabs.ts): a batch's slabs are given back once it is
// encoded, the lines' slabs once the writer has written them (`recycle`).

/** What the writer sends the worker for one batch. */
export type EncodeRequest = {
	id: number;
	batch: {count: number; textBytes: number; fields: string[]; extras: string[]; table: number; text: number};
	/** News of the writer's slabs (for batches). */
	news: SlabNews;
	/** Line slabs written, for the worker to fill again. */
	written: number[];
};

/** The worker's answer: the lines as slab numbers and lengths. */
export type EncodeReply = {
	id: number;
	all?: Array<{slab: number; bytes: number}>;
	allBytes?: number;
	errors?: Array<{slab: number; bytes: number}>;
	errorBytes?: number;
	/** News of the worker's slabs (for lines). */
	news?: SlabNews;
	error?: string;
};

/** Free slab memory kept for batches, and for lines (a few flushes' worth at a high rate). */
const maxFreeBytes = 16 * 1024 * 1024;

export class Encoder {
	private readonly worker: WorkerClient<EncodeReply> | undefined;
	private closed = false;
	/** Slabs for batches (this thread makes them). */
	readonly pool = new SlabPool(maxFreeBytes);
	/** Slabs for lines: made by the worker (known by number), or here when there is no worker. */
	private readonly lineSlabs = new SlabMap();
	private readonly linePool = new SlabPool(maxFreeBytes);
	private written: number[] = [];

	constructor() {
		const file = workerFile('encode-worker.js');
		// Nothing is left to it at exit: the writer's last flush waits for its answer.
		this.worker = file === undefined ? undefined : new WorkerClient<EncodeReply>(file, {
			worker: {resourceLimits: {maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64}},
			stopped: 'the history encoder stopped',
			onReply: reply => {
				// Every reply tells of the worker's slabs, one whose batch is no longer waited for too.
				if (reply.news) {
					this.lineSlabs.learn(reply.news);
				}
			},
		});
	}

	/** True when batches are encoded in a worker thread. */
	get threaded(): boolean {
		return this.worker !== undefined;
	}

	/** The lines of a captured batch; its slabs go back to the pool. */
	async encode(capture: Capture): Promise<Encoded> {
		if (this.closed) {
			throw new Error('history closed');
		}

		if (!this.worker) {
			const encoded = encodeBatch(capture.batch(), this.linePool);
			this.release(capture);
			// One thread: nothing to tell.
			this.pool.news();
			this.linePool.news();
			return encoded;
		}

		const b = capture.batch();
		const request: Omit<EncodeRequest, 'id'> = {
			batch: {count: b.count, textBytes: b.textBytes, fields: b.fields, extras: b.extras, table: capture.tableSlab.id, text: capture.textSlab.id},
			news: this.pool.news(),
			written: this.written,
		};
		this.written = [];
		const m = await this.worker.request(request);
		this.release(capture);
		if (m.error === undefined && m.all && m.errors) {
			const part = (x: {slab: number; bytes: number}) => ({slab: this.lineSlabs.get(x.slab), bytes: x.bytes});
			return {all: m.all.map(x => part(x)), allBytes: m.allBytes ?? 0, errors: m.errors.map(x => part(x)), errorBytes: m.errorBytes ?? 0};
		}

		throw new Error(m.error ?? 'the history encoder failed');
	}

	/** Start the worker thread ahead of the first batch. */
	warm(): void {
		if (this.worker && !this.closed) {
			this.worker.start();
		}
	}

	/** Lines that are written: their slabs can hold more. */
	recycle(encoded: Encoded): void {
		for (const p of [...encoded.all, ...encoded.errors]) {
			if (this.worker) {
				this.written.push(p.slab.id);
			} else {
				this.linePool.give(p.slab);
			}
		}
	}

	async close(): Promise<void> {
		this.closed = true;
		await this.worker?.close(new Error('history closed'));
	}

	private release(capture: Capture): void {
		this.pool.give(capture.tableSlab);
		this.pool.give(capture.textSlab);
	}
}
