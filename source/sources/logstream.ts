import {isUtf8} from 'node:buffer';
import WebSocket from 'ws';
import {type LogstreamAuth, type LogstreamConfig} from '../config/logstream.js';
import {Backoff, type BackoffOptions} from '../core/backoff.js';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {detectLevel, levelFromStatus} from '../core/level.js';
import {parseJsonObject, parseTime} from '../core/record.js';
import {sanitize} from '../core/sanitize.js';
import {CloudApi, CloudApiError, readCredentials, type StreamParams} from './acquia-api.js';
import {describeNetworkError, oneLine} from './net-error.js';
import {type LogSource, type Pair, type PairState, type SourceDeps, type Toggleable} from './source.js';

// Acquia logstream over WebSocket (protocols.md §1.2). One connection at a time:
//   open -> first `connected` (the API front) -> stream-environment, once
//   -> `connected` + `available` per backend server -> `enable` per wanted pair
//   -> `line` messages for enabled pairs only.
// On close: fresh params, backoff, reconnect, re-enable exactly what was on,
// and a gap marker for the time in between.

type Json = Record<string, unknown>;

type PairEntry = Pair & {display: string};

export type LogstreamOptions = {
	/** Where --debug lines go; default stderr. */
	debugOut?: (line: string) => void;
	/** Reconnect policy; default 0.5 s .. 30 s with jitter. */
	backoff?: BackoffOptions;
	/** Send the auth message this long after open if no `connected` came first. */
	authFallbackMs?: number;
};

const defaultAuthFallbackMs = 2000;
/** A real environment has tens of servers with up to 8 types each; more is a misbehaving server. */
const maxServers = 1000;
const maxPairs = 8000;
/** Error replies logged per connection before they are only counted. */
const errorLogLimit = 20;

function pairKey(server: string, type: string): string {
	return server + '\u0000' + type;
}

function preview(text: string): string {
	return JSON.stringify(oneLine(text, 60));
}

/** `disp_time` is "YYYY-MM-DD HH:MM:SS" in UTC with no zone marker. */
const dispTimePattern = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)$/;

function parseDispTime(text: string): number | undefined {
	const m = dispTimePattern.exec(text);
	if (!m) {
		return undefined;
	}

	const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
	return Number.isNaN(ms) ? undefined : ms;
}

/** A varnish-request record as one readable request line; the full record stays in `record`. */
function varnishMessage(f: Json): string {
	const s = (key: string): string => {
		const v = f[key];
		return typeof v === 'string' ? v : (typeof v === 'number' ? String(v) : '');
	};

	const query = s('query');
	const url = s('url') + (query && !query.startsWith('?') ? '?' + query : query);
	const parts = [s('client_ip') || '-', `"${s('method') || '-'} ${url || '-'}"`, s('status') || '-', s('bytes') || '-'];
	for (const key of ['host', 'hitmiss', 'handling', 'time_firstbyte', 'request_id']) {
		const v = s(key);
		if (v) {
			parts.push(`${key}=${v}`);
		}
	}

	const ua = s('user_agent');
	if (ua) {
		parts.push(`"${ua}"`);
	}

	return parts.join(' ');
}

/** Request logs: the HTTP status says how bad a line is; words in a URL must not. */
const requestTypes = new Set(['apache-request', 'varnish-request', 'bal-request', 'drupal-request']);

function statusOf(v: unknown): number | undefined | false {
	if (v === undefined || v === null) {
		return undefined;
	}

	if (typeof v === 'number' && Number.isInteger(v)) {
		return v;
	}

	if (typeof v === 'string' && /^\d{3}$/.test(v)) {
		return Number(v);
	}

	return false;
}

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
	private readonly servers = new Set<string>();
	private readonly pairMap = new Map<string, PairEntry>();

	/** What the user wants on or off, kept across connections; a pair not in here follows the selection. */
	private readonly desired = new Map<string, boolean>();
	/** Pairs of earlier connections, so whole-server and whole-type toggles work while reconnecting. */
	private readonly seen = new Set<string>();
	/** Set when a connection dropped; the gap marker covers from here to the next open. */
	private downSince: number | undefined;
	private readonly listeners = new Set<() => void>();
	private notifyQueued = false;
	private pending: EventInit[] = [];
	private flushQueued = false;
	private readonly lastName: [string, string] = ['', ''];
	private readonly lastSafe: [string, string] = ['', ''];
	/** Lines of one second share their disp_time: parsed once. */
	private lastDisp = '';
	private lastDispMs: number | undefined;

	constructor(readonly id: string, readonly config: LogstreamConfig, readonly deps: SourceDeps, options: LogstreamOptions = {}) {
		this.backoff = new Backoff({initialMs: 500, maxMs: 30_000, ...options.backoff});
		this.authFallbackMs = options.authFallbackMs ?? defaultAuthFallbackMs;
		if (deps.debug) {
			this.trace = options.debugOut ?? ((line: string) => {
				process.stderr.write(line + '\n');
			});
		}

		if (config.acquia) {
			this.api = new CloudApi(config.acquia, this.trace);
		}

		this.toggles = {
			pairs: () => this.pairs(),
			setPair: (server, type, on) => {
				this.setPair(server, type, on);
			},
			setServer: (server, on) => {
				for (const [s, type] of this.knownPairs()) {
					if (s === server) {
						this.setPair(s, type, on);
					}
				}
			},
			setType: (type, on) => {
				for (const [server, t] of this.knownPairs()) {
					if (t === type) {
						this.setPair(server, t, on);
					}
				}
			},
			onPairsChange: listener => {
				this.listeners.add(listener);
				return () => this.listeners.delete(listener);
			},
			listAvailable: server => {
				this.sendIfLive(server === undefined ? {cmd: 'list-available'} : {cmd: 'list-available', server});
			},
			listEnabled: server => {
				this.sendIfLive(server === undefined ? {cmd: 'list-enabled'} : {cmd: 'list-enabled', server});
			},
		};
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
				// Checked per frame below, so one bad frame is skipped instead of closing the connection.
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
		if (this.downSince !== undefined) {
			this.flush();
			this.handle?.gap(this.downSince, now);
			this.handle?.reconnected();
			this.downSince = undefined;
		}

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
			this.downSince = this.lastAliveAt;
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
			this.downSince ??= now;
		}

		this.endConnection();
		if (this.stopped || this.failed) {
			return;
		}

		const why = reason.length > 0 ? `: ${oneLine(reason.toString('utf8'), 80)}` : '';
		const cause = this.cause
			?? (this.lastError ? describeNetworkError(this.lastError) : undefined)
			?? `connection closed by the server (code ${code}${why})`;
		this.retry(cause);
	}

	/** Forget the connection: timers, servers, pairs. What was on is remembered in `desired`. */
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

		if (this.pairMap.size > 0) {
			// Only what differs from the selection needs remembering, which keeps this map small.
			for (const [key, p] of this.pairMap) {
				this.seen.add(key);
				const on = p.state === 'enabled' || p.state === 'pending-enable';
				if (on === this.selected(p.server, p.type)) {
					this.desired.delete(key);
				} else {
					this.desired.set(key, on);
				}
			}

			for (const map of [this.desired, this.seen]) {
				for (const key of map.keys()) {
					if (map.size <= maxPairs) {
						break;
					}

					map.delete(key);
				}
			}

			this.pairMap.clear();
			this.notify();
		}

		this.servers.clear();
		this.handle?.detail('servers', []);
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

	private sendIfLive(msg: Json): void {
		if (this.authSent) {
			this.send(msg);
		}
	}

	private sendAuth(): void {
		if (this.authSent || !this.auth) {
			return;
		}

		this.authSent = true;
		clearTimeout(this.authTimer);
		const {site, env, t, d} = this.auth;
		this.send({cmd: 'stream-environment', site, env, t, d});
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
		if (isBinary) {
			this.trace?.(`<- (binary frame, ${data.length} bytes)`);
			handle.parseError(`binary frame of ${data.length} bytes skipped; logstream sends JSON text`);
			return;
		}

		if (!isUtf8(data)) {
			this.trace?.(`<- (text frame with invalid UTF-8, ${data.length} bytes)`);
			handle.parseError(`text frame of ${data.length} bytes is not valid UTF-8; skipped`);
			return;
		}

		const text = data.toString('utf8');
		if (this.trace) {
			this.trace('<- ' + this.redact(sanitize(text)));
		}

		let msg: unknown;
		try {
			msg = JSON.parse(text);
		} catch {
			handle.parseError(`frame is not JSON: ${preview(text)}`);
			return;
		}

		if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
			handle.parseError(`frame is not a JSON object: ${preview(text)}`);
			return;
		}

		const m = msg as Json;
		const cmd = m['cmd'];
		if (cmd === 'line') {
			this.onLine(m);
			return;
		}

		switch (cmd) {
			case 'connected': {
				this.onConnected(m);
				break;
			}

			case 'available': {
				this.onAvailable(m);
				break;
			}

			case 'success': {
				this.onSuccess(m);
				break;
			}

			case 'error': {
				this.onError(m);
				break;
			}

			case 'enabled': {
				this.onEnabled(m);
				break;
			}

			case undefined: {
				handle.parseError(`frame has no "cmd": ${preview(text)}`);
				break;
			}

			default: {
				handle.parseError(`unknown cmd ${preview(typeof cmd === 'string' ? cmd : JSON.stringify(cmd))}`);
			}
		}
	}

	private onLine(m: Json): void {
		const type = m['log_type'];
		const server = m['server'];
		const text = m['text'];
		if (typeof type !== 'string' || typeof server !== 'string' || typeof text !== 'string') {
			const bad = [['log_type', type], ['server', server], ['text', text]].filter(([, v]) => typeof v !== 'string').map(([k]) => k as string);
			this.handle!.parseError(`line with a missing or mistyped ${bad.join(', ')}; skipped`);
			return;
		}

		let status = statusOf(m['http_status']);
		if (status === false) {
			this.handle!.parseError(`line with a mistyped http_status ${preview(JSON.stringify(m['http_status']))}; skipped`);
			return;
		}

		const now = Date.now();
		let time: number | undefined;
		const unix = m['unix_time'];
		const disp = m['disp_time'];
		if (unix !== undefined && unix !== null) {
			time = parseTime(unix);
			if (time === undefined) {
				this.handle!.parseError(`line with a mistyped unix_time ${preview(JSON.stringify(unix))}; skipped`);
				return;
			}
		} else if (disp !== undefined && disp !== null) {
			if (typeof disp !== 'string') {
				this.handle!.parseError(`line with a mistyped disp_time ${preview(JSON.stringify(disp))}; skipped`);
				return;
			}

			// A malformed but present time keeps the line, stamped when it arrived.
			if (disp !== this.lastDisp) {
				this.lastDisp = disp;
				this.lastDispMs = parseDispTime(disp);
			}

			time = this.lastDispMs;
		}

		let message = text;
		let record: unknown = m;
		if (type === 'varnish-request') {
			const fields = parseJsonObject(text);
			if (fields) {
				message = varnishMessage(fields);
				record = {...m, fields};
				if (status === undefined) {
					const s = statusOf(fields['status']);
					status = s === false ? undefined : s;
				}
			}
		}

		this.pending.push({
			time: time ?? now,
			receivedAt: now,
			sourceId: this.id,
			sourceKind: 'logstream',
			service: this.service,
			host: this.safeName(server, 0),
			proc: '',
			type: this.safeName(type, 1),
			level: status !== undefined && requestTypes.has(type) ? levelFromStatus(status) ?? 'INFO' : detectLevel({status, type, text: message}),
			status,
			message: sanitize(message),
			raw: text,
			record,
		});
		if (!this.flushQueued) {
			this.flushQueued = true;
			// ws hands over every frame of a socket read synchronously; publish them as one batch.
			queueMicrotask(this.flush);
		}

		this.markLive();
	}

	/** Consecutive lines mostly share a server and a type: sanitise a name only when it changes. */
	private safeName(name: string, slot: 0 | 1): string {
		if (name !== this.lastName[slot]) {
			this.lastName[slot] = name;
			this.lastSafe[slot] = sanitize(name);
		}

		return this.lastSafe[slot];
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

	private onConnected(m: Json): void {
		const server = m['server'];
		if (typeof server !== 'string') {
			this.handle!.parseError('"connected" without a server name; skipped');
			return;
		}

		// The first `connected` comes from the API front: that is when it listens for auth.
		if (!this.authSent) {
			this.sendAuth();
		}

		if (server.startsWith('logstream-')) {
			this.handle!.detail('front', server);
			return;
		}

		if (!this.servers.has(server) && this.servers.size >= maxServers) {
			this.handle!.parseError(`more than ${maxServers} servers announced; "connected" skipped`);
			return;
		}

		this.servers.add(server);
		this.handle!.detail('servers', [...this.servers]);
		this.markLive();
	}

	private onAvailable(m: Json): void {
		const server = m['server'];
		const type = m['type'];
		const display = m['display_type'];
		if (typeof server !== 'string' || typeof type !== 'string') {
			this.handle!.parseError('"available" without a server or type; skipped');
			return;
		}

		this.markLive();
		const key = pairKey(server, type);
		const known = this.pairMap.get(key);
		if (!known && (this.pairMap.size >= maxPairs || (!this.servers.has(server) && this.servers.size >= maxServers))) {
			this.handle!.parseError(`more than ${maxPairs} (server, type) pairs or ${maxServers} servers announced; "available" skipped`);
			return;
		}

		if (!this.servers.has(server)) {
			this.servers.add(server);
			this.handle!.detail('servers', [...this.servers]);
		}

		if (known) {
			// A repeat, e.g. the reply to list-available: nothing to enable again.
			if (typeof display === 'string') {
				known.display = display;
			}

			return;
		}

		const pair: PairEntry = {server, type, state: 'available', display: typeof display === 'string' ? display : type};
		this.pairMap.set(key, pair);
		if (this.desired.get(key) ?? this.selected(server, type)) {
			this.setState(pair, 'pending-enable');
			this.send({cmd: 'enable', type, server});
		}

		this.notify();
	}

	private onSuccess(m: Json): void {
		const request = m['msg'];
		const r = request !== null && typeof request === 'object' ? request as Json : undefined;
		if (r?.['cmd'] === 'keepalive') {
			// The server's idle keepalive: the connection is fine.
			return;
		}

		this.markLive();
		const type = r?.['type'];
		const server = typeof r?.['server'] === 'string' ? r['server'] : m['server'];
		if ((r?.['cmd'] !== 'enable' && r?.['cmd'] !== 'disable') || typeof type !== 'string' || typeof server !== 'string') {
			return;
		}

		const key = pairKey(server, type);
		let pair = this.pairMap.get(key);
		if (r['cmd'] === 'enable') {
			if (!pair) {
				pair = {server, type, state: 'enabled', display: type};
				this.pairMap.set(key, pair);
			} else if (pair.state !== 'pending-disable') {
				this.setState(pair, 'enabled');
			}
		} else if (pair && pair.state !== 'pending-enable') {
			this.setState(pair, 'available');
		}

		this.notify();
	}

	private onError(m: Json): void {
		const server = typeof m['server'] === 'string' ? m['server'] : '(no server)';
		const description = typeof m['description'] === 'string' ? m['description'] : '(no description)';
		const code = typeof m['code'] === 'number' || typeof m['code'] === 'string' ? m['code'] : undefined;
		// `during` is the request that failed, as a JSON string.
		let during: Json | undefined;
		const raw = m['during'];
		if (typeof raw === 'string') {
			during = parseJsonObject(raw);
		} else if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
			during = raw as Json;
		}

		const cmd = during?.['cmd'];
		if (cmd === 'stream-environment' || (!this.live && server.startsWith('logstream-'))) {
			this.fail(`authentication refused by ${sanitize(server)}: ${oneLine(description)}`);
			return;
		}

		const type = during?.['type'];
		const target = typeof during?.['server'] === 'string' ? during['server'] : server;
		if ((cmd === 'enable' || cmd === 'disable') && typeof type === 'string') {
			const pair = this.pairMap.get(pairKey(target, type));
			if (pair) {
				// A failed enable leaves the pair off; a failed disable leaves it on.
				this.setState(pair, cmd === 'enable' ? 'failed' : 'enabled', oneLine(description));
				this.notify();
			}
		}

		this.errorReplies++;
		if (this.errorReplies <= errorLogLimit || this.errorReplies % 1000 === 0) {
			const what = typeof cmd === 'string' ? ` to ${sanitize(cmd)}${typeof type === 'string' ? ' ' + sanitize(type) : ''}` : '';
			this.handle!.log('warn', `${sanitize(server)} replied error${code === undefined ? '' : ' ' + sanitize(String(code))}${what}: ${oneLine(description)}`);
		}
	}

	private onEnabled(m: Json): void {
		const server = m['server'];
		const list = m['enabled'];
		if (typeof server !== 'string' || !Array.isArray(list) || !list.every(t => typeof t === 'string')) {
			this.handle!.parseError('"enabled" without a server or a list of types; skipped');
			return;
		}

		this.markLive();
		const on = new Set(list as string[]);
		for (const pair of this.pairMap.values()) {
			if (pair.server !== server || pair.state === 'pending-enable' || pair.state === 'pending-disable') {
				continue;
			}

			if (on.has(pair.type)) {
				this.setState(pair, 'enabled');
			} else if (pair.state === 'enabled') {
				this.setState(pair, 'available');
			}
		}

		for (const type of on) {
			const key = pairKey(server, type);
			if (!this.pairMap.has(key)) {
				this.pairMap.set(key, {server, type, state: 'enabled', display: type});
			}
		}

		this.notify();
	}

	// --- pairs and toggles -----------------------------------------------

	private selected(server: string, type: string): boolean {
		const {types, servers} = this.config;
		return types.includes(type) && (servers.length === 0 || servers.includes(server));
	}

	private setState(pair: PairEntry, state: PairState, error?: string): void {
		pair.state = state;
		pair.error = error;
	}

	private knownPairs(): Array<[string, string]> {
		const keys = new Set([...this.pairMap.keys(), ...this.seen, ...this.desired.keys()]);
		return [...keys].map(k => k.split('\u0000') as [string, string]);
	}

	private pairs(): Pair[] {
		return [...this.pairMap.values()]
			.map(({server, type, state, error}) => ({server, type, state, ...(error === undefined ? {} : {error})}))
			.sort((a, b) => a.server.localeCompare(b.server) || a.type.localeCompare(b.type));
	}

	private setPair(server: string, type: string, on: boolean): void {
		const key = pairKey(server, type);
		this.desired.set(key, on);
		if (!this.authSent) {
			// Applied when the server next lists the pair as available.
			return;
		}

		let pair = this.pairMap.get(key);
		if (on) {
			if (pair?.state === 'enabled' || pair?.state === 'pending-enable') {
				return;
			}

			if (!pair) {
				// Not listed (yet): ask anyway and let the server say whether it exists.
				pair = {server, type, state: 'available', display: type};
				this.pairMap.set(key, pair);
			}

			this.setState(pair, 'pending-enable');
			this.send({cmd: 'enable', type, server});
		} else {
			if (!pair || pair.state === 'available' || pair.state === 'pending-disable') {
				return;
			}

			if (pair.state === 'failed') {
				// Never came on upstream: nothing to disable.
				this.setState(pair, 'available');
			} else {
				this.setState(pair, 'pending-disable');
				this.send({cmd: 'disable', type, server});
			}
		}

		this.notify();
	}

	/** Listeners hear once per burst (a server announcing its types), not once per message. */
	private notify(): void {
		if (this.notifyQueued) {
			return;
		}

		this.notifyQueued = true;
		queueMicrotask(() => {
			this.notifyQueued = false;
			this.handle?.detail('pairs', this.pairs());
			for (const l of this.listeners) {
				try {
					l();
				} catch (error) {
					this.handle?.log('error', `a pairs listener threw: ${(error as Error).message}`);
				}
			}
		});
	}
}
