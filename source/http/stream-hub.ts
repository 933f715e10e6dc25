import {type LogEvent} from '../core/event.js';
import {type HttpContext} from './context.js';
import {eventJson} from './event-id.js';
import {type SseClient} from './sse-client.js';

// The stream's fan-out: one direct bus subscriber for all SSE clients. Each event is serialized
// once, when the first client takes it, and the same text is queued for every client that wants
// it. Offering is O(clients) per event and never waits: a slow client only fills its own queue.

type Member = {client: SseClient; test: (e: LogEvent) => boolean};

const pingMs = 15_000;
const checkMs = 1000;

export class StreamHub {
	private readonly members = new Set<Member>();
	private off: (() => void) | undefined;
	private timer: NodeJS.Timeout | undefined;
	private lastPing = 0;

	constructor(private readonly context: HttpContext) {}

	get size(): number {
		return this.members.size;
	}

	/** Live events from now on go to `client` (those after its lastSeq only). */
	join(client: SseClient, test: (e: LogEvent) => boolean): () => void {
		const member: Member = {client, test};
		this.members.add(member);
		this.off ??= this.context.bus.subscribe(events => {
			this.publish(events);
		});
		this.timer ??= setInterval(() => {
			this.tick();
		}, checkMs).unref();
		return () => {
			this.leave(member);
		};
	}

	closeAll(): void {
		for (const m of [...this.members]) {
			m.client.close();
			this.leave(m);
		}
	}

	private leave(member: Member): void {
		this.members.delete(member);
		if (this.members.size === 0) {
			this.off?.();
			this.off = undefined;
			clearInterval(this.timer);
			this.timer = undefined;
		}
	}

	private publish(events: readonly LogEvent[]): void {
		for (const e of events) {
			let frame: string | undefined;
			for (const m of this.members) {
				if (m.test(e)) {
					frame ??= eventFrame(e);
					m.client.offer(e, frame);
				}
			}
		}
	}

	private tick(): void {
		const now = this.context.now();
		for (const m of [...this.members]) {
			if (m.client.closed) {
				this.leave(m);
			} else {
				m.client.checkStuck(now);
			}
		}

		if (now - this.lastPing >= pingMs) {
			this.lastPing = now;
			for (const m of this.members) {
				m.client.ping();
			}
		}
	}
}

/** The SSE frame of an event. */
export function eventFrame(e: LogEvent): string {
	return `id: ${e.receivedAt}-${e.seq}\ndata: ${eventJson(e)}\n\n`;
}
