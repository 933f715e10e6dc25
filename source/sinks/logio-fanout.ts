import http from 'node:http';
import {hostname} from 'node:os';
import {type Bus} from '../core/bus.js';
import {type LogEvent} from '../core/event.js';
import {FilterError, type UserRegex, compileUserRegex} from '../core/regex.js';
import {logioPrefix} from '../core/logio-line.js';
import {formatHostPort, isLoopback, parseHostPort} from '../config/logio.js';

// A drop-in logio subscriber server (protocols.md §2.2): `curl -N 'http://host:7702/?app=web&proc=web|worker'`
// keeps working against logmon.
//
// Kept from the original: any path and method; app/proc/host/log are unanchored
// regexes, case-sensitive unless (?i), empty means all; `log` is matched against
// raw with its trailing newline (so `log=ERROR$` does not match, as with RE2);
// headers are deferred until the first matching line; each line is
// `YYYY-MM-DDTHH:MM:SS.mmm app[proc] host: raw` in UTC.
//
// Changed: an invalid regex gets 400 and the reason (the original silently
// matches nothing); X-Forwarded-For is ignored (the original refuses it); a raw
// without a final newline gets one, so it cannot run into the next record; and
// each subscriber has its own bounded buffer: one that reads too slowly loses
// lines, counted and announced in its stream, instead of stalling every
// publisher as the original does (§2.3).
//
// What it serves: events from every source except logio subscriber sources, so
// a logmon reading Kafka or stdin can re-serve them too, while a logmon that
// subscribes to a fan-out (its own or a peer's) cannot echo lines back forever.
// Gap markers are not logio records and are not served.

export type FanoutOptions = {
	/** Lines held per subscriber while its socket is busy. Default 10,000. */
	buffer?: number;
	/** Bytes held per subscriber while its socket is busy. Default 4 MiB. */
	bufferBytes?: number;
	/** Subscribers at once; more get 503. Default 100. */
	maxSubscribers?: number;
	/** Which events are served. Default: all but logio subscriber sources and markers. */
	accept?: (event: LogEvent) => boolean;
	/** The name that reports lost lines, as the host of a logio line. */
	hostname?: string;
};

export type SubscriberInfo = {
	remote: string;
	query: string;
	since: number;
	sent: number;
	dropped: number;
	/** Lines waiting for its socket. */
	queued: number;
};

export type Fanout = {
	/** http://host:port/ */
	readonly url: string;
	readonly address: {host: string; port: number};
	subscribers(): SubscriberInfo[];
	close(): Promise<void>;
};

const origin = 'logio-fanout';

export function defaultAccept(e: LogEvent): boolean {
	return e.marker === undefined && e.sourceKind !== 'logio';
}

/** A logio subscription regex: Go's RE2 syntax and meaning, as the original server has them. */
export function compileLogioRegex(pattern: string, param: string): UserRegex | undefined {
	return pattern === '' ? undefined : compileUserRegex(pattern, param);
}

class Subscriber {
	readonly since = Date.now();
	sent = 0;
	dropped = 0;
	private reported = 0;
	pending: string[] = [];
	private pendingBytes = 0;
	private busy = false; // waiting for 'drain'
	closed = false;

	constructor(
		readonly res: http.ServerResponse,
		readonly remote: string,
		readonly query: string,
		readonly app: UserRegex | undefined,
		readonly proc: UserRegex | undefined,
		readonly host: UserRegex | undefined,
		readonly log: UserRegex | undefined,
		private readonly limits: {lines: number; bytes: number; hostname: string; warn: (text: string) => void},
	) {}

	matches(e: LogEvent, raw: string): boolean {
		return (this.app === undefined || this.app.test(e.service))
			&& (this.proc === undefined || this.proc.test(e.proc))
			&& (this.host === undefined || this.host.test(e.host))
			&& (this.log === undefined || this.log.test(raw));
	}

	/** Queue a line; drop it (counted) when the buffer is full. */
	offer(line: string): void {
		if (this.pending.length >= this.limits.lines || this.pendingBytes + line.length > this.limits.bytes) {
			if (this.dropped === this.reported) {
				this.limits.warn(`subscriber ${this.remote} reads too slowly; dropping lines for it`);
			}

			this.dropped++;
			return;
		}

		this.pending.push(line);
		this.pendingBytes += line.length;
	}

	/** Write what is queued, unless the socket is still busy with the last write. */
	flush(): void {
		if (this.busy || this.closed || (this.pending.length === 0 && this.dropped === this.reported)) {
			return;
		}

		let chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
		this.sent += this.pending.length;
		this.pending = [];
		this.pendingBytes = 0;
		if (this.dropped > this.reported) {
			const lost = this.dropped - this.reported;
			this.reported = this.dropped;
			chunk += `${logioPrefix(Date.now(), 'logmon', 'fanout', this.limits.hostname)}logmon: ${lost} lines dropped: this subscriber read more slowly than they arrived\n`;
		}

		// The first write also sends the status line and headers, as the original does.
		// Writing on past the stream's small high-water mark (up to our own byte cap) saves a
		// wait for 'drain' per batch; the cap still bounds what one subscriber can hold.
		this.res.write(chunk);
		if (this.res.writableLength >= this.limits.bytes) {
			this.busy = true;
			this.res.once('drain', () => {
				this.busy = false;
				this.flush();
			});
		}
	}
}

/** Serve logio subscribers on `hostPort` ([host:]port, loopback by default) from the bus. */
export async function startFanout(bus: Bus, hostPort: string, options: FanoutOptions = {}): Promise<Fanout> {
	const where = parseHostPort(hostPort);
	const accept = options.accept ?? defaultAccept;
	const maxSubscribers = options.maxSubscribers ?? 100;
	const limits = {
		lines: options.buffer ?? 10_000,
		bytes: options.bufferBytes ?? 4 * 1024 * 1024,
		hostname: options.hostname ?? hostname(),
		warn(text: string) {
			bus.diagnostics.add('warn', origin, text);
		},
	};
	const subscribers = new Set<Subscriber>();
	let flushScheduled = false;

	const flushAll = (): void => {
		flushScheduled = false;
		for (const s of subscribers) {
			s.flush();
		}
	};

	// Synchronous and O(batch × subscribers): format once, queue per subscriber, write on the next turn.
	const unsubscribe = bus.subscribe(events => {
		if (subscribers.size === 0) {
			return;
		}

		let queued = false;
		for (const e of events) {
			if (!accept(e)) {
				continue;
			}

			const raw = e.raw.endsWith('\n') ? e.raw : e.raw + '\n';
			let line: string | undefined;
			for (const s of subscribers) {
				if (s.matches(e, raw)) {
					line ??= logioPrefix(e.time, e.service, e.proc, e.host) + raw;
					s.offer(line);
					queued = true;
				}
			}
		}

		if (queued && !flushScheduled) {
			flushScheduled = true;
			setImmediate(flushAll);
		}
	});

	const server = http.createServer((req, res) => {
		const remote = formatHostPort(req.socket.remoteAddress ?? '?', req.socket.remotePort ?? 0);
		const url = new URL(req.url ?? '/', 'http://logio');
		const q = url.searchParams;
		let regexes: Array<UserRegex | undefined>;
		try {
			regexes = (['app', 'proc', 'host', 'log'] as const).map(p => compileLogioRegex(q.get(p) ?? '', p));
		} catch (error) {
			const text = error instanceof FilterError ? error.message : String(error);
			res.writeHead(400, {'Content-Type': 'text/plain; charset=utf-8'});
			res.end(text + '\n');
			return;
		}

		if (subscribers.size >= maxSubscribers) {
			res.writeHead(503, {'Content-Type': 'text/plain; charset=utf-8'});
			res.end(`too many subscribers (${maxSubscribers}); try again later\n`);
			return;
		}

		const [app, proc, host, log] = regexes;
		const s = new Subscriber(res, remote, url.search, app, proc, host, log, limits);
		// Set now, sent with the first matching line.
		res.setHeader('Content-Type', 'text/event-stream');
		res.setHeader('Cache-Control', 'no-cache');
		res.setHeader('Connection', 'keep-alive');
		req.socket.setKeepAlive(true, 60_000);
		req.socket.setNoDelay(true);
		subscribers.add(s);
		bus.diagnostics.add('debug', origin, `subscriber ${remote} joined ${url.search || '(everything)'}`);
		res.on('close', () => {
			s.closed = true;
			subscribers.delete(s);
			if (s.dropped > 0) {
				limits.warn(`subscriber ${remote} left; ${s.dropped} lines were dropped for it`);
			}

			bus.diagnostics.add('debug', origin, `subscriber ${remote} left after ${s.sent} lines`);
		});
		res.on('error', () => {
			// A reset subscriber: 'close' follows.
		});
	});
	// An idle subscription is silent for as long as no line matches; only the request itself is timed.
	server.timeout = 0;

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen({host: where.host, port: where.port}, () => {
			server.off('error', reject);
			resolve();
		});
	}).catch((error: unknown) => {
		unsubscribe();
		const e = error as NodeJS.ErrnoException;
		const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.message;
		throw new Error(`cannot serve subscribers on ${formatHostPort(where.host, where.port)}: ${why}`);
	});

	server.on('error', error => {
		bus.diagnostics.add('error', origin, error.message);
	});
	const bound = server.address();
	const address = {host: where.host, port: typeof bound === 'object' && bound ? bound.port : where.port};
	const url = `http://${formatHostPort(address.host, address.port)}/`;
	bus.diagnostics.add('info', origin, `serving logio subscribers on ${url}`);
	if (!isLoopback(address.host)) {
		bus.diagnostics.add('warn', origin, `${url} is reachable from other machines and logio has no authentication: anyone who can reach it can read every line`);
	}

	let closed: Promise<void> | undefined;
	return {
		url,
		address,
		subscribers: () => [...subscribers].map(s => ({remote: s.remote, query: s.query, since: s.since, sent: s.sent, dropped: s.dropped, queued: s.pending.length})),
		async close() {
			closed ??= new Promise<void>(resolve => {
				unsubscribe();
				flushAll();
				for (const s of subscribers) {
					s.res.end();
				}

				server.close(() => {
					resolve();
				});
				server.closeAllConnections();
			});
			await closed;
		},
	};
}
