import {type AlertNotice} from '../core/alert-notice.js';
import {Backoff} from '../core/backoff.js';

// One sink's delivery: a bounded queue, one message in flight, retries with backoff
// and jitter (or the peer's Retry-After), and a message rate limit. Enqueueing is
// constant work and never waits, so neither the bus nor another sink is held up by a
// slow or dead peer. Notices that pile up (behind the rate limit or a slow peer) go
// out together in the next message: the sinks render a batch as a summary.

/** What one attempt came to. `retry` false: the peer refused the message for good (4xx). */
export type Outcome = {ok: true} | {ok: false; retry: boolean; reason: string; retryAfterMs?: number | undefined};

export type Transport = {
	send(notices: readonly AlertNotice[]): Promise<Outcome>;
	close?: () => Promise<void> | void;
};

export type SinkState = 'idle' | 'sending' | 'retrying' | 'failed';

/** A sink's state for health: the status bar, `/api/v1/health`. */
export type SinkHealth = {
	name: string;
	kind: string;
	state: SinkState;
	/** Messages delivered, and the notices in them. */
	sent: number;
	notices: number;
	/** Attempts that were retried. */
	retries: number;
	/** Messages given up on (refused, or retried to the limit). */
	failed: number;
	/** Notices dropped from a full queue. */
	dropped: number;
	/** Notices that waited behind the rate limit and went out in a summary. */
	heldBack: number;
	queued: number;
	lastError?: string | undefined;
	retryAt?: number | undefined;
	lastSentAt?: number | undefined;
	/** Commands: how many runs ended with each exit status ("0", "1", "timeout"…). */
	exits?: Record<string, number> | undefined;
};

export type DeliveryOptions = {
	/** Notices waiting at most; past it the oldest is dropped. */
	capacity: number;
	/** Attempts after the first. */
	retries: number;
	/** Messages per minute at most; undefined: no limit. */
	perMinute?: number | undefined;
	/** Notices in one message at most. */
	maxBatch?: number;
	/** First backoff ceiling and the longest wait between attempts (a Retry-After included). */
	initialBackoffMs?: number;
	maxBackoffMs?: number;
	/** Called when the state or counters change (health). */
	onChange?: () => void;
	/** A message given up on: said once per failure, with the reason. */
	onFailure?: (reason: string) => void;
};

export class Delivery {
	readonly health: SinkHealth;
	private readonly queue: AlertNotice[] = [];
	private readonly options: DeliveryOptions;
	private readonly backoff: Backoff;
	private readonly minIntervalMs: number;
	private running = false;
	private stopped = false;
	private nextAllowedAt = 0;
	private timer: NodeJS.Timeout | undefined;
	private wakeTimer: (() => void) | undefined;
	private readonly idle = new Set<() => void>();

	constructor(name: string, kind: string, private readonly transport: Transport, options: DeliveryOptions) {
		this.options = options;
		this.health = {name, kind, state: 'idle', sent: 0, notices: 0, retries: 0, failed: 0, dropped: 0, heldBack: 0, queued: 0};
		this.backoff = new Backoff({initialMs: options.initialBackoffMs ?? 500, maxMs: options.maxBackoffMs ?? 30_000});
		this.minIntervalMs = options.perMinute ? 60_000 / options.perMinute : 0;
	}

	/** Queue a notice; constant work, never waits. */
	enqueue(notice: AlertNotice): void {
		if (this.stopped) {
			return;
		}

		this.queue.push(notice);
		if (this.queue.length > this.options.capacity) {
			this.queue.shift();
			this.health.dropped++;
		}

		this.health.queued = this.queue.length;
		this.changed();
		if (!this.running) {
			this.running = true;
			void this.pump();
		}
	}

	/** Resolves once the queue is empty and nothing is in flight, or after `timeoutMs`. */
	async drain(timeoutMs: number): Promise<void> {
		if (!this.running) {
			return;
		}

		await new Promise<void>(resolve => {
			const done = (): void => {
				clearTimeout(timer);
				this.idle.delete(done);
				resolve();
			};

			// Not unref'd: the wait itself keeps logmon alive until the queue is empty or the time is up.
			const timer = setTimeout(done, timeoutMs);
			this.idle.add(done);
		});
	}

	async stop(): Promise<void> {
		this.stopped = true;
		this.queue.length = 0;
		this.wakeTimer?.();
		await this.transport.close?.();
	}

	private changed(): void {
		this.options.onChange?.();
	}

	/** Wait `ms` (unref'd: a pending retry never keeps logmon alive); stop() cuts it short. */
	private async sleep(ms: number): Promise<void> {
		if (ms <= 0) {
			return;
		}

		await new Promise<void>(resolve => {
			const wake = (): void => {
				clearTimeout(this.timer);
				this.wakeTimer = undefined;
				resolve();
			};

			this.timer = setTimeout(wake, ms);
			this.timer.unref();
			this.wakeTimer = wake;
		});
	}

	private async pump(): Promise<void> {
		const h = this.health;
		try {
			while (this.queue.length > 0 && !this.stopped) {
				const wait = this.nextAllowedAt - Date.now();
				const limited = wait > 0 && this.minIntervalMs > 0;
				if (wait > 0) {
					await this.sleep(wait);
					if (this.stopped) {
						break;
					}
				}

				const batch = this.queue.splice(0, this.options.maxBatch ?? 100);
				if (limited) {
					h.heldBack += batch.length;
				}

				h.queued = this.queue.length;
				await this.deliver(batch);
				this.nextAllowedAt = Date.now() + this.minIntervalMs;
			}
		} finally {
			this.running = false;
			if (h.state === 'sending' || h.state === 'retrying') {
				h.state = 'idle';
			}

			this.changed();
			for (const done of [...this.idle]) {
				done();
			}
		}
	}

	private async deliver(batch: AlertNotice[]): Promise<void> {
		const h = this.health;
		this.backoff.reset();
		for (let attempt = 0; !this.stopped; attempt++) {
			h.state = 'sending';
			h.retryAt = undefined;
			this.changed();
			let outcome: Outcome;
			try {
				outcome = await this.transport.send(batch);
			} catch (error) {
				outcome = {ok: false, retry: true, reason: error instanceof Error ? error.message : String(error)};
			}

			if (outcome.ok) {
				h.sent++;
				h.notices += batch.length;
				h.lastSentAt = Date.now();
				h.state = 'idle';
				this.changed();
				return;
			}

			h.lastError = outcome.reason;
			if (!outcome.retry || attempt >= this.options.retries) {
				h.failed++;
				h.state = 'failed';
				const why = outcome.retry && attempt > 0 ? `${outcome.reason} (gave up after ${attempt + 1} attempts)` : outcome.reason;
				h.lastError = why;
				this.changed();
				this.options.onFailure?.(why);
				return;
			}

			const maxMs = this.options.maxBackoffMs ?? 30_000;
			const delay = Math.min(maxMs, outcome.retryAfterMs ?? this.backoff.next());
			h.retries++;
			h.state = 'retrying';
			h.retryAt = Date.now() + delay;
			this.changed();
			await this.sleep(delay);
		}
	}
}

/** What the runtime gives each sink: health and failure reports. */
export type SinkContext = {
	onChange: () => void;
	onFailure: (sink: string, reason: string) => void;
	/** Where the HTTP API serves this run's alerts, when it runs (Alertmanager's generatorURL). */
	generatorURL?: string | undefined;
};

/** A configured sink: notices in, deliveries out. */
export type Sink = {
	readonly delivery: Delivery;
	offer(notice: AlertNotice): void;
	/** A resolve kept from the sinks by a silence: a sink that holds state about the alert settles it. */
	settle?: (notice: AlertNotice) => void;
	stop(): Promise<void>;
};

/** The delivery options a sink's config gives. */
export function deliveryFor(name: string, kind: string, transport: Transport, config: {queue: number; retries: number; rateLimit?: number | undefined}, context: SinkContext, maxBatch?: number): Delivery {
	return new Delivery(name, kind, transport, {
		capacity: config.queue,
		retries: config.retries,
		perMinute: config.rateLimit,
		...(maxBatch === undefined ? {} : {maxBatch}),
		onChange: context.onChange,
		onFailure(reason) {
			context.onFailure(name, reason);
		},
	});
}

/** A sink that sends every notice as it comes (all but Alertmanager, which also re-sends). */
export function plainSink(delivery: Delivery): Sink {
	return {
		delivery,
		offer(notice) {
			delivery.enqueue(notice);
		},
		async stop() {
			await delivery.stop();
		},
	};
}
