import {type ServerResponse} from 'node:http';
import {type LogEvent} from '../core/event.js';
import {jsonText} from './reply.js';

// One SSE client's side of the stream: a bounded queue of frames and a writer that honours the
// socket's backpressure. A client that does not read fills its queue; past it, events are lost
// for that client only, counted, and a notice (`event: loss`) takes their place in its stream;
// one whose queue stays full for `stuckMs` is disconnected. Nothing here ever waits on the bus.

export type ClientOptions = {
	/** Frames queued at most. */
	capacity: number;
	stuckMs: number;
	/** Called once when it is dropped for being stuck. */
	onStuck: (client: SseClient) => void;
	/** Called with events it lost (for the server's counters). */
	onLoss: (n: number) => void;
	now: () => number;
};

/** Bytes written per call at most: the frames of a queue go in a few large writes, not one each. */
const chunkBytes = 64 * 1024;

export class SseClient {
	private frames: string[] = [];
	private head = 0;
	private waitingDrain = false;
	private scheduled = false;
	/** Events lost since the last notice, and in all. */
	private lostPending = 0;
	lost = 0;
	sent = 0;
	/** When the queue first turned an event away, while it still does. */
	private fullSince: number | undefined;
	/** The newest bus seq this client has been given (live: later seqs only). */
	lastSeq = 0;
	closed = false;
	private drainWaiters: Array<() => void> = [];

	constructor(readonly res: ServerResponse, private readonly options: ClientOptions) {
		res.on('drain', () => {
			this.waitingDrain = false;
			for (const w of this.drainWaiters.splice(0)) {
				w();
			}

			this.flush();
		});
	}

	get queued(): number {
		return this.frames.length - this.head;
	}

	/** A live event, already serialized: queued, or counted as lost when the queue is full. */
	offer(e: LogEvent, frame: string): void {
		if (this.closed || e.seq <= this.lastSeq) {
			return;
		}

		this.lastSeq = e.seq;
		if (this.queued >= this.options.capacity) {
			this.lostPending++;
			this.lost++;
			this.options.onLoss(1);
			this.fullSince ??= this.options.now();
			return;
		}

		if (this.lostPending > 0) {
			this.frames.push(lossFrame(this.lostPending, this.lost));
			this.lostPending = 0;
		}

		this.fullSince = undefined;
		this.frames.push(frame);
		this.schedule();
	}

	/** Frames written in order at once, whatever the queue's capacity (the resume's last step, bounded by the caller). */
	push(frames: readonly string[]): void {
		for (const f of frames) {
			this.frames.push(f);
		}

		this.schedule();
	}

	/** Write now, waiting for the socket to take it: the resume's history part. False once closed. */
	async write(text: string): Promise<boolean> {
		if (this.closed) {
			return false;
		}

		if (!this.res.write(text)) {
			this.waitingDrain = true;
			// A reader that takes nothing for stuckMs is dropped here too.
			let timer: NodeJS.Timeout | undefined;
			await new Promise<void>(resolve => {
				this.drainWaiters.push(resolve);
				timer = setTimeout(() => {
					if (!this.closed) {
						this.close();
						this.options.onStuck(this);
					}
				}, this.options.stuckMs);
			});
			clearTimeout(timer);
		}

		return !this.closed;
	}

	/** True when it has stayed full too long (then it is closed). */
	checkStuck(now: number): boolean {
		if (this.closed || this.fullSince === undefined || now - this.fullSince < this.options.stuckMs) {
			return false;
		}

		this.close();
		this.options.onStuck(this);
		return true;
	}

	/** A comment line that keeps proxies from closing an idle stream. */
	ping(): void {
		if (!this.closed && this.queued === 0 && !this.waitingDrain) {
			this.res.write(': ping\n\n');
		}
	}

	close(): void {
		if (this.closed) {
			return;
		}

		this.closed = true;
		this.frames = [];
		this.head = 0;
		for (const w of this.drainWaiters.splice(0)) {
			w();
		}

		this.res.destroy();
	}

	private schedule(): void {
		if (!this.scheduled && !this.waitingDrain) {
			this.scheduled = true;
			setImmediate(() => {
				this.scheduled = false;
				this.flush();
			});
		}
	}

	private flush(): void {
		while (!this.closed && !this.waitingDrain && this.head < this.frames.length) {
			let chunk = '';
			let n = 0;
			while (this.head < this.frames.length && chunk.length < chunkBytes) {
				chunk += this.frames[this.head++];
				n++;
			}

			this.sent += n;
			if (this.head > 4096 && this.head * 2 > this.frames.length) {
				this.frames = this.frames.slice(this.head);
				this.head = 0;
			}

			if (!this.res.write(chunk)) {
				this.waitingDrain = true;
			}
		}

		if (this.head === this.frames.length && this.head > 0) {
			this.frames = [];
			this.head = 0;
		}

		if (!this.closed && !this.waitingDrain && this.lostPending > 0) {
			// Room again and nothing after the loss yet: the notice goes out now, not with the next event.
			this.frames.push(lossFrame(this.lostPending, this.lost));
			this.lostPending = 0;
			this.fullSince = undefined;
			this.schedule();
		}
	}
}

export function lossFrame(lost: number, total: number): string {
	return `event: loss\ndata: ${jsonText({lost, totalLost: total, message: `${lost} events were not sent: this client read more slowly than they came`})}\n\n`;
}
