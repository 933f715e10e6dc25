import {Worker} from 'node:worker_threads';
import {checkCrc} from './gzip-members.js';
import {type InflateReply, type InflateRequest} from './inflate-worker.js';
import {headTest, type LineTest, pickLines} from './line-filter.js';
import {type SegmentFeed} from './segment-feed.js';
import {Lines} from './segment-text.js';

// Sealed segments inflated by a worker thread (inflate-worker.ts) while this thread checks,
// searches and decodes: each segment is a feed of the lines that may match (line-filter.ts),
// picked here from the members' text as it arrives. A worker sends at most `ahead` members of a segment
// before they are taken, so what waits here stays bounded whatever the segment's size.

/** Members (about 1 MiB of text each) a worker sends before they are taken. */
const ahead = 2;

class WorkerFeed implements SegmentFeed {
	damaged = false;
	private readonly texts: Array<{text: Buffer; crc: number | undefined}> = [];
	private readonly lines = new Lines();
	private readonly head: ReturnType<typeof headTest>;
	private ended = false;
	private failed: Error | undefined;
	private wake: (() => void) | undefined;

	constructor(readonly id: number, private readonly worker: Worker, private readonly test: LineTest, private readonly forget: (id: number) => void) {
		this.head = headTest(test);
	}

	receive(reply: InflateReply): void {
		if ('text' in reply) {
			this.texts.push({text: Buffer.from(reply.text, 0, reply.length), crc: reply.crc});
		} else {
			this.ended = true;
			this.damaged = reply.damaged;
			this.forget(this.id);
		}

		this.wake?.();
	}

	fail(error: Error): void {
		this.failed ??= error;
		this.ended = true;
		this.wake?.();
	}

	async next(): Promise<Buffer | undefined> {
		for (;;) {
			while (this.texts.length === 0 && !this.ended) {
				await new Promise<void>(resolve => {
					this.wake = resolve;
				});
				this.wake = undefined;
			}

			const piece = this.texts.shift();
			if (!piece) {
				if (this.failed) {
					throw this.failed;
				}

				return undefined;
			}

			if (piece.crc !== undefined && !checkCrc(piece.text, piece.crc)) {
				// Damaged: nothing of this member, nothing after it, as when read here.
				this.close();
				this.damaged = true;
				return undefined;
			}

			if (!this.ended) {
				this.worker.postMessage({op: 'more', id: this.id} satisfies InflateRequest);
			}

			const picked = this.lines.take(piece.text).map(chunk => pickLines(chunk, this.test, this.head)).filter(chunk => chunk.length > 0);
			if (picked.length > 0) {
				return picked.length === 1 ? picked[0]! : Buffer.concat(picked);
			}
		}
	}

	close(): void {
		if (!this.ended) {
			this.ended = true;
			this.worker.postMessage({op: 'stop', id: this.id} satisfies InflateRequest);
			this.forget(this.id);
		}

		this.texts.length = 0;
	}
}

/** A worker thread inflating sealed segments, each in turn. */
export class InflatePool {
	private readonly worker: Worker;
	private readonly feeds = new Map<number, WorkerFeed>();
	private nextId = 1;

	constructor(file: string) {
		this.worker = new Worker(file);
		// A scan cut short (a signal, `| head`) must not be held up by the worker.
		this.worker.unref();
		this.worker.on('message', (reply: InflateReply) => {
			this.feeds.get(reply.id)?.receive(reply);
		});
		const fail = (error: Error): void => {
			for (const feed of this.feeds.values()) {
				feed.fail(error);
			}
		};

		this.worker.on('error', fail);
		this.worker.on('exit', () => {
			fail(new Error('the history\'s inflate worker stopped'));
		});
	}

	/** The lines of the sealed segment `gz` that may pass `test`. */
	read(gz: string, test: LineTest): SegmentFeed {
		const id = this.nextId++;
		const feed = new WorkerFeed(id, this.worker, test, gone => this.feeds.delete(gone));
		this.feeds.set(id, feed);
		this.worker.postMessage({op: 'read', id, file: gz, ahead} satisfies InflateRequest);
		return feed;
	}

	async close(): Promise<void> {
		this.feeds.clear();
		await this.worker.terminate();
	}
}
