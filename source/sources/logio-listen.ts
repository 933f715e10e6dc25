import net from 'node:net';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {JsonStreamDecoder} from '../core/json-stream.js';
import {detectLevel} from '../core/level.js';
import {parseRfc3339} from '../core/logio-line.js';
import {sanitize} from '../core/sanitize.js';
import {type LogioListenConfig, defaultListen, formatHostPort, isLoopback} from '../config/logio.js';
import {listen, listenAddress, listenProblem} from './listen.js';
import {type SourceDeps} from './source.js';
import {type LogSource} from './source.js';

// Be a logio server for publishers (protocols.md §2.1): a plain TCP port where
// each connection sends a topic {"app","proc","host"} and then concatenated
// {"time","raw"} values, with no reply unless something is wrong.
//
// Unlike the original server:
// - every log is read on its own, so a missing field never takes the previous log's value;
// - an invalid `time` is counted and the receive time used, the connection stays open
//   (a publisher with an odd clock format loses nothing);
// - a log without `raw` is counted and skipped;
// - as in the original, raw keeps its bytes (a CR LF stays CR LF for the fan-out and
//   `-o raw`); only the text shown drops the line end;
// - a value that is not JSON, or has the wrong shape, is counted and that connection is
//   closed with the error text written back, as the original does; others go on.
//
// Local peers must not be able to lock real publishers out or take memory for good:
// - a connection that has not sent its whole topic within `topicTimeoutMs` is closed;
// - past `maxPublishers`, a connection is told so in words and closed (not dropped
//   unread, which a publisher would take for a successful connect);
// - unfinished values across all connections share one byte budget, `maxPartialBytes`;
//   past it the connection holding the most is closed and its bytes freed.
// Each of these is counted in the source's health and said back to the peer.

/** Longest app/proc/host kept, characters. */
const maxName = 256;
/** Publishers listed one by one in health; the count covers all. */
const maxListed = 100;
/** After an error is written back, how long the peer gets to read it before the socket is destroyed. */
const lingerMs = 2000;

export type Publisher = {
	app: string;
	proc: string;
	host: string;
	remote: string;
	/** Logs received on this connection. */
	events: number;
	since: number;
};

export type Topic = {app: string; proc: string; host: string};

/** A connection's state: its publisher, its decoder, and how much of an unfinished value it holds. */
type Connection = {
	publisher: Publisher;
	decoder: JsonStreamDecoder;
	/** Bytes counted against the budget for unfinished values. */
	held: number;
	/** Close it with the reason written back. */
	close: (reason: string) => void;
};

function isObject(v: unknown): v is Record<string, unknown> {
	return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function kindOf(v: unknown): string {
	return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function name(v: string): string {
	return sanitize(v.length > maxName ? v.slice(0, maxName) : v);
}

/** The first value: {"app","proc","host"}, missing keys empty. A string describes what is wrong. */
export function readTopic(v: unknown): Topic | string {
	if (!isObject(v)) {
		return `the first value must be the topic {"app","proc","host"}, got ${kindOf(v)}`;
	}

	const out: Topic = {app: '', proc: '', host: ''};
	for (const key of ['app', 'proc', 'host'] as const) {
		const field = v[key];
		if (typeof field === 'string') {
			out[key] = name(field);
		} else if (field !== undefined && field !== null) {
			return `topic field "${key}" must be a string, got ${kindOf(field)}`;
		}
	}

	return out;
}

export type LogRead =
	| {ok: true; time: number | undefined; raw: string; badTime?: string}
	| {ok: false; fatal: boolean; reason: string};

/** One log value {"time","raw"}; nothing carries over from the previous one. */
export function readLog(v: unknown): LogRead {
	if (!isObject(v)) {
		return {ok: false, fatal: true, reason: `a log must be an object {"time","raw"}, got ${kindOf(v)}`};
	}

	const {time, raw} = v;
	if (raw !== undefined && raw !== null && typeof raw !== 'string') {
		return {ok: false, fatal: true, reason: `log field "raw" must be a string, got ${kindOf(raw)}`};
	}

	if (time !== undefined && time !== null && typeof time !== 'string') {
		return {ok: false, fatal: true, reason: `log field "time" must be an RFC 3339 string, got ${kindOf(time)}`};
	}

	if (typeof raw !== 'string') {
		return {ok: false, fatal: false, reason: 'a log without "raw" was skipped'};
	}

	if (typeof time !== 'string') {
		return {ok: true, time: undefined, raw};
	}

	const t = parseRfc3339(time);
	return t === undefined ? {ok: true, time: undefined, raw, badTime: time} : {ok: true, time: t, raw};
}

/**
 * The raw as published, less the one newline every Go log line ends with (the fan-out and
 * `-o raw` put it back). A CR before it stays: a publisher's CR LF is served as CR LF.
 */
export function stripNewline(raw: string): string {
	return raw.endsWith('\n') ? raw.slice(0, -1) : raw;
}

/** The text to show and to detect the level in: without the line end, CR LF or LF. */
export function displayText(raw: string): string {
	return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
}

export class LogioListenSource implements LogSource {
	readonly kind = 'logio-listen' as const;
	/** Where it listens, once started (port 0 becomes the real port). */
	address: {host: string; port: number} | undefined;
	private server: net.Server | undefined;
	private handle: SourceHandle | undefined;
	private readonly publishers = new Map<net.Socket, Connection>();
	private connections = 0;
	private refused = 0;
	private rejected = 0;
	private timedOut = 0;
	private overBudget = 0;
	/** Bytes of unfinished values held across all connections. */
	private partialBytes = 0;
	/** The publishers detail last shown; its byte count follows every change without rebuilding the list. */
	private shown: {partialBytes: number} | undefined;
	/** Refused connections still being told why. */
	private refusing = 0;

	constructor(readonly id: string, readonly config: LogioListenConfig, readonly deps: SourceDeps) {}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		const where = listenAddress(this.config.listen, handle);
		if (!where) {
			return;
		}

		const server = net.createServer(socket => {
			if (this.publishers.size >= this.config.maxPublishers) {
				this.refuse(socket);
			} else {
				this.accept(socket);
			}
		});
		this.server = server;

		let port: number;
		try {
			port = await listen(server, where.host, where.port);
		} catch (error) {
			const why = listenProblem(error, 'address already in use (another logmon or logio server?)');
			handle.setState('failed', `cannot listen on ${formatHostPort(where.host, where.port)}: ${why}`);
			this.server = undefined;
			return;
		}

		server.on('error', error => {
			handle.log('error', `listener: ${error.message}`);
		});
		this.address = {host: where.host, port};
		handle.setState('live');
		this.updateDetails();
		handle.log('info', `listening on ${formatHostPort(where.host, port)} for logio publishers`);
		if (!isLoopback(where.host)) {
			handle.log('warn', `${formatHostPort(where.host, port)} is reachable from other machines and logio has no authentication: anyone who can reach it can publish`);
		}

		if (this.config.listen === defaultListen) {
			this.debug('default listener (no source configured)');
		}
	}

	async stop(): Promise<void> {
		const server = this.server;
		this.server = undefined;
		if (!server) {
			return;
		}

		for (const socket of this.publishers.keys()) {
			socket.destroy();
		}

		await new Promise<void>(resolve => {
			server.close(() => {
				resolve();
			});
		});
	}

	/** The publishers connected now (a copy). */
	connected(): Publisher[] {
		return [...this.publishers.values()].map(c => c.publisher);
	}

	// Past maxPublishers: say so and close, reading (and discarding) meanwhile so that a reset
	// does not swallow the words. A flood of them gets no words, only the close.
	private refuse(socket: net.Socket): void {
		this.refused++;
		this.warnAt(this.refused, `refused ${this.refused} publisher connection(s): ${this.config.maxPublishers} already connected (maxPublishers)`);
		this.updateDetails();
		socket.on('error', () => {
			// It may reset while being told.
		});
		if (this.refusing >= this.config.maxPublishers) {
			socket.destroy();
			return;
		}

		this.refusing++;
		socket.once('close', () => {
			this.refusing--;
		});
		socket.resume();
		socket.end(`too many publishers connected (${this.config.maxPublishers}); try again later\n`);
		setTimeout(() => socket.destroy(), lingerMs).unref();
	}

	/** Log a count's first occurrence and every 1000th, so a flood cannot flood the log. */
	private warnAt(count: number, text: string): void {
		if (count === 1 || count % 1000 === 0) {
			this.handle?.log('warn', text);
		}
	}

	// Over the budget for unfinished values: close the connections holding the most until under it.
	private enforceBudget(): void {
		const budget = this.config.maxPartialBytes;
		while (this.partialBytes > budget) {
			let largest: Connection | undefined;
			for (const c of this.publishers.values()) {
				if (c.held > (largest?.held ?? 0)) {
					largest = c;
				}
			}

			if (!largest) {
				return;
			}

			this.overBudget++;
			this.warnAt(this.overBudget, `closed ${this.overBudget} publisher connection(s) holding the most of an unfinished value: all connections together held more than ${budget} bytes (maxPartialBytes)`);
			largest.close(`this connection holds ${largest.held} bytes of an unfinished JSON value, and unfinished values of all publishers together passed the server's budget of ${budget} bytes`);
		}
	}

	private accept(socket: net.Socket): void {
		const handle = this.handle!;
		const remote = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
		const publisher: Publisher = {app: '', proc: '', host: '', remote, events: 0, since: Date.now()};
		const decoder = new JsonStreamDecoder({maxValueBytes: this.config.maxValue});
		let topic = false;
		let closing = false;
		this.connections++;
		this.debug(`publisher ${remote} connected`);
		socket.setKeepAlive(true, 60_000);
		socket.setNoDelay(true);

		// Write the reason back and close, as the original does; the newline is for people using nc.
		// What it held of an unfinished value is freed now.
		const close = (reason: string): void => {
			closing = true;
			clearTimeout(topicTimer);
			decoder.discard();
			this.release(connection);
			socket.end(reason + '\n');
			setTimeout(() => socket.destroy(), lingerMs).unref();
			this.updateDetails();
		};

		const connection: Connection = {publisher, decoder, held: 0, close};
		this.publishers.set(socket, connection);
		this.updateDetails();

		const reject = (reason: string): void => {
			this.rejected++;
			handle.parseError(`publisher ${remote}: ${sanitize(reason)}; connection closed`);
			close(reason);
		};

		const topicTimer = setTimeout(() => {
			if (!topic && !closing) {
				this.timedOut++;
				this.warnAt(this.timedOut, `closed ${this.timedOut} publisher connection(s) that sent no topic within ${this.config.topicTimeoutMs} ms (topicTimeoutMs)`);
				close(`no topic {"app","proc","host"} within ${this.config.topicTimeoutMs} ms`);
			}
		}, this.config.topicTimeoutMs);
		topicTimer.unref();

		socket.on('data', (chunk: Buffer) => {
			if (closing) {
				return;
			}

			handle.addBytes(chunk.length);
			const values = decoder.push(chunk);
			let events: EventInit[] | undefined;
			let now = 0;
			for (const v of values) {
				if (!topic) {
					const t = readTopic(v);
					if (typeof t === 'string') {
						reject(t);
						break;
					}

					topic = true;
					clearTimeout(topicTimer);
					publisher.app = t.app;
					publisher.proc = t.proc;
					publisher.host = t.host;
					this.updateDetails();
					this.debug(`publisher ${remote} topic ${JSON.stringify(t)}`);
					continue;
				}

				const log = readLog(v);
				if (!log.ok) {
					if (log.fatal) {
						reject(log.reason);
						break;
					}

					handle.parseError(`publisher ${remote}: ${log.reason}`);
					continue;
				}

				now ||= Date.now();
				if (log.badTime !== undefined) {
					handle.parseError(`publisher ${remote}: invalid time ${JSON.stringify(sanitize(log.badTime.slice(0, 64)))}; the receive time is used`);
				}

				const raw = stripNewline(log.raw);
				const text = displayText(raw);
				publisher.events++;
				(events ??= []).push({
					time: log.time ?? now,
					receivedAt: now,
					sourceId: this.id,
					sourceKind: this.kind,
					service: publisher.app,
					host: publisher.host,
					proc: publisher.proc,
					type: '',
					level: detectLevel({text}),
					message: sanitize(text),
					raw,
				});
			}

			if (events) {
				handle.publish(events);
			}

			if (closing) {
				return;
			}

			if (decoder.error !== undefined) {
				reject(decoder.error);
				return;
			}

			const held = decoder.pendingBytes;
			if (held !== connection.held) {
				this.partialBytes += held - connection.held;
				connection.held = held;
				if (this.partialBytes > this.config.maxPartialBytes) {
					this.enforceBudget();
				}

				this.showPartialBytes();
			}
		});

		socket.on('end', () => {
			const {error} = decoder.end();
			this.release(connection);
			if (!closing && error !== undefined) {
				closing = true;
				handle.parseError(`publisher ${remote}: connection ended inside a JSON value (${sanitize(error)})`);
			}
		});

		socket.on('error', error => {
			// Resets are how many publishers leave; only the close matters.
			this.debug(`publisher ${remote}: ${error.message}`);
		});

		socket.on('close', () => {
			clearTimeout(topicTimer);
			this.release(connection);
			this.publishers.delete(socket);
			this.updateDetails();
			this.debug(`publisher ${remote} left after ${publisher.events} logs`);
		});
	}

	/** Take a connection's unfinished value off the budget. */
	private release(c: Connection): void {
		this.partialBytes -= c.held;
		c.held = 0;
		this.showPartialBytes();
	}

	// Health read between connects and closes (a value growing chunk by chunk) shows the bytes held now.
	private showPartialBytes(): void {
		if (this.shown) {
			this.shown.partialBytes = this.partialBytes;
		}
	}

	private updateDetails(): void {
		const handle = this.handle;
		if (!handle) {
			return;
		}

		const list: Publisher[] = [];
		for (const c of this.publishers.values()) {
			if (list.length >= maxListed) {
				break;
			}

			list.push(c.publisher);
		}

		const shown = {
			count: this.publishers.size,
			/** Connections accepted since start. */
			total: this.connections,
			/** Connections closed for bad input. */
			rejected: this.rejected,
			/** Connections refused at maxPublishers. */
			refused: this.refused,
			/** Connections closed for sending no topic within topicTimeoutMs. */
			timedOut: this.timedOut,
			/** Connections closed for holding the most when unfinished values passed maxPartialBytes. */
			overBudget: this.overBudget,
			/** Bytes of unfinished values held now, across all connections. */
			partialBytes: this.partialBytes,
			list,
		};
		this.shown = shown;
		handle.detail('publishers', shown);
		if (this.address) {
			handle.detail('listen', formatHostPort(this.address.host, this.address.port));
		}
	}

	private debug(text: string): void {
		if (this.deps.debug) {
			process.stderr.write(`logmon: debug: ${this.id}: ${text}\n`);
		}
	}
}
