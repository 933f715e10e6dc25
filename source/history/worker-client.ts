import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {Worker, type WorkerOptions} from 'node:worker_threads';

// What the history's worker threads (seal, encoder, reader, and query's inflater) share on the calling side:
// where a worker's file is, and requests matched to their replies by id.
//
// A worker thread starts from a compiled file next to this module in the build (dist/history/),
// or in the bundle's history/ folder. Where there is none (the single executable, tests run from
// the TypeScript source) the callers do the work in their own thread.

/** The compiled file of worker `name` (`seal-worker.js`), if this build has one. */
export function workerFile(name: string): string | undefined {
	if (!import.meta.url.endsWith('.js')) {
		return undefined; // the single executable (its own path) or TypeScript run from source
	}

	for (const rel of [`./${name}`, `./history/${name}`, `../history/${name}`, `../${name}`]) {
		const url = new URL(rel, import.meta.url);
		if (url.protocol === 'file:' && existsSync(url)) {
			return fileURLToPath(url);
		}
	}

	return undefined;
}

export type WorkerClientOptions<Reply> = {
	/** Resource limits, workerData. */
	worker?: WorkerOptions;
	/** What waiting requests fail with when the thread exits. */
	stopped: string;
	/** Sees every reply first, one no longer waited for included. */
	onReply?: (reply: Reply) => void;
	/** The thread failed or exited; its waiting requests are rejected already. */
	onStop?: (error: Error) => void;
};

type Waiting<Reply> = {resolve: (reply: Reply) => void; reject: (error: Error) => void};

/**
 * One worker thread, started by the first request (or `start`) and again by the next request
 * after it exits. It never holds the process open: what a caller needs done at exit it waits for.
 */
export class WorkerClient<Reply extends {id: number}> {
	private worker: Worker | undefined;
	private readonly waiting = new Map<number, Waiting<Reply>>();
	private nextId = 1;

	constructor(readonly file: string, private readonly options: WorkerClientOptions<Reply>) {}

	/** Send `message` with an id of its own; resolves with the reply that has that id. */
	async request(message: Record<string, unknown>): Promise<Reply> {
		const w = this.start();
		const id = this.nextId++;
		return new Promise<Reply>((resolve, reject) => {
			this.waiting.set(id, {resolve, reject});
			w.postMessage({...message, id});
		});
	}

	/** The thread, started now if it is not running. */
	start(): Worker {
		if (this.worker) {
			return this.worker;
		}

		const w = new Worker(this.file, this.options.worker);
		w.unref();
		w.on('message', (reply: Reply) => {
			this.options.onReply?.(reply);
			const waiting = this.waiting.get(reply.id);
			this.waiting.delete(reply.id);
			waiting?.resolve(reply);
		});
		w.on('error', error => {
			this.fail(error);
		});
		w.on('exit', () => {
			if (this.worker === w) {
				this.worker = undefined;
			}

			this.fail(new Error(this.options.stopped));
		});
		this.worker = w;
		return w;
	}

	/** Reject every waiting request with `error`, and stop the thread. */
	async close(error: Error): Promise<void> {
		const w = this.worker;
		this.worker = undefined;
		this.fail(error);
		await w?.terminate();
	}

	private fail(error: Error): void {
		for (const w of this.waiting.values()) {
			w.reject(error);
		}

		this.waiting.clear();
		this.options.onStop?.(error);
	}
}
