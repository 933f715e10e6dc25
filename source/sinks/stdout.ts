import {type Writable} from 'node:stream';
import {type QueueConsumer} from '../core/bus.js';
import {type Formatter} from './format.js';

// Writes the filtered stream to stdout. While stdout keeps up, events are written
// as soon as the bus hands them over, so they die young and cost the GC nothing.
// When stdout is slow, write() returns false and the writer waits for 'drain';
// meanwhile its bounded bus queue fills, the bus pauses the sources that can pause
// (stdin, Kafka) and drops, with a count, from those that cannot (network sockets
// must keep draining).

export type StdoutSinkOptions = {
	/** Events per write. */
	batch?: number;
};

export class StdoutSink {
	/** Events stdout has taken (its write callback said so), gap markers included. */
	written = 0;
	/** Gap markers among them. */
	markers = 0;
	/** Events handed to stdout's write, taken or still in its buffer. */
	private handed = 0;
	/** Events still queued when a flush gave up waiting for stdout. */
	private leftInQueue = 0;
	/** Set when the reader went away (EPIPE), or stdout failed otherwise. */
	closed = false;
	/** Why stdout failed, when it was not the reader going away (ENOSPC on a full disk). */
	writeError: string | undefined;
	private readonly batch: number;
	private started = false;
	private blocked = false;
	private pumping = false;
	private onClosed: (() => void) | undefined;
	private onIdle: (() => void) | undefined;

	constructor(private readonly queue: QueueConsumer, private readonly out: Writable, private readonly format: Formatter, options: StdoutSinkOptions = {}) {
		this.batch = options.batch ?? 1000;
		out.on('error', (error: NodeJS.ErrnoException) => {
			// EPIPE: the reader (e.g. `head`) is done. Anything else (a full disk): also nothing more to write, and said.
			if (error.code !== 'EPIPE' && this.writeError === undefined) {
				this.writeError = error.code ? `${error.code} (${error.message.replace(/^[A-Z]+: /, '').replace(/, write$/, '')})` : error.message;
			}

			this.closed = true;
			this.queue.close();
			this.onClosed?.();
			this.onIdle?.();
		});
		out.on('drain', () => {
			this.blocked = false;
			this.pump();
		});
	}

	/** Events that never reached stdout: left in the queue, or in Node's buffer, when a flush gave up. */
	get unwritten(): number {
		return this.leftInQueue + this.handed - this.written;
	}

	/** Called once when the reader goes away. */
	whenClosed(callback: () => void): void {
		this.onClosed = callback;
	}

	start(): void {
		if (!this.started) {
			this.started = true;
			this.queue.onQueued = () => {
				this.pump();
			};
			this.pump();
		}
	}

	/** Write what is queued until stdout asks us to wait. */
	private pump(): void {
		// Taking from the queue may resume a source that publishes at once: this loop takes what it
		// adds, after what it already took, so lines keep their order.
		if (this.pumping) {
			return;
		}

		this.pumping = true;
		try {
			this.pumpLoop();
		} finally {
			this.pumping = false;
		}

		if (!this.blocked && this.queue.length === 0) {
			this.onIdle?.();
		}
	}

	private pumpLoop(): void {
		while (!this.blocked && !this.closed && this.queue.length > 0) {
			const events = this.queue.take(this.batch);
			const n = events.length;
			// Lines joined into one flat string: a string grown by += is a tree of pieces, and
			// stdout's write flattens and encodes such a tree at several times the cost.
			const lines = new Array<string>(n + 1);
			let markers = 0;
			for (let i = 0; i < n; i++) {
				const e = events[i]!;
				lines[i] = this.format(e);
				if (e.marker !== undefined) {
					markers++;
				}
			}

			lines[n] = '';
			const chunk = lines.join('\n');
			this.handed += n;
			// Counted once stdout has the bytes: what sits in Node's buffer at exit is lost.
			const taken = (error?: Error | null): void => {
				if (!error) {
					this.written += n;
					this.markers += markers;
				}
			};

			if (!this.out.write(chunk, taken)) {
				this.blocked = true;
			}
		}
	}

	/** Write what is queued, then resolve once stdout has taken it (or the timeout passes). */
	async flush(timeoutMs = 3000): Promise<void> {
		this.start();
		const deadline = new Promise<void>(resolve => setTimeout(resolve, timeoutMs).unref());
		const idle = new Promise<void>(resolve => {
			this.onIdle = resolve;
		});
		this.pump();
		await Promise.race([idle, deadline]);
		this.leftInQueue = this.queue.length;
		this.queue.close();
		if (this.closed) {
			return;
		}

		await Promise.race([
			new Promise<void>(resolve => {
				this.out.write('', () => resolve());
			}),
			deadline,
		]);
	}
}
