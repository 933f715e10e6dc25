import {type Writable} from 'node:stream';
import {type QueueConsumer} from '../core/bus.js';
import {type Formatter} from './format.js';

// Writes the filtered stream to stdout. It takes events from its own bounded
// bus queue and writes them in batches. When stdout is slow, write() returns
// false and the writer waits for 'drain'; meanwhile its queue fills, the bus
// pauses sources that can pause (stdin, Kafka) and drops, with a count, from
// those that cannot (network sockets must keep draining).

export type StdoutSinkOptions = {
	/** Events per write. */
	batch?: number;
};

export class StdoutSink {
	written = 0;
	/** Set when the reader went away (EPIPE). */
	closed = false;
	private readonly batch: number;
	private running: Promise<void> | undefined;
	private stopping = false;
	private onClosed: (() => void) | undefined;

	constructor(private readonly queue: QueueConsumer, private readonly out: Writable, private readonly format: Formatter, options: StdoutSinkOptions = {}) {
		this.batch = options.batch ?? 1000;
		out.on('error', (error: NodeJS.ErrnoException) => {
			// EPIPE: the reader (e.g. `head`) is done. Anything else: also nothing more to write.
			void error;
			this.closed = true;
			this.queue.close();
			this.onClosed?.();
		});
	}

	/** Called once when the reader goes away. */
	whenClosed(callback: () => void): void {
		this.onClosed = callback;
	}

	start(): void {
		this.running ??= this.loop();
	}

	private async loop(): Promise<void> {
		while (!this.closed) {
			await this.queue.wait();
			if (this.closed || (this.stopping && this.queue.length === 0)) {
				return;
			}

			const events = this.queue.take(this.batch);
			if (events.length === 0) {
				continue;
			}

			let chunk = '';
			for (const e of events) {
				chunk += this.format(e) + '\n';
			}

			this.written += events.length;
			if (!this.out.write(chunk)) {
				await this.drained();
			}
		}
	}

	private async drained(): Promise<void> {
		if (this.closed) {
			return;
		}

		await new Promise<void>(resolve => {
			const done = (): void => {
				this.out.off('drain', done);
				this.out.off('error', done);
				this.out.off('close', done);
				resolve();
			};

			this.out.once('drain', done);
			this.out.once('error', done);
			this.out.once('close', done);
		});
	}

	/** Write what is queued, then resolve once stdout has taken it (or the timeout passes). */
	async flush(timeoutMs = 3000): Promise<void> {
		this.stopping = true;
		this.queue.close(); // wakes the loop; it drains the rest
		const deadline = new Promise<void>(resolve => setTimeout(resolve, timeoutMs).unref());
		await Promise.race([this.running ?? Promise.resolve(), deadline]);
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
