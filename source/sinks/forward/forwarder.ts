import {Backoff} from '../../core/backoff.js';
import {type Bus, type SourceHandle} from '../../core/bus.js';
import {type LogEvent, eventChars} from '../../core/event.js';
import {type Filter} from '../../core/filter.js';
import {type Batch, BatchCutter} from '../../core/forward-batch.js';
import {type DeadLetter} from './dead-letter.js';
import {type Destination, type SendOutcome} from './destination.js';
import {type Feed, type FeedItem, defaultFeedChars} from './feed.js';

/** The longest Retry-After a peer is obeyed for, unless retry.maxDelay is longer. */
const retryAfterCeilingMs = 3_600_000;

// One forwarder's delivery loop. A direct bus subscriber (never a pressure queue: a forwarder
// must not pause or slow the sources) hands matching events to its feed (memory, or the disk
// spool); the loop takes them into batches cut by the destination's limits per partition,
// keeps one batch in flight per partition, retries with backoff and jitter (a peer's
// Retry-After wins), and sets a refused batch aside in the dead-letter file. An event leaves
// the feed only once its batch was acknowledged or set aside. What its batches hold (open, cut
// and in flight) is bounded in events and in text: past either, the loop takes no more from the
// feed, which keeps the rest (memory up to its own bounds, or the spool's disk).

export type RetrySettings = {initialMs: number; maxMs: number; maxAttempts: number};

export type ForwarderOptions = {
	name: string;
	destination: Destination;
	feed: Feed;
	/** Undefined: every event. */
	filter: Filter | undefined;
	/** Its state and counters in health, the status bar and /api/v1/health. */
	handle: SourceHandle;
	deadLetter: DeadLetter;
	retry: RetrySettings;
	/** A send not settled by then counts as a failed attempt. */
	timeoutMs: number;
	/** Events held in batches at most (the feed holds its own). */
	holdMax: number;
	/** Text held in batches at most, in flight included (eventChars); one event always goes into an empty cutter. Default 64 Mi. */
	holdChars?: number;
	/** Scrubs secrets from a peer's reply before it is shown. */
	redact: (text: string) => string;
};

export type ForwarderCounters = {
	queued: number;
	/** Text of the events in batches (open, cut and in flight), bounded by holdChars. */
	batchChars: number;
	/** Text of the events waiting in the feed's memory (the memory feed, or the spool's queue). */
	feedChars: number;
	spooled: number;
	spoolBytes: number;
	sent: number;
	dropped: number;
	deadLettered: number;
	filtered: number;
	batches: number;
	failedAttempts: number;
	damaged: number;
};

type InFlight = {batch: Batch<FeedItem>; attempt: number; timer?: NodeJS.Timeout};

export class Forwarder {
	readonly name: string;
	sent = 0;
	filtered = 0;
	batches = 0;
	failedAttempts = 0;
	/** Events still undelivered when logmon stopped without a spool (a spool keeps them for the next run). */
	unsent = 0;
	lastError: string | undefined;
	private readonly cutter: BatchCutter<FeedItem>;
	private readonly busy = new Set<string>();
	private readonly inFlight = new Set<InFlight>();
	/** Text of the batches in flight. */
	private inFlightChars = 0;
	private readonly holdChars: number;
	private readonly retrying = new Map<string, string>();
	private off: (() => void) | undefined;
	private dueTimer: NodeJS.Timeout | undefined;
	private dueAt = Number.POSITIVE_INFINITY;
	private detailsTimer: NodeJS.Timeout | undefined;
	private pumping = false;
	private pumpAgain = false;
	private flushing = false;
	private stopped = false;
	private idleWaiters: Array<() => void> = [];

	constructor(private readonly options: ForwarderOptions) {
		this.name = options.name;
		this.cutter = new BatchCutter(options.destination.limits);
		this.holdChars = options.holdChars ?? defaultFeedChars;
		options.feed.onReady = () => {
			this.schedule();
		};
	}

	/** Subscribe to the bus and go live. */
	start(bus: Bus): void {
		const test = this.options.filter && !this.options.filter.all ? this.options.filter.test : undefined;
		const {feed} = this.options;
		this.off = bus.subscribe(events => {
			let picked: LogEvent[] | undefined;
			for (const e of events) {
				// Gap markers and alert notices are logmon's own: only log events go on.
				if (e.marker) {
					continue;
				}

				if (test && !test(e)) {
					this.filtered++;
					continue;
				}

				(picked ??= []).push(e);
			}

			if (picked) {
				feed.push(picked);
			}
		});
		const {handle, destination} = this.options;
		if (destination.connecting) {
			// `live` once reached, or once a batch is sent; a failed first try stays `connecting`, with why.
			handle.setState('connecting');
			void destination.connecting.then(why => {
				if (!this.stopped && handle.health.state === 'connecting') {
					handle.setState(why === undefined ? 'live' : 'connecting', why);
				}
			});
		} else {
			handle.setState('live');
		}

		this.updateDetails();
		this.detailsTimer = setInterval(() => {
			this.updateDetails();
		}, 500);
		this.detailsTimer.unref();
		this.schedule();
	}

	/** "archive: file /var/log/logmon/all.ndjson, spool /…/spool/archive (1200 events from an earlier run)". */
	describe(): string {
		const {destination, feed} = this.options;
		const spool = feed.details?.();
		const restored = Number(spool?.['restored'] ?? 0);
		const where = spool ? `, spool ${String(spool['spoolDir'])}${restored > 0 ? ` (${restored} events from an earlier run to send first)` : ''}` : '';
		return `${this.name}: ${destination.kind} ${destination.target}${where}`;
	}

	counters(): ForwarderCounters {
		const f = this.options.feed.counters();
		return {
			queued: f.queued + this.cutter.size + this.inFlightCount(),
			batchChars: this.cutter.chars + this.inFlightChars,
			feedChars: f.queuedChars,
			spooled: f.spooled,
			spoolBytes: f.spoolBytes,
			sent: this.sent,
			dropped: f.dropped,
			deadLettered: this.options.deadLetter.count,
			filtered: this.filtered,
			batches: this.batches,
			failedAttempts: this.failedAttempts,
			damaged: f.damaged,
		};
	}

	/** Stop taking events, send what is held for up to `timeoutMs`, then release the destination. */
	async stop(timeoutMs: number): Promise<void> {
		if (this.stopped) {
			return;
		}

		this.off?.();
		this.flushing = true;
		this.schedule();
		await Promise.race([this.idle(), new Promise(resolve => {
			setTimeout(resolve, timeoutMs).unref();
		})]);
		this.stopped = true;
		// A spool keeps these for the next run; without one they are gone, and said so.
		if (!this.options.feed.durable) {
			this.unsent += this.inFlightCount() + this.cutter.size + this.options.feed.counters().queued;
		}

		clearInterval(this.detailsTimer);
		clearTimeout(this.dueTimer);
		for (const f of this.inFlight) {
			clearTimeout(f.timer);
		}

		this.updateDetails();
		await Promise.allSettled([this.options.destination.close(), this.options.feed.close(), this.options.deadLetter.close()]);
		this.options.handle.setState('stopped');
	}

	private inFlightCount(): number {
		let n = 0;
		for (const f of this.inFlight) {
			n += f.batch.items.length;
		}

		return n;
	}

	private async idle(): Promise<void> {
		if (this.isIdle()) {
			return;
		}

		await new Promise<void>(resolve => {
			this.idleWaiters.push(resolve);
		});
	}

	private isIdle(): boolean {
		return this.inFlight.size === 0 && this.cutter.size === 0 && this.options.feed.counters().queued === 0;
	}

	private schedule(): void {
		if (this.pumping) {
			this.pumpAgain = true;
			return;
		}

		this.pump();
	}

	/** Fill batches from the feed, send every one that is ready, and set a timer for the next one due. */
	private pump(): void {
		if (this.stopped) {
			return;
		}

		this.pumping = true;
		do {
			this.pumpAgain = false;
			this.fill();
			this.sendReady();
		} while (this.pumpAgain);

		this.pumping = false;
		this.armTimer();
		if (this.idleWaiters.length > 0 && this.isIdle()) {
			for (const resolve of this.idleWaiters.splice(0)) {
				resolve();
			}
		}
	}

	private fill(): void {
		const {feed, destination, holdMax} = this.options;
		const now = Date.now();
		const partition = destination.partition;
		while (this.cutter.size < holdMax) {
			// Into an empty cutter one event goes, however long; past it, what the text bound leaves room for.
			const empty = this.cutter.size === 0;
			const room = empty ? Number.POSITIVE_INFINITY : this.holdChars - this.cutter.chars - this.inFlightChars;
			if (room <= 0) {
				break;
			}

			const items = feed.take(empty ? 1 : Math.min(4096, holdMax - this.cutter.size), room);
			if (items.length === 0) {
				break;
			}

			for (const item of items) {
				this.cutter.add(item, destination.measure(item.event), partition ? partition(item.event) : '', now, eventChars(item.event));
			}
		}
	}

	private sendReady(): void {
		const now = Date.now();
		for (let batch = this.cutter.next(this.busy, now, this.flushing); batch; batch = this.cutter.next(this.busy, now, this.flushing)) {
			this.busy.add(batch.key);
			const flight: InFlight = {batch, attempt: 1};
			this.inFlight.add(flight);
			this.inFlightChars += batch.chars;
			void this.attempt(flight);
		}
	}

	private armTimer(): void {
		const due = this.cutter.nextDue(this.busy);
		if (due === undefined || due >= this.dueAt) {
			return;
		}

		clearTimeout(this.dueTimer);
		this.dueAt = due;
		this.dueTimer = setTimeout(() => {
			this.dueAt = Number.POSITIVE_INFINITY;
			this.schedule();
		}, Math.max(0, due - Date.now()));
		this.dueTimer.unref();
	}

	private async send(events: readonly LogEvent[]): Promise<SendOutcome> {
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<SendOutcome>(resolve => {
			timer = setTimeout(() => {
				resolve({ok: false, retry: true, reason: `no answer in ${Math.round(this.options.timeoutMs / 1000)} s`});
			}, this.options.timeoutMs);
		});
		try {
			return await Promise.race([this.options.destination.send(events), timeout]);
		} catch (error) {
			return {ok: false, retry: true, reason: error instanceof Error ? error.message : String(error)};
		} finally {
			clearTimeout(timer);
		}
	}

	private async attempt(flight: InFlight): Promise<void> {
		const {batch} = flight;
		const events = batch.items.map(i => i.event);
		const outcome = await this.send(events);
		if (this.stopped) {
			return;
		}

		const {retry, handle, feed, deadLetter} = this.options;
		if (outcome.ok) {
			this.sent += events.length;
			this.batches++;
			feed.ack(batch.items);
			this.done(flight);
			if (this.retrying.size === 0 && handle.health.state !== 'live') {
				handle.setState('live');
			}

			this.schedule();
			return;
		}

		this.failedAttempts++;
		const reason = this.options.redact(outcome.reason);
		this.lastError = reason;
		const giveUp = retry.maxAttempts > 0 && flight.attempt >= retry.maxAttempts;
		if (outcome.retry && !giveUp && !this.flushing) {
			const backoff = new Backoff({initialMs: retry.initialMs, maxMs: retry.maxMs});
			backoff.attempt = flight.attempt - 1;
			// A peer's Retry-After is honoured, up to an hour (or retry.maxDelay when longer): one of
			// years would be a timer Node runs after 1 ms, a loop of requests.
			const waitMs = Math.min(Math.max(retry.maxMs, retryAfterCeilingMs), Math.max(outcome.retryAfterMs ?? 0, backoff.next()));
			this.retrying.set(batch.key, reason);
			handle.setState('retrying', reason, waitMs);
			flight.attempt++;
			flight.timer = setTimeout(() => {
				void this.attempt(flight);
			}, waitMs);
			flight.timer.unref();
			return;
		}

		if (outcome.retry && this.flushing) {
			// Stopping: what is not delivered stays in the spool (or, without one, is counted as unsent).
			if (!this.options.feed.durable) {
				this.unsent += events.length;
			}

			this.done(flight);
			this.schedule();
			return;
		}

		const why = giveUp && outcome.retry ? `gave up after ${flight.attempt} attempts: ${reason}` : reason;
		// A destination may name the only events it refused (a `_bulk` reply): the others were delivered.
		const refused = !outcome.retry && outcome.refused ? outcome.refused : events;
		this.sent += events.length - refused.length;
		handle.log('error', `forward ${this.name}: ${refused.length} event${refused.length === 1 ? '' : 's'} set aside in ${deadLetter.file}: ${why}`);
		await deadLetter.add(refused, why);
		feed.ack(batch.items);
		this.done(flight);
		handle.setState('failed', why);
		this.schedule();
	}

	private done(flight: InFlight): void {
		if (this.inFlight.delete(flight)) {
			this.inFlightChars = this.inFlight.size === 0 ? 0 : this.inFlightChars - flight.batch.chars;
		}

		this.busy.delete(flight.batch.key);
		this.retrying.delete(flight.batch.key);
		this.updateDetails();
	}

	private updateDetails(): void {
		const {handle, destination} = this.options;
		const c = this.counters();
		handle.detail('destination', destination.kind);
		handle.detail('target', destination.target);
		for (const [key, value] of Object.entries(c)) {
			handle.detail(key, value);
		}

		handle.detail('lastError', this.lastError);
		if (this.unsent > 0) {
			handle.detail('unsent', this.unsent);
		}

		handle.detail('deadLetterFile', this.options.deadLetter.file);
		const own = destination.details?.();
		if (own) {
			handle.detail('destinationDetails', own);
		}

		const spool = this.options.feed.details?.();
		if (spool) {
			handle.detail('spool', spool);
		}
	}
}
