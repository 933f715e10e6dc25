import {createHash} from 'node:crypto';

// An ERROR record is produced twice by the logging handler: once to the main topic
// and once to the errors topic. Show it once. A record is a duplicate only when the
// same key was seen on *another* topic and not matched yet, so two genuine,
// identical lines on one topic are both kept. Memory is bounded by a window in time
// and a cap on entries, oldest dropped first.

type Entry = {
	topic: string;
	/** Unmatched sightings on that topic. */
	count: number;
	at: number;
};

export type DedupOptions = {
	windowMs: number;
	/** Most keys held at once. */
	maxEntries?: number;
};

/** Long messages are hashed so a key never holds a megabyte of text. */
function compact(text: string): string {
	return text.length <= 200 ? text : createHash('sha1').update(text).digest('base64');
}

/** The key for a record: its id when it has one, else (service, timestamp, message). */
export function dedupKey(obj: Record<string, unknown>, service: string, message: string): string | undefined {
	const id = obj['id'] ?? obj['record_id'] ?? obj['event_id'] ?? obj['uuid'];
	if (typeof id === 'string' || typeof id === 'number') {
		return `id\u0000${id}`;
	}

	const time = obj['timestamp'] ?? obj['time'] ?? obj['@timestamp'] ?? obj['ts'];
	if (typeof time !== 'string' && typeof time !== 'number') {
		// Without a time of its own a record cannot be told apart from a repeat.
		return undefined;
	}

	return `t\u0000${service}\u0000${time}\u0000${compact(message)}`;
}

export class CrossTopicDedup {
	private readonly entries = new Map<string, Entry>();
	private readonly windowMs: number;
	private readonly maxEntries: number;

	constructor(options: DedupOptions) {
		this.windowMs = options.windowMs;
		this.maxEntries = options.maxEntries ?? 50_000;
	}

	get size(): number {
		return this.entries.size;
	}

	/** True when this record was already seen on another topic (it is then dropped by the caller). */
	seen(key: string, topic: string, now = Date.now()): boolean {
		this.expire(now);
		const e = this.entries.get(key);
		if (e && e.topic !== topic) {
			e.count--;
			if (e.count === 0) {
				this.entries.delete(key);
			}

			return true;
		}

		if (e) {
			e.count++;
			return false;
		}

		this.entries.set(key, {topic, count: 1, at: now});
		if (this.entries.size > this.maxEntries) {
			const oldest = this.entries.keys().next().value;
			if (oldest !== undefined) {
				this.entries.delete(oldest);
			}
		}

		return false;
	}

	private expire(now: number): void {
		// Insertion order is time order, so the oldest entries sit at the front.
		for (const [key, e] of this.entries) {
			if (now - e.at <= this.windowMs) {
				break;
			}

			this.entries.delete(key);
		}
	}
}
