import {type ServerResponse} from 'node:http';
import {jsonText} from './reply.js';

// One SSE client's side of the stream: a bounded queue of framed events and a writer that honours the
// socket's backpressure. A client that does not read fills its queue; past it, events are lost
// for that client only, counted, and a notice (`event: loss`) takes their place in its stream;
// one whose socket takes nothing for `stuckMs` is disconnected. Nothing here ever waits on the bus.

export type ClientOptions = {
	/** Events queued at most. */
	capacity: number;
	/** Bytes queued at most (default 32 MiB): a count alone bounds nothing when lines are 1 MiB long. */
	maxBytes?: number;
	stuckMs: number;
	/** Called once when it is dropped for being stuck. */
	onStuck: (client: SseClient) => void;
	/** Called with events it lost (for the server's counters). */
	onLoss: (n: number) => void;
	now: () => number;
};

const defaultMaxBytes = 32 * 1024 * 1024;

/** How long queued events wait for more before they are written. */
const flushDelayMs = 20;

/** Events already framed for the stream: one buffer shared by every client of the same filter. */
export type Chunk = {bytes: Buffer; events: number; lastSeq: number};

export class SseClient {
	private chunks: Chunk[] = [];
	private head = 0;
	/** Events in the queued chunks. */
	private queuedEvents = 0;
	private queuedBytes = 0;
	private waitingDrain = false;
	private scheduled = false;
	/** Events lost since the last notice, and in all. */
	private lostPending = 0;
	lost = 0;
	sent = 0;
	/** Since when the socket has taken nothing more (a write said to wait for 'drain'). */
	private blockedSince: number | undefined;
	/** The newest bus seq this client has been given (live: later seqs only). */
	lastSeq = 0;
	closed = false;
	private drainWaiters: Array<() => void> = [];

	constructor(readonly res: ServerResponse, private readonly options: ClientOptions) {
		res.on('drain', () => {
			this.waitingDrain = false;
			this.blockedSince = undefined;
			for (const w of this.drainWaiters.splice(0)) {
				w();
			}

			this.flush();
		});
	}

	get queued(): number {
		return this.queuedEvents;
	}

	/** Live events, framed: queued, or counted as lost when they do not fit. */
	offer(chunk: Chunk): void {
		if (this.closed || chunk.lastSeq <= this.lastSeq) {
			return;
		}

		this.lastSeq = chunk.lastSeq;
		const tooMany = this.queuedEvents + chunk.events > this.options.capacity;
		// A chunk however large goes into an empty queue: the bus's batches bound it.
		if (tooMany || (this.queuedBytes > 0 && this.queuedBytes + chunk.bytes.length > (this.options.maxBytes ?? defaultMaxBytes))) {
			this.lostPending += chunk.events;
			this.lost += chunk.events;
			this.options.onLoss(chunk.events);
			return;
		}

		if (this.lostPending > 0) {
			this.enqueue({bytes: Buffer.from(lossFrame(this.lostPending, this.lost)), events: 0, lastSeq: chunk.lastSeq});
			this.lostPending = 0;
		}

		this.enqueue(chunk);
		this.schedule();
	}

	/** Frames written in order at once, whatever the queue's capacity (the resume's last step, bounded by the caller). */
	push(frames: readonly string[]): void {
		if (frames.length > 0) {
			this.enqueue({bytes: Buffer.from(frames.join('')), events: frames.length, lastSeq: this.lastSeq});
			this.schedule();
		}
	}

	/** Write now, waiting for the socket to take it: the resume's history part. False once closed. */
	async write(text: string): Promise<boolean> {
		if (this.closed) {
			return false;
		}

		if (!this.res.write(text)) {
			this.block();
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

	/** True when its socket has taken nothing for stuckMs (then it is closed). */
	checkStuck(now: number): boolean {
		if (this.closed || this.blockedSince === undefined || now - this.blockedSince < this.options.stuckMs) {
			return false;
		}

		this.close();
		this.options.onStuck(this);
		return true;
	}

	/** A comment line that keeps proxies from closing an idle stream. */
	ping(): void {
		if (!this.closed && this.queuedEvents === 0 && !this.waitingDrain) {
			this.res.write(': ping\n\n');
		}
	}

	close(): void {
		if (this.closed) {
			return;
		}

		this.closed = true;
		this.chunks = [];
		this.head = 0;
		this.queuedEvents = 0;
		this.queuedBytes = 0;
		for (const w of this.drainWaiters.splice(0)) {
			w();
		}

		this.res.destroy();
	}

	private block(): void {
		this.waitingDrain = true;
		this.blockedSince ??= this.options.now();
	}

	private enqueue(chunk: Chunk): void {
		this.chunks.push(chunk);
		this.queuedEvents += chunk.events;
		this.queuedBytes += chunk.bytes.length;
	}

	private schedule(): void {
		if (!this.scheduled && !this.waitingDrain) {
			this.scheduled = true;
			// What arrives within a few ms leaves in one write: a write per batch and client cost
			// more in system calls than the bytes themselves once dozens of clients read.
			setTimeout(() => {
				this.scheduled = false;
				this.flush();
			}, flushDelayMs);
		}
	}

	private flush(): void {
		if (this.closed || this.waitingDrain || this.head >= this.chunks.length) {
			this.notifyLoss();
			return;
		}

		// Corked: the chunks queued since the last turn leave in one writev.
		const socket = this.res.socket;
		socket?.cork();
		while (!this.waitingDrain && this.head < this.chunks.length) {
			const chunk = this.chunks[this.head++]!;
			this.queuedEvents -= chunk.events;
			this.queuedBytes -= chunk.bytes.length;
			this.sent += chunk.events;
			if (!this.res.write(chunk.bytes)) {
				this.block();
			}
		}

		socket?.uncork();
		if (this.head === this.chunks.length) {
			this.chunks = [];
			this.head = 0;
		} else if (this.head > 1024) {
			this.chunks = this.chunks.slice(this.head);
			this.head = 0;
		}

		this.notifyLoss();
	}

	/** Room again and nothing after the loss yet: the notice goes out now, not with the next event. */
	private notifyLoss(): void {
		if (!this.closed && !this.waitingDrain && this.lostPending > 0 && this.head >= this.chunks.length) {
			this.enqueue({bytes: Buffer.from(lossFrame(this.lostPending, this.lost)), events: 0, lastSeq: this.lastSeq});
			this.lostPending = 0;
			this.schedule();
		}
	}
}

export function lossFrame(lost: number, total: number): string {
	return `event: loss\ndata: ${jsonText({lost, totalLost: total, message: `${lost} events were not sent: this client read more slowly than they came`})}\n\n`;
}
