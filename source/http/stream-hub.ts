import {type LogEvent} from '../core/event.js';
import {type HttpContext} from './context.js';
import {eventJson} from './event-id.js';
import {type SseClient} from './sse-client.js';

// The stream's fan-out: one direct bus subscriber for all SSE clients. Clients are grouped by
// filter; per batch, each group's matching events are serialized once into one buffer, and that
// buffer is queued for each client of the group. Offering is O(groups × batch + clients) and never
// waits: a slow client only fills its own queue.

/** Clients with the same filter share its test and the framed bytes of each batch. */
type Group = {test: (e: LogEvent) => boolean; clients: Set<SseClient>};

const pingMs = 15_000;
/** Events framed into one shared buffer at most. */
const chunkEvents = 500;
const checkMs = 1000;

export class StreamHub {
	private readonly groups = new Map<string, Group>();
	private off: (() => void) | undefined;
	private timer: NodeJS.Timeout | undefined;
	private lastPing = 0;

	constructor(private readonly context: HttpContext) {}

	get size(): number {
		let n = 0;
		for (const g of this.groups.values()) {
			n += g.clients.size;
		}

		return n;
	}

	/** Live events from now on go to `client` (those after its lastSeq only). `key` names its filter. */
	join(client: SseClient, key: string, test: (e: LogEvent) => boolean): void {
		let group = this.groups.get(key);
		if (!group) {
			group = {test, clients: new Set()};
			this.groups.set(key, group);
		}

		group.clients.add(client);
		this.off ??= this.context.bus.subscribe(events => {
			this.publish(events);
		});
		this.timer ??= setInterval(() => {
			this.tick();
		}, checkMs).unref();
	}

	closeAll(): void {
		for (const g of this.groups.values()) {
			for (const c of g.clients) {
				c.close();
			}
		}

		this.groups.clear();
		this.stopIfEmpty();
	}

	/** Each batch: per filter, the events it passes framed once into one buffer, queued for each of its clients. */
	private publish(events: readonly LogEvent[]): void {
		// An event that several filters pass is serialized once.
		const frames: Array<string | undefined> = this.groups.size > 1 ? Array.from({length: events.length}) : [];
		for (const g of this.groups.values()) {
			let text = '';
			let n = 0;
			let lastSeq = 0;
			const send = (): void => {
				const chunk = {bytes: Buffer.from(text), events: n, lastSeq};
				for (const c of g.clients) {
					c.offer(chunk);
				}

				text = '';
				n = 0;
			};

			for (const [i, e] of events.entries()) {
				if (g.test(e)) {
					text += frames.length > 0 ? (frames[i] ??= eventFrame(e)) : eventFrame(e);
					n++;
					lastSeq = e.seq;
					// A large batch goes in pieces: a client with room for part of it gets that part.
					if (n >= chunkEvents) {
						send();
					}
				}
			}

			if (n > 0) {
				send();
			}
		}
	}

	private tick(): void {
		const now = this.context.now();
		const ping = now - this.lastPing >= pingMs;
		if (ping) {
			this.lastPing = now;
		}

		for (const [key, g] of this.groups) {
			for (const c of g.clients) {
				if (c.closed || c.checkStuck(now)) {
					g.clients.delete(c);
				} else if (ping) {
					c.ping();
				}
			}

			if (g.clients.size === 0) {
				this.groups.delete(key);
			}
		}

		this.stopIfEmpty();
	}

	/** A client that went away: out at once, not at the next tick. */
	leave(client: SseClient): void {
		for (const [key, g] of this.groups) {
			if (g.clients.delete(client) && g.clients.size === 0) {
				this.groups.delete(key);
			}
		}

		this.stopIfEmpty();
	}

	private stopIfEmpty(): void {
		if (this.groups.size === 0) {
			this.off?.();
			this.off = undefined;
			clearInterval(this.timer);
			this.timer = undefined;
		}
	}
}

/** The SSE frame of an event. */
export function eventFrame(e: LogEvent): string {
	return `id: ${e.receivedAt}-${e.seq}\ndata: ${eventJson(e)}\n\n`;
}
