import {Worker} from 'node:worker_threads';
import {type SealJob, type SealResult, indexFromGz, sealFile} from './seal-file.js';
import {workerFile} from './worker-file.js';

// Runs seal jobs one at a time in a worker thread (seal-worker.js, see worker-file.ts). Where
// there is no compiled worker file the same code runs in this thread, a slice at a time.

type Pending = {resolve: (r: SealResult) => void; reject: (e: Error) => void};

export class Sealer {
	private worker: Worker | undefined;
	private readonly file = workerFile('seal-worker.js');
	private nextId = 1;
	private readonly pending = new Map<number, Pending>();
	private chain: Promise<unknown> = Promise.resolve();
	private closed = false;

	/** True when jobs run in a worker thread. */
	get threaded(): boolean {
		return this.file !== undefined;
	}

	/** Seal a raw segment; jobs run in order. */
	async seal(job: SealJob): Promise<SealResult> {
		return this.enqueue(job, false);
	}

	/** Build the missing sidecar of a sealed segment. */
	async index(job: SealJob): Promise<SealResult> {
		return this.enqueue(job, true);
	}

	async close(): Promise<void> {
		this.closed = true;
		const w = this.worker;
		this.worker = undefined;
		for (const p of this.pending.values()) {
			p.reject(new Error('history closed'));
		}

		this.pending.clear();
		await w?.terminate();
	}

	private async enqueue(job: SealJob, indexOnly: boolean): Promise<SealResult> {
		const run = this.chain.then(async () => this.run(job, indexOnly));
		this.chain = run.catch(() => undefined);
		return run;
	}

	private async run(job: SealJob, indexOnly: boolean): Promise<SealResult> {
		if (this.closed) {
			throw new Error('history closed');
		}

		if (!this.file) {
			return indexOnly ? indexFromGz(job.gz, job.index) : sealFile(job);
		}

		const w = this.start(this.file);
		const id = this.nextId++;
		return new Promise<SealResult>((resolve, reject) => {
			this.pending.set(id, {resolve, reject});
			w.postMessage({id, job, indexOnly});
		});
	}

	private start(file: string): Worker {
		if (this.worker) {
			return this.worker;
		}

		// A small young generation keeps the memory a seal adds low (its garbage is short-lived lines);
		// the old generation has room for the index of a segment with millions of distinct words.
		const w = new Worker(file, {resourceLimits: {maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256}});
		// A seal cut short at exit is done again at the next start; it must not hold the process.
		w.unref();
		w.on('message', (m: {id: number; result?: SealResult; error?: {message: string; code?: string}}) => {
			const p = this.pending.get(m.id);
			this.pending.delete(m.id);
			if (m.error) {
				p?.reject(Object.assign(new Error(m.error.message), {code: m.error.code}));
			} else {
				p?.resolve(m.result!);
			}
		});
		w.on('error', error => {
			this.fail(error);
		});
		w.on('exit', () => {
			if (this.worker === w) {
				this.worker = undefined;
			}

			this.fail(new Error('the seal worker stopped'));
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
