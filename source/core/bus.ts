import {type EventInit, type LogEvent, type SourceKind, boundNames, eventChars, gapEvent} from './event.js';
import {type Filter} from './filter.js';
import {Diagnostics} from './diagnostics.js';
import {type SourceHealth, type SourceState, newHealth} from './health.js';
import {type Redactor} from './redact.js';
import {type RedactScreen, ScreenQueue} from './redact-queue.js';

// The one event bus. Sources publish batches; consumers subscribe.
//
// - Direct subscribers (the store, aggregates) are called synchronously and must be O(batch).
// - Queued consumers (the stdout writer, the logio fan-out) each get a bounded queue.
//   When a queue passes its high-water mark the bus asks every source that can pause
//   (stdin, Kafka) to pause, and resumes them below the low-water mark. Sources that
//   cannot pause (sockets that must keep draining) lose events at a full queue; every
//   loss is counted per source and per consumer.
// Publishing never waits, so no consumer can stall a source's socket reads.

export type SourceControl = {
	/** Present when the source can stop reading without losing data (stdin, Kafka). */
	pause?: () => void;
	resume?: () => void;
};

type Direct = (events: readonly LogEvent[]) => void;

export type QueueOptions = {
	/** Events held at most for sources that cannot pause. Default 10,000. */
	capacity?: number;
	/** Text held at most (UTF-16 units, core/event.ts `eventChars`), as for `capacity`. Default 16 Mi. */
	maxChars?: number;
	filter?: Filter | undefined;
	/** False: alert events (marker `alert`) are never queued, e.g. for stdout, where they must not mix with the stream. */
	alerts?: boolean;
};

export const defaultQueueChars = 16 * 1024 * 1024;

export class QueueConsumer {
	readonly name: string;
	readonly capacity: number;
	readonly maxChars: number;
	filter: Filter | undefined;
	readonly alerts: boolean;
	dropped = 0;
	/** Events its filter turned away: with `dropped`, what an exit summary needs to add up. */
	filtered = 0;
	readonly droppedBySource = new Map<string, number>();
	private batches: LogEvent[][] = [];
	private first = 0; // index of the oldest unconsumed batch
	private offset = 0; // into batches[first]
	private count = 0;
	private chars = 0;
	/** Called synchronously whenever events were queued: lets a consumer take them while they are young. */
	onQueued: (() => void) | undefined;
	closed = false;

	constructor(name: string, options: QueueOptions, private readonly bus: Bus) {
		this.name = name;
		this.capacity = options.capacity ?? 10_000;
		this.maxChars = options.maxChars ?? defaultQueueChars;
		this.filter = options.filter;
		this.alerts = options.alerts ?? true;
	}

	get length(): number {
		return this.count;
	}

	get highWater(): number {
		return Math.max(1, Math.floor(this.capacity / 2));
	}

	get lowWater(): number {
		return Math.floor(this.capacity / 4);
	}

	/** Called by the bus. Returns the events it had to drop. */
	offer(events: readonly LogEvent[], pausable: boolean): number {
		if (this.closed) {
			return 0;
		}

		const test = this.filter && !this.filter.all ? this.filter.test : undefined;
		// Pausable sources are paused at the high-water mark; what they had in flight is still taken.
		const limit = pausable ? this.capacity * 4 : this.capacity;
		const charLimit = pausable ? this.maxChars * 4 : this.maxChars;
		let accepted: LogEvent[] | undefined;
		let lost = 0;
		for (const e of events) {
			if (e.marker === 'alert' && !this.alerts) {
				continue;
			}

			if (test && !test(e)) {
				this.filtered++;
				continue;
			}

			// One event is always taken into an empty queue, however long (--max-line bounds it).
			const chars = eventChars(e);
			if (this.count >= limit || (this.count > 0 && this.chars + chars > charLimit)) {
				lost++;
				this.dropped++;
				this.droppedBySource.set(e.sourceId, (this.droppedBySource.get(e.sourceId) ?? 0) + 1);
				continue;
			}

			(accepted ??= []).push(e);
			this.count++;
			this.chars += chars;
		}

		if (accepted) {
			this.batches.push(accepted);
			if (this.count >= this.highWater || this.chars >= this.maxChars / 2) {
				this.bus.pressure(this, true);
			}

			this.onQueued?.();
		}

		return lost;
	}

	/** Take up to `max` queued events, oldest first. */
	take(max = Number.POSITIVE_INFINITY): LogEvent[] {
		const out: LogEvent[] = [];
		while (out.length < max && this.first < this.batches.length) {
			const b = this.batches[this.first]!;
			const n = Math.min(b.length - this.offset, max - out.length);
			for (let i = 0; i < n; i++) {
				const e = b[this.offset + i]!;
				out.push(e);
				this.chars -= eventChars(e);
			}

			this.offset += n;
			if (this.offset >= b.length) {
				this.first++;
				this.offset = 0;
			}
		}

		// Drop consumed batches in one go rather than shifting one at a time.
		if (this.first > 1024 || this.first === this.batches.length) {
			this.batches = this.batches.slice(this.first);
			this.first = 0;
		}

		this.count -= out.length;
		if (this.count === 0) {
			this.chars = 0; // nothing can drift past an empty queue
		}

		if (this.count <= this.lowWater && this.chars <= this.maxChars / 4) {
			this.bus.pressure(this, false);
		}

		return out;
	}

	close(): void {
		this.closed = true;
		this.bus.pressure(this, false);
		this.bus.unsubscribeQueue(this);
	}
}

/** What a source holds to talk to the bus. */
export class SourceHandle {
	readonly health: SourceHealth;

	constructor(private readonly bus: Bus, id: string, kind: SourceKind, readonly control: SourceControl) {
		this.health = newHealth(id, kind);
	}

	get id(): string {
		return this.health.id;
	}

	get kind(): SourceKind {
		return this.health.kind;
	}

	get pausable(): boolean {
		return this.control.pause !== undefined;
	}

	publish(events: EventInit[]): void {
		this.bus.publish(this, events);
	}

	setState(state: SourceState, cause?: string, retryInMs?: number): void {
		const h = this.health;
		const reason = cause === undefined ? undefined : this.bus.diagnostics.secrets.redact(cause);
		const retryAt = retryInMs === undefined ? undefined : Date.now() + retryInMs;
		if (h.state === state && h.reason === reason && h.retryAt === retryAt) {
			return;
		}

		h.state = state;
		h.reason = reason;
		h.retryAt = retryAt;
		h.since = Date.now();
		this.bus.healthChanged(this);
	}

	addBytes(n: number): void {
		this.health.bytes += n;
	}

	/** Count one bad input and say why; the input itself is skipped. */
	parseError(cause: string): void {
		const reason = this.bus.diagnostics.secrets.redact(cause);
		this.health.parseErrors++;
		this.health.lastParseError = reason;
		if (this.health.parseErrors <= 5 || this.health.parseErrors % 1000 === 0) {
			this.bus.diagnostics.add('warn', this.id, `${reason} (parse errors: ${this.health.parseErrors})`);
		}
	}

	reconnected(): void {
		this.health.reconnects++;
	}

	/** Put a gap marker in the stream: lines between `from` and `to` may be missing. */
	gap(from: number, to = Date.now()): void {
		this.bus.publish(this, [gapEvent(this.id, this.kind, from, to)]);
	}

	detail(key: string, value: unknown): void {
		this.health.details[key] = typeof value === 'string' ? this.bus.diagnostics.secrets.redact(value) : value;
	}

	log(level: 'debug' | 'info' | 'warn' | 'error', text: string): void {
		this.bus.diagnostics.add(level, this.id, text);
	}
}

export type HealthListener = (health: SourceHealth) => void;

export class Bus {
	readonly diagnostics = new Diagnostics();
	/** The redaction stage: every event passes it before anyone sees it (core/redact.ts). */
	redactor: Redactor | undefined;
	/** With a redactor: batches wait for another thread's screen of their texts (core/redact-queue.ts). */
	private screened: ScreenQueue<SourceHandle> | undefined;
	private seq = 0;
	private readonly sources = new Map<string, SourceHandle>();
	private readonly direct = new Set<Direct>();
	private readonly queues = new Set<QueueConsumer>();
	/** Queues past their high-water mark, and the redaction screen's wait (`this.screened`). */
	private readonly pressured = new Set<object>();
	private readonly healthListeners = new Set<HealthListener>();
	private sourcesPaused = false;

	/** Register a source. Ids must be unique. */
	addSource(id: string, kind: SourceKind, control: SourceControl = {}): SourceHandle {
		if (this.sources.has(id)) {
			throw new Error(`two sources are named "${id}"; give each a unique name`);
		}

		const handle = new SourceHandle(this, id, kind, control);
		this.sources.set(id, handle);
		if (this.sourcesPaused) {
			handle.health.paused = true;
			control.pause?.();
		}

		return handle;
	}

	/** A synchronous subscriber; returns the unsubscribe function. */
	subscribe(consumer: Direct): () => void {
		this.direct.add(consumer);
		return () => this.direct.delete(consumer);
	}

	/** A bounded queued consumer. */
	queue(name: string, options: QueueOptions = {}): QueueConsumer {
		const q = new QueueConsumer(name, options, this);
		this.queues.add(q);
		return q;
	}

	/** @internal */
	unsubscribeQueue(q: QueueConsumer): void {
		this.queues.delete(q);
	}

	/** Where the redactor's rules run besides this thread: `thread` (a worker screens), `failed: why`, or undefined. */
	redactionThread: string | undefined;

	/** Screen texts for the redactor in another thread from now on (set the redactor first). */
	screenRedaction(screen: RedactScreen): void {
		const key = {};
		this.redactionThread = 'thread';
		this.screened = new ScreenQueue<SourceHandle>(screen, {
			redact: (events, flags) => {
				this.redact(events, flags);
			},
			deliver: (source, events) => {
				this.deliver(source, events);
			},
			pressure: on => {
				this.pressure(key, on);
			},
		});
	}

	/** Events the redaction screen answered for (the rest were redacted in this thread alone). */
	get redactionScreened(): number {
		return this.screened?.screened ?? 0;
	}

	/** Resolves once every batch published so far has reached the consumers (it may wait for the redaction screen). */
	async settled(): Promise<void> {
		await this.screened?.settled();
	}

	/** Stop the redaction screen's thread; batches published later are redacted in this one. */
	closeScreen(): void {
		this.screened?.close();
	}

	/** @internal */
	publish(source: SourceHandle, events: EventInit[]): void {
		if (events.length === 0) {
			return;
		}

		if (this.redactor && this.screened) {
			this.screened.add(source, events);
			return;
		}

		this.redact(events);
		this.deliver(source, events);
	}

	private redact(events: EventInit[], screened?: Uint8Array): void {
		const redactor = this.redactor;
		if (redactor) {
			const failures = redactor.failures;
			const screenFailed = redactor.screenFailure !== undefined;
			redactor.redactBatch(events, screened);
			if (!screenFailed && redactor.screenFailure !== undefined) {
				this.diagnostics.add('warn', 'redact', `${redactor.screenFailure}; the rules' own scans redact from now on (slower; nothing is let through)`);
			}

			if (redactor.failures > failures && (failures < 5 || redactor.failures % 1000 < redactor.failures - failures)) {
				this.diagnostics.add('error', 'redact', `an event could not be redacted and was withheld (${redactor.lastFailure}); withheld so far: ${redactor.failures}`);
			}
		}
	}

	private deliver(source: SourceHandle, events: EventInit[]): void {
		const batch = events as LogEvent[];
		const h = source.health;
		let real = 0;
		for (const e of batch) {
			e.seq = ++this.seq;
			boundNames(e);
			if (!e.marker) {
				real++;
			}
		}

		h.events += real;
		if (real > 0) {
			h.lastEventAt = batch.at(-1)!.receivedAt;
		}

		for (const d of this.direct) {
			d(batch);
		}

		for (const q of this.queues) {
			h.drops += q.offer(batch, source.pausable);
		}
	}

	/** @internal: a queue (or the redaction screen's wait) crossed its high (true) or low (false) water mark. */
	pressure(q: object, on: boolean): void {
		if (on) {
			this.pressured.add(q);
		} else {
			this.pressured.delete(q);
		}

		const want = this.pressured.size > 0;
		if (want === this.sourcesPaused) {
			return;
		}

		this.sourcesPaused = want;
		for (const s of this.sources.values()) {
			if (s.pausable) {
				s.health.paused = want;
				if (want) {
					s.control.pause!();
				} else {
					s.control.resume?.();
				}
			}
		}
	}

	/** @internal */
	healthChanged(source: SourceHandle): void {
		for (const l of this.healthListeners) {
			l(source.health);
		}
	}

	onHealth(listener: HealthListener): () => void {
		this.healthListeners.add(listener);
		return () => this.healthListeners.delete(listener);
	}

	health(): SourceHealth[] {
		return [...this.sources.values()].map(s => s.health);
	}

	source(id: string): SourceHandle | undefined {
		return this.sources.get(id);
	}

	consumers(): QueueConsumer[] {
		return [...this.queues];
	}

	/** Last sequence number handed out. */
	get lastSeq(): number {
		return this.seq;
	}
}
