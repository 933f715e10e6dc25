import http from 'node:http';
import {hostname} from 'node:os';
import {type Bus} from '../core/bus.js';
import {type LogEvent} from '../core/event.js';
import {FilterError, type UserRegex, compileUserRegex} from '../core/regex.js';
import {logioPrefix} from '../core/logio-line.js';
import {formatHostPort, isLoopback, parseHostPort} from '../config/logio.js';
import {formatBytes} from '../history/units.js';
import {listen, listenProblem} from '../sources/listen.js';

// A drop-in logio subscriber server (protocols.md §2.2): `curl -N 'http://host:7702/?app=web&proc=web|worker'`
// keeps working against logmon.
//
// Kept from the original: any path and method; app/proc/host/log are unanchored
// regexes, case-sensitive unless (?i), empty means all; `log` is matched against
// raw with its trailing newline (so `log=ERROR$` does not match, as with RE2);
// raw is served as published, so a publisher's CR LF arrives as CR LF and `log=`
// sees the CR; headers are deferred until the first matching line; each line is
// `YYYY-MM-DDTHH:MM:SS.mmm app[proc] host: raw` in UTC.
//
// Changed: an invalid regex gets 400 and the reason (the original silently
// matches nothing); X-Forwarded-For is ignored (the original refuses it); a raw
// without a final newline gets one, so it cannot run into the next record; and a
// subscriber whose socket stops draining loses lines, counted and announced in
// its stream, instead of stalling every publisher as the original does (§2.3).
//
// Lines are written to a subscriber's socket as they arrive, in the same turn.
// What the socket has not yet taken is bounded in bytes: a subscriber that is
// reading may hold up to `maxBufferBytes` (a burst read in one turn can be large),
// one whose socket has taken nothing for `stallMs` and two turns only
// `bufferBytes`; past that its lines are dropped. So a subscriber that keeps up
// never loses a line, however many arrive in one turn. All subscribers together
// hold about `totalBufferBytes` unsent at most: past that, a subscriber holding
// more than its share of it (the total over the number of subscribers) loses
// lines, counted and announced the same way, while one that keeps up still gets
// every line; so stalled subscribers cannot take the others' room.
//
// What it serves: events from every source except logio subscriber sources, so
// a logmon reading Kafka or stdin can re-serve them too, while a logmon that
// subscribes to a fan-out (its own or a peer's) cannot echo lines back forever.
// Gap markers are not logio records and are not served.

export type FanoutOptions = {
	/** Bytes a subscriber's socket may hold unsent once it has stopped draining. Default 4 MiB. */
	bufferBytes?: number;
	/** Bytes a subscriber's socket may hold unsent while it is draining. Default 32 MiB. */
	maxBufferBytes?: number;
	/** A socket holding bytes that takes none of them for this long (and two turns) has stopped draining. Default 1 s. */
	stallMs?: number;
	/** Bytes all subscribers' sockets may hold unsent together. Default 256 MiB. */
	totalBufferBytes?: number;
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
	/** Lines handed to its socket. */
	sent: number;
	dropped: number;
	/** Bytes its socket holds that the peer has not taken yet. */
	buffered: number;
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

/** The room all subscribers share in a bus batch, and each one's share of the total. */
type SharedRoom = {left: number; share: number};

type Limits = {
	bufferBytes: number;
	maxBufferBytes: number;
	totalBufferBytes: number;
	stallMs: number;
	hostname: string;
	warn: (text: string) => void;
	/** Turns of the event loop in which the fan-out wrote something. */
	turn: () => number;
};

class Subscriber {
	readonly since = Date.now();
	sent = 0;
	dropped = 0;
	private reported = 0;
	/** Lines accepted in the current bus batch, written at its end. */
	private batch: string[] = [];
	private batchBytes = 0;
	/** The room left for this batch, computed at its first line. */
	private room = -1;
	/** writableLength after our last write: when it is lower later, the socket took bytes. */
	private lastLength = 0;
	private progressAt = Date.now();
	private progressTurn: number;
	closed = false;

	constructor(
		readonly res: http.ServerResponse,
		readonly remote: string,
		readonly query: string,
		readonly app: UserRegex | undefined,
		readonly proc: UserRegex | undefined,
		readonly host: UserRegex | undefined,
		readonly log: UserRegex | undefined,
		private readonly limits: Limits,
	) {
		this.progressTurn = limits.turn();
		// A subscriber that lost lines is told so as soon as its socket has room again.
		res.on('drain', () => {
			if (this.dropped > this.reported) {
				this.write('');
			}
		});
	}

	matches(e: LogEvent, raw: string): boolean {
		return (this.app === undefined || this.app.test(e.service))
			&& (this.proc === undefined || this.proc.test(e.proc))
			&& (this.host === undefined || this.host.test(e.host))
			&& (this.log === undefined || this.log.test(raw));
	}

	/**
	 * Take a line for this batch, or drop it (counted) when its socket holds too much, or when all
	 * subscribers' sockets together do (`shared.left`: what they may still be given in this batch)
	 * and this one holds more than its share.
	 */
	offer(line: string, shared: SharedRoom): boolean {
		if (this.room < 0) {
			this.room = this.roomNow();
		}

		const own = this.batchBytes + line.length > this.room;
		const overShare = line.length > shared.left && this.lastLength + this.batchBytes + line.length > shared.share;
		if (own || overShare) {
			if (this.dropped === this.reported) {
				this.limits.warn(own
					? `subscriber ${this.remote} reads too slowly; dropping lines for it`
					: `subscribers hold ${formatBytes(this.limits.totalBufferBytes)} unsent together; dropping lines for ${this.remote}`);
			}

			this.dropped++;
			// Nothing after a lost line in this batch either, so the notice stands where lines went missing.
			this.room = 0;
			return false;
		}

		this.batch.push(line);
		this.batchBytes += line.length;
		shared.left -= line.length;
		return true;
	}

	/** End of a bus batch: write what it took. */
	flush(): void {
		this.room = -1;
		if (this.batch.length === 0) {
			return;
		}

		const chunk = this.batch.length === 1 ? this.batch[0]! : this.batch.join('');
		this.sent += this.batch.length;
		this.batch = [];
		this.batchBytes = 0;
		this.write(chunk);
	}

	// Bytes this subscriber may still be given: many while its socket drains, few once it has stopped.
	private roomNow(): number {
		const length = this.res.writableLength;
		const now = Date.now();
		if (length === 0 || length < this.lastLength) {
			this.progressAt = now;
			this.progressTurn = this.limits.turn();
		}

		this.lastLength = length;
		// Both a time and two turns: after a pause of logmon itself (SIGSTOP, a long GC) time has
		// passed but the socket has not yet had a turn to drain in.
		const stalled = length > 0 && now - this.progressAt >= this.limits.stallMs && this.limits.turn() - this.progressTurn >= 2;
		return Math.max(0, (stalled ? this.limits.bufferBytes : this.limits.maxBufferBytes) - length);
	}

	private write(chunk: string): void {
		if (this.closed) {
			return;
		}

		if (this.dropped > this.reported) {
			const lost = this.dropped - this.reported;
			this.reported = this.dropped;
			// Where the lines went missing: before the ones written now.
			chunk = `${logioPrefix(Date.now(), 'logmon', 'fanout', this.limits.hostname)}logmon: ${lost} lines dropped: this subscriber read more slowly than they arrived\n${chunk}`;
		}

		// The first write also sends the status line and headers, as the original does.
		this.res.write(chunk);
		this.lastLength = this.res.writableLength;
	}
}

/** Serve logio subscribers on `hostPort` ([host:]port, loopback by default) from the bus. */
export async function startFanout(bus: Bus, hostPort: string, options: FanoutOptions = {}): Promise<Fanout> {
	const where = parseHostPort(hostPort);
	const accept = options.accept ?? defaultAccept;
	const maxSubscribers = options.maxSubscribers ?? 100;
	let turn = 0;
	let turnScheduled = false;
	const endTurn = (): void => {
		turn++;
		turnScheduled = false;
	};

	const limits: Limits = {
		bufferBytes: options.bufferBytes ?? 4 * 1024 * 1024,
		maxBufferBytes: options.maxBufferBytes ?? 32 * 1024 * 1024,
		totalBufferBytes: options.totalBufferBytes ?? 256 * 1024 * 1024,
		stallMs: options.stallMs ?? 1000,
		hostname: options.hostname ?? hostname(),
		warn(text: string) {
			bus.diagnostics.add('warn', origin, text);
		},
		turn: () => turn,
	};
	const subscribers = new Set<Subscriber>();

	// Synchronous and O(batch × subscribers): format once, and write each subscriber's share at the end of the batch.
	const unsubscribe = bus.subscribe(events => {
		if (subscribers.size === 0) {
			return;
		}

		let taken: Set<Subscriber> | undefined;
		let held = 0;
		for (const s of subscribers) {
			held += s.res.writableLength;
		}

		const shared: SharedRoom = {left: limits.totalBufferBytes - held, share: limits.totalBufferBytes / subscribers.size};
		for (const e of events) {
			if (!accept(e)) {
				continue;
			}

			const raw = e.raw.endsWith('\n') ? e.raw : e.raw + '\n';
			let line: string | undefined;
			for (const s of subscribers) {
				if (s.matches(e, raw)) {
					line ??= logioPrefix(e.time, e.service, e.proc, e.host) + raw;
					s.offer(line, shared);
					(taken ??= new Set()).add(s);
				}
			}
		}

		if (taken) {
			for (const s of taken) {
				s.flush();
			}

			if (!turnScheduled) {
				turnScheduled = true;
				setImmediate(endTurn);
			}
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

	const port = await listen(server, where.host, where.port).catch((error: unknown) => {
		unsubscribe();
		throw new Error(`cannot serve subscribers on ${formatHostPort(where.host, where.port)}: ${listenProblem(error)}`);
	});

	server.on('error', error => {
		bus.diagnostics.add('error', origin, error.message);
	});
	const address = {host: where.host, port};
	const url = `http://${formatHostPort(address.host, address.port)}/`;
	bus.diagnostics.add('info', origin, `serving logio subscribers on ${url}`);
	if (!isLoopback(address.host)) {
		bus.diagnostics.add('warn', origin, `${url} is reachable from other machines and logio has no authentication: anyone who can reach it can read every line`);
	}

	let closed: Promise<void> | undefined;
	return {
		url,
		address,
		subscribers: () => [...subscribers].map(s => ({remote: s.remote, query: s.query, since: s.since, sent: s.sent, dropped: s.dropped, buffered: s.res.writableLength})),
		async close() {
			closed ??= new Promise<void>(resolve => {
				unsubscribe();
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
