import {Worker} from 'node:worker_threads';
import {type ScanReply, type ScanRequest} from './scan-worker.js';
import {type SegmentFeed} from './segment-feed.js';
import {type LineCounts, type ScanTask} from './scan-task.js';

// Sealed segments scanned by worker threads (scan-worker.ts), whole segments each, side by side:
// each segment is a feed of its matching lines (or only their number), taken here in segment
// order whatever worker read it. A worker sends at most `ahead` batches of a segment's lines
// before they are taken, so what waits here stays bounded whatever the segment's size.

/** Batches of lines (about 256 KiB each) a worker sends before they are taken. */
const ahead = 2;

export class ScanFeed implements SegmentFeed {
	damaged = false;
	/** Known once the feed has ended. */
	readonly counts: LineCounts = {matched: 0, damagedLines: 0};
	private readonly batches: Buffer[] = [];
	private ended = false;
	private failed: Error | undefined;
	private wake: (() => void) | undefined;

	constructor(readonly id: number, readonly worker: Worker, private readonly forget: (feed: ScanFeed) => void) {}

	receive(reply: ScanReply): void {
		if ('lines' in reply) {
			this.batches.push(Buffer.from(reply.lines));
		} else {
			this.ended = true;
			this.damaged = reply.damaged;
			this.counts.matched = reply.matched;
			this.counts.damagedLines = reply.damagedLines;
			this.forget(this);
		}

		this.wake?.();
	}

	fail(error: Error): void {
		this.failed ??= error;
		this.ended = true;
		this.wake?.();
	}

	async next(): Promise<Buffer | undefined> {
		while (this.batches.length === 0 && !this.ended) {
			await new Promise<void>(resolve => {
				this.wake = resolve;
			});
			this.wake = undefined;
		}

		const lines = this.batches.shift();
		if (!lines) {
			if (this.failed) {
				throw this.failed;
			}

			return undefined;
		}

		if (!this.ended) {
			this.worker.postMessage({op: 'more', id: this.id} satisfies ScanRequest);
		}

		return lines;
	}

	close(): void {
		if (!this.ended) {
			this.ended = true;
			this.worker.postMessage({op: 'stop', id: this.id} satisfies ScanRequest);
			this.forget(this);
		}

		this.batches.length = 0;
	}
}

/** Worker threads scanning sealed segments for one task, each its segments in turn. */
export class ScanPool {
	private readonly workers: Worker[] = [];
	/** The feeds each worker has yet to end, by id. */
	private readonly feeds = new Map<Worker, Map<number, ScanFeed>>();
	private nextId = 1;

	constructor(file: string, task: ScanTask, size: number) {
		for (let i = 0; i < size; i++) {
			const worker = new Worker(file, {workerData: task});
			// A scan cut short (a signal, `| head`) must not be held up by a worker.
			worker.unref();
			const feeds = new Map<number, ScanFeed>();
			worker.on('message', (reply: ScanReply) => {
				feeds.get(reply.id)?.receive(reply);
			});
			const fail = (error: Error): void => {
				for (const feed of feeds.values()) {
					feed.fail(error);
				}
			};

			worker.on('error', fail);
			worker.on('exit', () => {
				fail(new Error('a history scan worker stopped'));
			});
			this.workers.push(worker);
			this.feeds.set(worker, feeds);
		}
	}

	get size(): number {
		return this.workers.length;
	}

	/** The matching lines of the sealed segment `gz`, read by the worker with the least left to do. */
	read(gz: string): ScanFeed {
		let worker = this.workers[0]!;
		for (const w of this.workers) {
			if (this.feeds.get(w)!.size < this.feeds.get(worker)!.size) {
				worker = w;
			}
		}

		const id = this.nextId++;
		const feed = new ScanFeed(id, worker, gone => this.feeds.get(gone.worker)?.delete(gone.id));
		this.feeds.get(worker)!.set(id, feed);
		worker.postMessage({op: 'read', id, file: gz, ahead} satisfies ScanRequest);
		return feed;
	}

	async close(): Promise<void> {
		for (const feeds of this.feeds.values()) {
			feeds.clear();
		}

		await Promise.all(this.workers.map(async w => w.terminate()));
	}
}
