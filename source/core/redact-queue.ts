import {type EventInit, eventChars} from './event.js';
import {screenTexts} from './redact.js';

// Redaction with a second thread: the bus sends each batch's texts to a screen (redact-thread.ts:
// a worker thread running the same rules) and goes on reading, while the screen looks for what the
// rules would change. Where it found nothing, which is nearly every line, the bus's own redactor
// leaves the event as it is; it redacts the rest itself, as without a screen. So what comes out is
// what the redactor alone would give, and the rule scans, most of redaction's cost, run on the
// other core.
//
// Batches leave in the order they came, each once every batch before it is answered. While more
// than `highWater` events (or `highWaterChars` of text) wait, the sources that can pause are
// paused; past `maxWaiting` (or `maxWaitingChars`), every
// waiting batch is redacted here at once, in order, and delivered, so a screen that falls behind
// slows the bus to the speed of redacting in one thread and no further, and the wait cannot grow
// without end. Batches that come before the screen is ready are redacted here too: a thread starts
// only once a run has published a good many events, and takes a tenth of a second or more to start.

export type RedactScreen = {
	/** False while it starts: batches are redacted at once meanwhile, rather than wait for it. */
	readonly ready: boolean;
	/** Told of each batch published (it may start on this). */
	offered?(events: number): void;
	/**
	 * Screen texts: `answer` gets a flag per text (1: a rule may change it), later or at once, or
	 * undefined when the screen cannot answer (the caller then redacts every text itself).
	 */
	screen(texts: string[], answer: (flags: Uint8Array | undefined) => void): void;
	close(): void;
};

export type ScreenTarget<S> = {
	/** Redact a batch in place (`screened`: the screen's flags, for `Redactor.redactBatch`). */
	redact(events: EventInit[], screened?: Uint8Array): void;
	/** The batch, redacted, goes on to the consumers. */
	deliver(source: S, events: EventInit[]): void;
	/** Pause (true) or resume the sources that can pause. */
	pressure(on: boolean): void;
};

type Entry<S> = {source: S; events: EventInit[]; chars: number; ready: boolean; redacted: boolean; flags: Uint8Array | undefined};

const highWater = 20_000;
const lowWater = 5000;
const maxWaiting = 50_000;
// The same in text (core/event.ts eventChars): a few thousand lines of 1 MiB would pass any count.
const highWaterChars = 32 * 1024 * 1024;
const lowWaterChars = 8 * 1024 * 1024;
const maxWaitingChars = 64 * 1024 * 1024;
/** Past this share of flagged texts, batches skip the screen (each flagged text is redacted twice). */
const maxFlaggedShare = 0.3;
const probeEvery = 16;

export class ScreenQueue<S> {
	private readonly entries: Entry<S>[] = [];
	private waitingEvents = 0;
	private waitingChars = 0;
	private pressing = false;
	private releasing = false;
	private settledWaiters: Array<() => void> = [];
	/** The share of texts the screen flags, recent batches weighing most. */
	private flaggedShare = 0;
	private skipped = 0;

	constructor(private readonly screen: RedactScreen, private readonly target: ScreenTarget<S>) {}

	/** Events whose texts the screen answered for. */
	screened = 0;

	/** Events sent and not yet delivered. */
	get waiting(): number {
		return this.waitingEvents;
	}

	add(source: S, events: EventInit[]): void {
		let chars = 0;
		for (const e of events) {
			chars += eventChars(e);
		}

		const entry: Entry<S> = {source, events, chars, ready: false, redacted: false, flags: undefined};
		this.entries.push(entry);
		this.waitingEvents += events.length;
		this.waitingChars += chars;
		this.screen.offered?.(events.length);
		if (this.waitingEvents > maxWaiting || this.waitingChars > maxWaitingChars) {
			// Everything waiting is redacted here, in order (a private key's lines may span batches);
			// the screen's late answers for these batches find them gone.
			for (const e of this.entries) {
				e.ready = true;
			}

			this.release();
			return;
		}

		// Where most texts come back flagged, a screen only adds work: such batches are redacted here,
		// in their turn, and one in `probeEvery` is still screened to notice when that changes.
		const skip = this.flaggedShare > maxFlaggedShare && this.skipped++ % probeEvery !== 0;
		const texts = this.screen.ready && !skip ? screenTexts(events) : [];
		if (!this.screen.ready) {
			this.target.redact(events);
			entry.redacted = true;
			entry.ready = true;
		} else if (texts.length === 0) {
			entry.ready = true;
		} else {
			this.screen.screen(texts, flags => {
				entry.flags = flags;
				entry.ready = true;
				if (flags !== undefined) {
					let flagged = 0;
					for (const f of flags) {
						flagged += f;
					}

					this.flaggedShare = (this.flaggedShare + (flagged / flags.length)) / 2;
				}

				this.release();
			});
		}

		this.release();
	}

	/** Resolves once every batch added so far has been delivered. */
	async settled(): Promise<void> {
		if (this.entries.length === 0) {
			return;
		}

		await new Promise<void>(resolve => {
			this.settledWaiters.push(resolve);
		});
	}

	close(): void {
		this.screen.close();
	}

	private release(): void {
		// A consumer that publishes while a batch is delivered adds behind it; this loop takes it.
		if (this.releasing) {
			return;
		}

		this.releasing = true;
		try {
			while (this.entries[0]?.ready) {
				const e = this.entries.shift()!;
				this.waitingEvents -= e.events.length;
				this.waitingChars -= e.chars;
				if (!e.redacted) {
					this.target.redact(e.events, e.flags);
					this.screened += e.flags === undefined ? 0 : e.events.length;
				}

				this.target.deliver(e.source, e.events);
			}
		} finally {
			this.releasing = false;
		}

		const press = this.pressing
			? this.waitingEvents > lowWater || this.waitingChars > lowWaterChars
			: this.waitingEvents > highWater || this.waitingChars > highWaterChars;
		if (press !== this.pressing) {
			this.pressing = press;
			this.target.pressure(press);
		}

		if (this.entries.length === 0 && this.settledWaiters.length > 0) {
			const waiters = this.settledWaiters;
			this.settledWaiters = [];
			for (const w of waiters) {
				w();
			}
		}
	}
}
