import http from 'node:http';
import net from 'node:net';
import {Bus, type SourceHandle} from '../../source/core/bus.js';
import {type LogEvent} from '../../source/core/event.js';
import {Diagnostics} from '../../source/core/diagnostics.js';

// Peers for the logio tests, written to protocols.md §2 with the original's quirks:
// a subscriber server that defers its headers until the first matching record,
// matches unanchored regexes, writes `time app[proc] host: raw` in UTC with no
// newline added, and a helper to run a bus and collect what sources publish.

export {freePort, until} from './logmon.js';

export const deps = {diagnostics: new Diagnostics(), debug: false, maxLine: 1024 * 1024};

/** A bus with a collector of every event it carries. */
export function collectingBus(): {bus: Bus; events: LogEvent[]} {
	const bus = new Bus();
	const events: LogEvent[] = [];
	bus.subscribe(batch => {
		events.push(...batch);
	});
	return {bus, events};
}

export type ReferenceRecord = {time: number; app: string; proc: string; host: string; raw: string};

type Sub = {res: http.ServerResponse; q: URLSearchParams; started: boolean};

/** The timestamp logio writes: UTC, milliseconds truncated, no zone letter (Go layout 2006-01-02T15:04:05.000). */
export function goStamp(ms: number): string {
	return new Date(ms).toISOString().slice(0, 23);
}

/** A logio subscriber server as the original behaves (cmd/logio-server/main.go:44-100). */
export class ReferenceLogioServer {
	readonly server: http.Server;
	readonly subs = new Set<Sub>();
	readonly requests: http.IncomingHttpHeaders[] = [];
	/** res.write calls that returned false (the server would block here). */
	stalls = 0;
	port = 0;

	constructor() {
		this.server = http.createServer((req, res) => {
			this.requests.push(req.headers);
			const q = new URL(req.url ?? '/', 'http://x').searchParams;
			const sub: Sub = {res, q, started: false};
			// Headers are set but nothing is written until the first matching record.
			res.setHeader('Content-Type', 'text/event-stream');
			res.setHeader('Cache-Control', 'no-cache');
			res.setHeader('Connection', 'keep-alive');
			this.subs.add(sub);
			res.on('close', () => this.subs.delete(sub));
		});
	}

	async listen(port = 0): Promise<number> {
		await new Promise<void>((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(port, '127.0.0.1', () => {
				this.server.off('error', reject);
				resolve();
			});
		});
		this.port = (this.server.address() as net.AddressInfo).port;
		return this.port;
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}/`;
	}

	/** Unanchored RE2-style match; an invalid pattern matches nothing, as in the original. */
	private static match(pattern: string | null, value: string): boolean {
		if (!pattern) {
			return true;
		}

		try {
			const i = pattern.startsWith('(?i)');
			return new RegExp(i ? pattern.slice(4) : pattern, i ? 'i' : '').test(value);
		} catch {
			return false;
		}
	}

	/** Publish a record: `fmt.Fprintf(w, "%s %s[%s] %s: %s", t, app, proc, host, raw)`, one flush each. */
	notify(r: ReferenceRecord): void {
		const text = `${goStamp(r.time)} ${r.app}[${r.proc}] ${r.host}: ${r.raw}`;
		for (const sub of this.subs) {
			if (ReferenceLogioServer.match(sub.q.get('app'), r.app) && ReferenceLogioServer.match(sub.q.get('proc'), r.proc)
				&& ReferenceLogioServer.match(sub.q.get('host'), r.host) && ReferenceLogioServer.match(sub.q.get('log'), r.raw)) {
				this.write(sub, Buffer.from(text));
			}
		}
	}

	/** Write bytes as they are to every subscriber (to split chunks where a test wants). */
	writeRaw(bytes: Buffer): void {
		for (const sub of this.subs) {
			this.write(sub, bytes);
		}
	}

	private write(sub: Sub, bytes: Buffer): void {
		sub.started = true;
		if (!sub.res.write(bytes)) {
			this.stalls++;
		}
	}

	/** Kill every connection and stop listening. */
	async close(): Promise<void> {
		await new Promise<void>(resolve => {
			this.server.close(() => resolve());
			this.server.closeAllConnections();
		});
	}
}

/** A source handle on a bus, for tests that publish by hand. */
export function handleOn(bus: Bus, id: string, kind: LogEvent['sourceKind']): SourceHandle {
	return bus.addSource(id, kind);
}
