import {type LogEvent, eventChars} from '../../core/event.js';

// Where a forwarder's events wait for their batch: in memory only (MemoryFeed, below), or on
// disk first (spool.ts). The delivery loop takes items, sends them, and acknowledges them.

export type FeedItem = {
	event: LogEvent;
	/** The spool segment holding it (0: memory only): what an acknowledgement releases. */
	ref: number;
	/** Its place in that segment (spool only): what the segment's acknowledged count moves over. */
	index?: number;
};

export type FeedCounters = {
	/** Events waiting in memory. */
	queued: number;
	/** Their text (UTF-16 units, core/event.ts eventChars). */
	queuedChars: number;
	/** Events on disk not yet acknowledged (0 without a spool). */
	spooled: number;
	spoolBytes: number;
	/** Events lost: memory full without a spool, or the spool past its cap. */
	dropped: number;
	/** Damaged records skipped, torn records cut at start. */
	damaged: number;
};

export type Feed = {
	/** True when what it holds survives a stop (the spool): nothing held is lost at exit. */
	readonly durable: boolean;
	/** Called from the bus: O(batch), never waits. */
	push(events: readonly LogEvent[]): void;
	/** Up to `max` items, oldest first, from memory, whose text adds up to `maxChars` at most (eventChars). */
	take(max: number, maxChars?: number): FeedItem[];
	/** Items delivered (or set aside): the spool may let go of them. */
	ack(items: readonly FeedItem[]): void;
	/** Called when items became available to `take`. */
	onReady: (() => void) | undefined;
	counters(): FeedCounters;
	/** Facts of its own for health (the spool's directory, what it restored at start, write errors). */
	details?: () => Record<string, number | string>;
	/** Write out what waits for the disk; release files. */
	close(): Promise<void>;
};

/** How many of `count` items from `head` a take of `maxChars` gets, and their text. */
export function fitting(items: readonly FeedItem[], head: number, count: number, maxChars: number): {n: number; chars: number} {
	let n = 0;
	let chars = 0;
	for (; n < count; n++) {
		const c = eventChars(items[head + n]!.event);
		if (chars + c > maxChars) {
			break;
		}

		chars += c;
	}

	return {n, chars};
}

/** Text a memory feed holds at most (UTF-16 units, core/event.ts eventChars): 64 Mi. */
export const defaultFeedChars = 64 * 1024 * 1024;

/**
 * A bounded queue of events in memory; past `capacity` events, or `maxChars` of their text (a
 * count alone bounds nothing when lines are long), new events are dropped and counted. One event
 * always goes into an empty feed, however long.
 */
export class MemoryFeed implements Feed {
	readonly durable = false;
	onReady: (() => void) | undefined;
	dropped = 0;
	private items: FeedItem[] = [];
	private head = 0;
	private chars = 0;

	constructor(private readonly capacity: number, private readonly maxChars = defaultFeedChars) {}

	get length(): number {
		return this.items.length - this.head;
	}

	push(events: readonly LogEvent[]): void {
		let added = false;
		for (const event of events) {
			const chars = eventChars(event);
			if (this.length >= this.capacity || (this.length > 0 && this.chars + chars > this.maxChars)) {
				this.dropped++;
				continue;
			}

			this.chars += chars;
			this.items.push({event, ref: 0});
			added = true;
		}

		if (added) {
			this.onReady?.();
		}
	}

	take(max: number, maxChars = Number.POSITIVE_INFINITY): FeedItem[] {
		const {n, chars} = fitting(this.items, this.head, Math.min(max, this.length), maxChars);
		const out = this.items.slice(this.head, this.head + n);
		this.head += n;
		this.chars -= chars;
		if (this.length === 0) {
			this.chars = 0; // nothing can drift past an empty feed
		}

		if (this.head > 4096 && this.head * 2 > this.items.length) {
			this.items = this.items.slice(this.head);
			this.head = 0;
		}

		return out;
	}

	ack(): void {
		// Nothing on disk to release.
	}

	counters(): FeedCounters {
		return {queued: this.length, queuedChars: this.chars, spooled: 0, spoolBytes: 0, dropped: this.dropped, damaged: 0};
	}

	async close(): Promise<void> {
		// Nothing to write.
	}
}
