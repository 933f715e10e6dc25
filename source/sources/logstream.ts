import WebSocket from 'ws';
import {type LogstreamAuth, type LogstreamConfig} from '../config/logstream.js';
import {Backoff, type BackoffOptions} from '../core/backoff.js';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {sanitize} from '../core/sanitize.js';
import {CloudApi, CloudApiError, readCredentials, type StreamParams} from './acquia-api.js';
import {LineReader} from './logstream-lines.js';
import {type Json, type ServerMessage, parseFrame, readMessage, streamEnvironment, unreadableFrame} from './logstream-messages.js';
import {PairTable} from './logstream-pairs.js';
import {describeNetworkError, oneLine} from './net-error.js';
import {type LogSource, type SourceDeps, type Toggleable} from './source.js';

/** Upgrades refused with 401 or 403 in a row before the source fails. */
const maxRefusals = 3;

// Acquia logstream over WebSocket (protocols.md §1.2): the connection and its
// reconnect loop. One connection at a time:
//   open -> first `connected` (the API front) -> stream-environment, once
//   -> `connected` + `available` per backend server -> `enable` per wanted pair
//   -> `line` messages for enabled pairs only.
// On close: fresh params, backoff, reconnect, re-enable exactly what was on,
// and a gap marker for the time in between.
// The messages are read in logstream-messages.ts and logstream-lines.ts; the
// (server, type) pairs behind the toggles live in logstream-pairs.ts.

export type LogstreamOptions = {
	/** Where --debug lines go; default stderr. */
	debugOut?: (line: string) => void;
	/** Reconnect policy; default 0.5 s .. 30 s with jitter. */
	backoff?: BackoffOptions;
	/** Send the auth message this long after open if no `connected` came first. */
	authFallbackMs?: number;
};

const defaultAuthFallbackMs = 2000;
/** Error replies logged per connection before they are only counted. */
const errorLogLimit = 20;

export class LogstreamSource implements LogSource {
	readonly kind = 'logstream' as const;
	readonly toggles: Toggleable;
	private handle: SourceHandle | undefined;
	private readonly backoff: Backoff;
	private readonly api: CloudApi | undefined;
	private readonly trace: ((line: string) => void) | undefined;
	private readonly authFallbackMs: number;
	private stopped = false;
	private failed = false;
	/** Upgrades refused with 401 or 403 in a row. */
	private refusals = 0;
	private credentialsWarned = false;
	private retryTimer: NodeJS.Timeout | undefined;

	// The current connection and what it has told us.
	private ws: WebSocket | undefined;
	private auth: LogstreamAuth | undefined;
	private service = '';
	private openedAt = 0;
	private authSent = false;
	private authTimer: NodeJS.Timeout | undefined;
	private tick: NodeJS.Timeout | undefined;
	private live = false;
	private heard = false;
	private lastAliveAt = 0;
	private lastPingAt = 0;
	/** Why the current connection is being dropped, when we drop it. */
	private cause: string | undefined;
	private lastError: Error | undefined;
	private errorReplies = 0;
	private readonly pairTable: PairTable;
	private readonly lines: LineReader;
	/**
	 * Set when a live connection dropped; the gap marker covers from here to the next connection that
	 * goes live. One that opens and closes before it streams (a proxy that drops it) is no end of the gap.
	 */
	private downSince: number | undefined;
	private pending: EventInit[] = [];
	private flushQueued = false;

	constructor(readonly id: string, readonly config: LogstreamConfig, readonly deps: SourceDeps, options: LogstreamOptions = {}) {
		this.backoff = new Backoff({initialMs: 500, maxMs: 30_000, ...options.backoff});
		this.authFallbackMs = options.authFallbackMs ?? defaultAuthFallbackMs;
		if (deps.debug) {
			this.trace = options.debugOut ?? ((line: string) => {
				process.stderr.write(line + '\n');
			});
		}

		if (config.acquia) {
			this.api = new CloudApi(config.acquia, this.trace, deps.diagnostics.secrets);
		}

		this.pairTable = new PairTable(config, {
			send: msg => {
				this.send(msg);
			},
			streaming: () => this.authSent,
			handle: () => this.handle,
		});
		this.toggles = this.pairTable.toggles;
		this.lines = new LineReader(id, deps.maxLine, why => {
			this.handle?.parseError(why);
		});
	}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		this.stopped = false;
		void this.connect();
	}

	async stop(): Promise<void> {
		this.stopped = true;
		clearTimeout(this.retryTimer);
		this.flush();
		const ws = this.ws;
		this.endConnection();
		ws?.terminate();
	}

	// --- connection -------------------------------------------------------

	private async params(): Promise<StreamParams> {
		if (!this.api) {
			return {url: this.config.url!, auth: this.config.auth!};
		}

		const file = this.config.acquia!.credentials;
		const credentials = await readCredentials(file);
		if (credentials.exposed && !this.credentialsWarned) {
			this.credentialsWarned = true;
			this.handle?.log('warn', `${file} is readable by group or others; it holds your Cloud API secret (chmod 600 it)`);
		}

		return this.api.streamParams(credentials);
	}

	private async connect(): Promise<void> {
		const handle = this.handle;
		if (!handle || this.stopped || this.failed) {
			return;
		}

		handle.setState('connecting');
		let params: StreamParams;
		try {
			params = await this.params();
		} catch (error) {
			if (this.stopped) {
				return;
			}

			if (error instanceof CloudApiError && error.fatal) {
				this.fail(error.message);
			} else {
				this.retry(error instanceof Error ? error.message : String(error));
			}

			return;
		}

		if (this.stopped) {
			return;
		}

		let ws: WebSocket;
		try {
			ws = new WebSocket(params.url, {
				maxPayload: this.config.maxPayload,
				perMessageDeflate: this.config.perMessageDeflate,
				// Checked per frame (unreadableFrame), so one bad frame is skipped instead of closing the connection.
				skipUTF8Validation: true,
				allowSynchronousEvents: true,
				autoPong: true,
				handshakeTimeout: 15_000,
				followRedirects: false,
			});
		} catch (error) {
			this.fail(`bad logstream URL ${JSON.stringify(params.url)}: ${(error as Error).message}`);
			return;
		}

		this.ws = ws;
		this.auth = params.auth;
		this.service = sanitize(params.auth.site);
		this.cause = undefined;
		this.lastError = undefined;
		handle.detail('url', params.url);
		handle.detail('site', params.auth.site);
		ws.on('open', () => {
			this.onOpen(ws);
		});
		ws.on('message', (data: Buffer, isBinary: boolean) => {
			this.onFrame(data, isBinary);
		});
		ws.on('pong', () => {
			this.heard = true;
		});
		ws.on('ping', () => {
			this.heard = true;
		});
		ws.on('error', (error: Error & {code?: string}) => {
			if (ws !== this.ws) {
				return;
			}

			if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
				this.handle?.parseError(`frame larger than maxPayload (${this.config.maxPayload} bytes); reconnecting`);
				this.cause ??= 'a frame was larger than maxPayload';
			}

			this.lastError = error;
		});
		ws.on('close', (code: number, reason: Buffer) => {
			this.onClose(ws, code, reason);
		});
	}

	private onOpen(ws: WebSocket): void {
		if (ws !== this.ws) {
			return;
		}

		const now = Date.now();
		this.openedAt = now;
		this.lastAliveAt = now;
		this.lastPingAt = now;
		this.authSent = false;
		this.live = false;
		this.errorReplies = 0;

		this.authTimer = setTimeout(() => {
			this.sendAuth();
		}, this.authFallbackMs);
		const {pingIntervalMs, deadAfterMs} = this.config;
		this.tick = setInterval(() => {
			this.onTick();
		}, Math.max(50, Math.min(pingIntervalMs, Math.floor(deadAfterMs / 4))));
	}

	/** Pings on an interval; a connection that stays silent past the deadline is dropped. */
	private onTick(): void {
		const ws = this.ws;
		if (!ws || ws.readyState !== WebSocket.OPEN) {
			return;
		}

		const now = Date.now();
		if (this.heard) {
			this.heard = false;
			this.lastAliveAt = now;
		} else if (now - this.lastAliveAt > this.config.deadAfterMs) {
			this.cause = `no data or pong for ${Math.round((now - this.lastAliveAt) / 1000)} s`;
			if (this.live) {
				this.downSince = this.lastAliveAt;
			}

			ws.terminate();
			return;
		}

		if (now - this.lastPingAt >= this.config.pingIntervalMs) {
			this.lastPingAt = now;
			ws.ping();
		}
	}

	private onClose(ws: WebSocket, code: number, reason: Buffer): void {
		if (ws !== this.ws) {
			return;
		}

		this.flush();
		const now = Date.now();
		const wasOpen = this.openedAt > 0;
		if (wasOpen) {
			this.backoff.connectionEnded(now - this.openedAt);
		}

		if (this.live) {
			this.downSince ??= now;
		}

		this.endConnection();
		if (this.stopped || this.failed) {
			return;
		}

		// The upgrade refused for want of credentials: signing in again (fresh params) is tried a few
		// times, in case they had just expired; past that it is said as a failure, not retried for ever.
		const refused = /^Unexpected server response: (40[13])$/.exec(this.lastError?.message ?? '')?.[1];
		this.refusals = refused === undefined || wasOpen ? 0 : this.refusals + 1;
		if (this.refusals >= maxRefusals) {
			this.fail(`the stream server refused the connection ${this.refusals} times in a row: HTTP ${refused!} ${refused === '401' ? 'Unauthorized' : 'Forbidden'}`);
			return;
		}

		const why = reason.length > 0 ? `: ${oneLine(reason.toString('utf8'), 80)}` : '';
		const cause = this.cause
			?? (this.lastError ? describeNetworkError(this.lastError) : undefined)
			?? `connection closed by the server (code ${code}${why})`;
		this.retry(cause);
	}

	/** Forget the connection: timers, servers, pairs (the pair table remembers what was on). */
	private endConnection(): void {
		clearTimeout(this.authTimer);
		clearInterval(this.tick);
		this.authTimer = undefined;
		this.tick = undefined;
		const ws = this.ws;
		this.ws = undefined;
		this.openedAt = 0;
		this.live = false;
		this.authSent = false;
		if (ws) {
			ws.removeAllListeners('message');
			// A late error on a socket we let go must not become an uncaught exception.
			ws.on('error', () => undefined);
		}

		this.pairTable.connectionEnded();
	}

	private retry(cause: string): void {
		if (this.stopped || this.failed) {
			return;
		}

		const delay = this.backoff.next();
		this.handle?.setState('retrying', cause, delay);
		clearTimeout(this.retryTimer);
		this.retryTimer = setTimeout(() => {
			void this.connect();
		}, delay);
	}

	private fail(cause: string): void {
		this.failed = true;
		clearTimeout(this.retryTimer);
		this.flush();
		const ws = this.ws;
		this.endConnection();
		ws?.terminate();
		this.handle?.setState('failed', cause);
	}

	private markLive(): void {
		if (!this.live && this.authSent) {
			// The backoff is reset only by a connection that stays up (Backoff.connectionEnded), so a flapping server is not hammered.
			this.live = true;
			if (this.downSince !== undefined) {
				this.flush();
				this.handle?.gap(this.downSince, Date.now());
				this.handle?.reconnected();
				this.downSince = undefined;
			}

			this.handle?.setState('live');
		}
	}

	// --- sending ----------------------------------------------------------

	private send(msg: Json): void {
		const ws = this.ws;
		if (!ws || ws.readyState !== WebSocket.OPEN) {
			return;
		}

		const text = JSON.stringify(msg);
		if (this.trace) {
			this.trace('-> ' + this.redact(text));
		}

		ws.send(text);
	}

	private sendAuth(): void {
		if (this.authSent || !this.auth) {
			return;
		}

		this.authSent = true;
		clearTimeout(this.authTimer);
		this.send(streamEnvironment(this.auth));
	}

	private redact(text: string): string {
		let out = this.api ? this.api.redact(text) : text;
		const d = this.auth?.d;
		if (d && d.length >= 4) {
			out = out.split(d).join('[redacted]');
		}

		return out.replace(/("d"\s*:\s*")[^"]*"/g, '$1[redacted]"');
	}

	// --- receiving --------------------------------------------------------

	private onFrame(data: Buffer, isBinary: boolean): void {
		const handle = this.handle!;
		this.heard = true;
		handle.addBytes(data.length);
		const unreadable = unreadableFrame(data, isBinary);
		if (unreadable) {
			this.trace?.(unreadable.trace);
			handle.parseError(unreadable.problem);
			return;
		}

		const text = data.toString('utf8');
		if (this.trace) {
			this.trace('<- ' + this.redact(sanitize(text)));
		}

		const m = parseFrame(text, why => handle.parseError(why));
		if (typeof m === 'string') {
			handle.parseError(m);
			return;
		}

		if (m['cmd'] === 'line') {
			this.onLine(m);
			return;
		}

		const msg = readMessage(m, text);
		if (typeof msg === 'string') {
			handle.parseError(msg);
			return;
		}

		this.onMessage(msg);
	}

	private onLine(m: Json): void {
		const event = this.lines.read(m, this.service);
		if (!event) {
			return;
		}

		// Before the line joins the batch: a gap marker this connection ends goes ahead of its lines.
		this.markLive();
		this.pending.push(event);
		if (!this.flushQueued) {
			this.flushQueued = true;
			// ws hands over every frame of a socket read synchronously; publish them as one batch.
			queueMicrotask(this.flush);
		}
	}

	private readonly flush = (): void => {
		this.flushQueued = false;
		if (this.pending.length === 0 || !this.handle) {
			return;
		}

		const batch = this.pending;
		this.pending = [];
		this.handle.publish(batch);
	};

	private onMessage(msg: ServerMessage): void {
		switch (msg.cmd) {
			case 'connected': {
				// The first `connected` comes from the API front: that is when it listens for auth.
				if (!this.authSent) {
					this.sendAuth();
				}

				if (msg.server.startsWith('logstream-')) {
					this.handle!.detail('front', msg.server);
				} else if (this.pairTable.serverConnected(msg.server)) {
					this.markLive();
				}

				break;
			}

			case 'available': {
				this.markLive();
				this.pairTable.available(msg.server, msg.type, msg.display);
				break;
			}

			case 'success': {
				// The server's idle keepalive says nothing but that the connection is fine.
				if (!msg.keepalive) {
					this.markLive();
					if (msg.request) {
						this.pairTable.succeeded(msg.request);
					}
				}

				break;
			}

			case 'error': {
				this.onError(msg);
				break;
			}

			case 'enabled': {
				this.markLive();
				this.pairTable.enabledList(msg.server, msg.types);
				break;
			}
		}
	}

	private onError({server, description, code, request}: Extract<ServerMessage, {cmd: 'error'}>): void {
		const cmd = request?.['cmd'];
		if (cmd === 'stream-environment' || (!this.live && server.startsWith('logstream-'))) {
			this.fail(`authentication refused by ${sanitize(server)}: ${oneLine(description)}`);
			return;
		}

		const type = request?.['type'];
		const target = typeof request?.['server'] === 'string' ? request['server'] : server;
		if ((cmd === 'enable' || cmd === 'disable') && typeof type === 'string') {
			this.pairTable.requestFailed(cmd, target, type, oneLine(description));
		}

		this.errorReplies++;
		if (this.errorReplies <= errorLogLimit || this.errorReplies % 1000 === 0) {
			const what = typeof cmd === 'string' ? ` to ${sanitize(cmd)}${typeof type === 'string' ? ' ' + sanitize(type) : ''}` : '';
			this.handle!.log('warn', `${sanitize(server)} replied error${code === undefined ? '' : ' ' + sanitize(String(code))}${what}: ${oneLine(description)}`);
		}
	}
}
