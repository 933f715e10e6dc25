import {type SealJob, type SealResult, indexFromGz, sealFile} from './seal-file.js';
import {WorkerClient, workerFile} from './worker-client.js';

// Runs seal jobs one at a time in a worker thread (seal-worker.js, see worker-client.ts). Where
// there is no compiled worker file the same code runs in this thread, a slice at a time.

type Reply = {id: number; result?: SealResult; error?: {message: string; code?: string}};

export class Sealer {
	private readonly worker: WorkerClient<Reply> | undefined;
	private chain: Promise<unknown> = Promise.resolve();
	private closed = false;

	constructor() {
		const file = workerFile('seal-worker.js');
		// A small young generation keeps the memory a seal adds low (its garbage is short-lived lines);
		// the old generation has room for the index of a segment with millions of distinct words.
		// A seal cut short at exit is done again at the next start; it must not hold the process.
		this.worker = file === undefined ? undefined : new WorkerClient<Reply>(file, {
			worker: {resourceLimits: {maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256}},
			stopped: 'the seal worker stopped',
		});
	}

	/** True when jobs run in a worker thread. */
	get threaded(): boolean {
		return this.worker !== undefined;
	}

	/** Seal a raw segment; jobs run in order. */
	async seal(job: SealJob): Promise<SealResult> {
		return this.enqueue(job, false);
	}

	/** Build the missing sidecar of a sealed segment. */
	async index(job: SealJob): Promise<SealResult> {
		return this.enqueue(job, true);
	}

	/** Start the worker thread ahead of the first seal, so its start does not fall in a burst of ingest. */
	warm(): void {
		if (!this.closed) {
			this.worker?.start();
		}
	}

	async close(): Promise<void> {
		this.closed = true;
		await this.worker?.close(new Error('history closed'));
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

		if (!this.worker) {
			return indexOnly ? indexFromGz(job.gz, job.index) : sealFile(job);
		}

		const reply = await this.worker.request({job, indexOnly});
		if (reply.error) {
			throw Object.assign(new Error(reply.error.message), {code: reply.error.code});
		}

		return reply.result!;
	}
}
