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
	/** The worker reading it, once one is free. */
	worker: Worker | undefined;
	private readonly batches: Buffer[] = [];
	private ended = false;
	private failed: Error | undefined;
	private wake: (() => void) | undefined;

	constructor(readonly id: number, readonly file: string, private readonly forget: (feed: ScanFeed) => void) {}

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
			this.worker?.postMessage({op: 'more', id: this.id} satisfies ScanRequest);
		}

		return lines;
	}

	close(): void {
		if (!this.ended) {
			this.ended = true;
			this.worker?.postMessage({op: 'stop', id: this.id} satisfies ScanRequest);
			this.forget(this);
		}

		this.batches.length = 0;
	}
}

/**
 * Worker threads scanning sealed segments for one task. A segment goes to the first worker free
 * (each has one at a time), so a worker slowed down by other work on the machine leaves more to
 * the other instead of holding up the scan's end.
 */
export class ScanPool {
	private readonly workers: Worker[] = [];
	/** The feed each worker reads, if any. */
	private readonly busy = new Map<Worker, ScanFeed | undefined>();
	/** Feeds asked for, no worker yet, oldest first. */
	private readonly waiting: ScanFeed[] = [];
	private nextId = 1;

	constructor(file: string, task: ScanTask, size: number) {
		for (let i = 0; i < size; i++) {
			const worker = new Worker(file, {workerData: task});
			// A scan cut short (a signal, `| head`) must not be held up by a worker.
			worker.unref();
			worker.on('message', (reply: ScanReply) => {
				const feed = this.busy.get(worker);
				if (feed?.id === reply.id) {
					feed.receive(reply);
				}
			});
			const fail = (error: Error): void => {
				this.busy.get(worker)?.fail(error);
				this.busy.set(worker, undefined);
				const at = this.workers.indexOf(worker);
				if (at < 0) {
					return; // closed, or failed already
				}

				this.workers.splice(at, 1);
				if (this.workers.length === 0) {
					for (const feed of this.waiting.splice(0)) {
						feed.fail(error);
					}
				}
			};

			worker.on('error', fail);
			worker.on('exit', () => {
				fail(new Error('a history scan worker stopped'));
			});
			this.workers.push(worker);
			this.busy.set(worker, undefined);
		}
	}

	get size(): number {
		return this.workers.length;
	}

	/** The matching lines of the sealed segment `gz`, read by the first worker free. */
	read(gz: string): ScanFeed {
		const feed = new ScanFeed(this.nextId++, gz, gone => {
			this.done(gone);
		});
		this.waiting.push(feed);
		this.dispatch();
		return feed;
	}

	async close(): Promise<void> {
		this.waiting.length = 0;
		const workers = this.workers.splice(0);
		this.busy.clear();
		await Promise.all(workers.map(async w => w.terminate()));
	}

	private done(feed: ScanFeed): void {
		const waiting = this.waiting.indexOf(feed);
		if (waiting >= 0) {
			this.waiting.splice(waiting, 1);
		}

		if (feed.worker && this.busy.get(feed.worker) === feed) {
			this.busy.set(feed.worker, undefined);
			this.dispatch();
		}
	}

	private dispatch(): void {
		for (const worker of this.workers) {
			if (this.waiting.length === 0) {
				return;
			}

			if (!this.busy.get(worker)) {
				const feed = this.waiting.shift()!;
				feed.worker = worker;
				this.busy.set(worker, feed);
				worker.postMessage({op: 'read', id: feed.id, file: feed.file, ahead} satisfies ScanRequest);
			}
		}
	}
}
