import {createHmac, timingSafeEqual} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {createServer, type IncomingMessage, type RequestListener, type Server} from 'node:http';
import {createServer as createTlsServer} from 'node:https';
import {type AddressInfo, type Socket} from 'node:net';
import {WebSocket, WebSocketServer} from 'ws';
import {type BackendSpec, defaultBackends, dispTime, logTypeNames, sampleLine} from './logstream-samples.js';

export {CloudApiTestServer, type CloudApiServerOptions} from './cloud-api-server.js';

// A local logstream server that follows protocols.md §1.2, quirks included:
// an API front ("logstream-api-61") that greets on open and checks the
// stream-environment t/d, backend servers (bal-N, web-N) that each announce
// themselves and their log types, enable/disable/list-* per (server, type),
// errors with `during` as a JSON string, lines only for enabled pairs, idle
// keepalive successes. Used by the tests, the benchmark and `--demo`. Its
// log types, backends and sample lines: logstream-samples.ts.

type Json = Record<string, unknown>;

export type LogstreamServerOptions = {
	/** Default 127.0.0.1. */
	host?: string;
	/** Default 0: any free port. */
	port?: number;
	site?: string;
	environment?: string;
	/** The key the t/d pairs are signed with. */
	secret?: string;
	/** Name of the API front in `connected` and front errors. */
	front?: string;
	backends?: BackendSpec[];
	/** A `t` older (or newer) than this many seconds is refused. Default 3600. */
	maxAgeS?: number;
	/** Each t/d works for one connection only: proves the client fetched fresh params. */
	singleUse?: boolean;
	/** Greet with the front's `connected` on open (default); false: wait for auth first. */
	greet?: boolean;
	/** Send a keepalive success to a client idle this long; 0 (default) sends none. */
	keepaliveMs?: number;
	path?: string;
	/** Repeat a refused `d` in the error description, as careless servers do. */
	echoAuth?: boolean;
	/** Serve wss:// with this key and certificate (PEM). */
	tls?: {key: string | Buffer; cert: string | Buffer};
};

export type StreamParams = {t: number; hmac: string; environment: string; site: string};

export type Connection = {
	id: number;
	/** Every message this client sent, parsed when it was JSON. */
	received: unknown[];
	authed: boolean;
	/** Keys "server type" of the pairs this client enabled. */
	enabled: Set<string>;
};

type Client = Connection & {ws: WebSocket; lastSentAt: number};

export type LineSpec = {
	server: string;
	type: string;
	text: string;
	httpStatus?: number;
	/** ms since the epoch; default now. */
	time?: number;
	/** Also send `unix_time`. */
	unixTime?: boolean;
};

function key(server: string, type: string): string {
	return `${server} ${type}`;
}

export class LogstreamTestServer {
	/** Every client message of every connection, in arrival order. */
	readonly connections: Connection[] = [];
	readonly site: string;
	readonly environment: string;
	readonly front: string;
	private readonly options: LogstreamServerOptions;
	private readonly secret: string;
	private readonly backends = new Map<string, string[]>();
	private readonly wss = new WebSocketServer({noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024});
	private readonly clients = new Set<Client>();
	private readonly sockets = new Set<Socket>();
	private readonly usedParams = new Set<string>();
	/** hmac -> the salt it was signed with; only params this server handed out can pass. */
	private readonly salts = new Map<string, number>();
	private nextSalt = 0;
	private http: Server | undefined;
	private keepalive: NodeJS.Timeout | undefined;
	private nextId = 1;
	private portNumber = 0;

	private constructor(options: LogstreamServerOptions) {
		this.options = options;
		this.site = options.site ?? 'devcloud:mysite';
		this.environment = options.environment ?? 'prod';
		this.front = options.front ?? 'logstream-api-61';
		this.secret = options.secret ?? 'logmon-test-secret';
		for (const b of options.backends ?? defaultBackends) {
			this.backends.set(b.name, [...b.types]);
		}
	}

	static async start(options: LogstreamServerOptions = {}): Promise<LogstreamTestServer> {
		const server = new LogstreamTestServer(options);
		await server.listen(options.port ?? 0);
		if (options.keepaliveMs) {
			const every = options.keepaliveMs;
			server.keepalive = setInterval(() => {
				const now = Date.now();
				for (const c of server.clients) {
					if (c.authed && now - c.lastSentAt >= every) {
						server.sendTo(c, {cmd: 'success', server: server.front, msg: {cmd: 'keepalive'}});
					}
				}
			}, Math.max(10, Math.floor(every / 2)));
			server.keepalive.unref();
		}

		return server;
	}

	get port(): number {
		return this.portNumber;
	}

	get url(): string {
		return `${this.options.tls ? 'wss' : 'ws'}://${this.options.host ?? '127.0.0.1'}:${this.portNumber}${this.options.path ?? '/ah_websocket/logstream/v1'}`;
	}

	/** Clients that have authenticated and are still connected. */
	get liveClients(): Connection[] {
		return [...this.clients].filter(c => c.authed);
	}

	/** Fresh, valid params, as the Cloud API's logstream endpoint hands them out. */
	params(now = Date.now()): StreamParams {
		const t = Math.floor(now / 1000);
		// Distinct per call even within one second, so single-use checks can tell them apart.
		const salt = this.nextSalt++;
		const hmac = this.sign(t, salt);
		this.salts.set(hmac, salt);
		return {t, hmac, environment: this.environment, site: this.site};
	}

	/** The stream-environment fields for a config file's "auth". */
	auth(): {site: string; env: string; t: number; d: string} {
		const p = this.params();
		return {site: p.site, env: p.environment, t: p.t, d: p.hmac};
	}

	private sign(t: number, salt: number): string {
		return createHmac('sha256', this.secret).update(`${t}:${salt}:${this.site}:${this.environment}`).digest('hex');
	}

	/** A backend server joins mid-stream: every authenticated client hears about it. */
	addServer(name: string, types: string[]): void {
		this.backends.set(name, [...types]);
		for (const c of this.clients) {
			if (c.authed) {
				this.announce(c, name);
			}
		}
	}

	/** Send one line to every client that enabled its pair. Returns how many got it. */
	line(spec: LineSpec): number {
		const frame = this.lineFrame(spec);
		let n = 0;
		for (const c of this.clients) {
			if (c.authed && c.enabled.has(key(spec.server, spec.type))) {
				this.sendText(c, frame);
				n++;
			}
		}

		return n;
	}

	lineFrame(spec: LineSpec): string {
		const time = spec.time ?? Date.now();
		return JSON.stringify({
			cmd: 'line',
			log_type: spec.type,
			server: spec.server,
			...(spec.httpStatus === undefined ? {} : {http_status: spec.httpStatus}),
			disp_time: dispTime(time),
			...(spec.unixTime ? {unix_time: Math.floor(time / 1000)} : {}),
			text: spec.text,
		});
	}

	/** Anything at all, to every authenticated client: for bad-input tests. */
	sendRaw(data: string | Buffer, options: {binary?: boolean} = {}): void {
		for (const c of this.clients) {
			if (c.authed && c.ws.readyState === WebSocket.OPEN) {
				c.ws.send(data, {binary: options.binary ?? false});
				c.lastSentAt = Date.now();
			}
		}
	}

	/**
	 * Send `count` lines to every authenticated client as fast as its socket takes them,
	 * spread over its enabled pairs; resolves once each client has read them all
	 * (its pong to a ping sent after the last line). Returns the time that took.
	 */
	async flood(count: number): Promise<{sent: number; ms: number}> {
		const targets = [...this.clients].filter(c => c.authed && c.enabled.size > 0);
		const started = performance.now();
		await Promise.all(targets.map(async c => this.floodOne(c, count)));
		return {sent: count * targets.length, ms: performance.now() - started};
	}

	private async floodOne(c: Client, count: number): Promise<void> {
		const pairs = [...c.enabled].map(k => k.split(' ') as [string, string]);
		const now = Date.now();
		const frames: string[] = [];
		for (let i = 0; i < 512; i++) {
			const [server, type] = pairs[i % pairs.length]!;
			frames.push(this.lineFrame({server, type, ...sampleLine(type, server, i, now), time: now}));
		}

		const {ws} = c;
		let i = 0;
		while (i < count && ws.readyState === WebSocket.OPEN) {
			const end = Math.min(count, i + 256);
			for (; i < end - 1; i++) {
				ws.send(frames[i % frames.length]!);
			}

			// Wait for the socket to take this batch before queueing more: bounded memory, real backpressure.
			await new Promise<void>(resolve => {
				ws.send(frames[i % frames.length]!, () => {
					resolve();
				});
			});
			i++;
		}

		c.lastSentAt = Date.now();
		if (ws.readyState !== WebSocket.OPEN) {
			return;
		}

		await new Promise<void>(resolve => {
			const done = (): void => {
				ws.off('pong', done);
				ws.off('close', done);
				resolve();
			};

			ws.on('pong', done);
			ws.on('close', done);
			ws.ping();
		});
	}

	/**
	 * Replay a loghub fixture at `rate` lines per second as lines of `type`, round-robin
	 * over the servers that have that type (or those named). Loops unless `loop` is false.
	 */
	feed(options: {file: string; type: string; rate: number; servers?: string[]; loop?: boolean}): {stop: () => void; done: Promise<number>} {
		const lines = readFileSync(options.file, 'utf8').split('\n').filter(l => l.length > 0);
		const servers = options.servers ?? [...this.backends].filter(([, types]) => types.includes(options.type)).map(([name]) => name);
		const tickMs = 50;
		let credit = 0;
		let i = 0;
		let finish!: (n: number) => void;
		const done = new Promise<number>(resolve => {
			finish = resolve;
		});
		const timer = setInterval(() => {
			credit += options.rate * tickMs / 1000;
			while (credit >= 1) {
				credit--;
				if (i >= lines.length && options.loop === false) {
					clearInterval(timer);
					finish(i);
					return;
				}

				const text = lines[i % lines.length]!;
				const server = servers[i % Math.max(1, servers.length)];
				i++;
				if (server) {
					this.line({server, type: options.type, text});
				}
			}
		}, tickMs);
		timer.unref();
		return {
			stop() {
				clearInterval(timer);
				finish(i);
			},
			done,
		};
	}

	/** Drop every client connection, keep listening. */
	dropClients(): void {
		for (const c of this.clients) {
			c.ws.terminate();
		}
	}

	/** Drop every client and stop listening (connections are refused); with `downMs`, come back after that long. */
	async kill(downMs?: number): Promise<void> {
		this.dropClients();
		await this.closeListener();
		if (downMs !== undefined) {
			await new Promise(resolve => setTimeout(resolve, downMs));
			await this.restart();
		}
	}

	/** Listen again on the same port. */
	async restart(): Promise<void> {
		if (!this.http) {
			await this.listen(this.portNumber);
		}
	}

	async stop(): Promise<void> {
		clearInterval(this.keepalive);
		this.dropClients();
		await this.closeListener();
		this.wss.close();
	}

	// --- plumbing ---------------------------------------------------------

	private async listen(port: number): Promise<void> {
		const refuse: RequestListener = (_req, res) => {
			res.writeHead(426, {'content-type': 'text/plain'}).end('logstream: WebSocket only\n');
		};
		const {tls} = this.options;
		const http = tls ? createTlsServer({key: tls.key, cert: tls.cert}, refuse) : createServer(refuse);
		http.on('connection', (socket: Socket) => {
			this.sockets.add(socket);
			socket.once('close', () => this.sockets.delete(socket));
		});
		http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
			this.wss.handleUpgrade(req, socket, head, ws => {
				this.accept(ws);
			});
		});
		await new Promise<void>((resolve, reject) => {
			http.once('error', reject);
			http.listen(port, this.options.host ?? '127.0.0.1', () => {
				http.off('error', reject);
				resolve();
			});
		});
		this.http = http;
		this.portNumber = (http.address() as AddressInfo).port;
	}

	private async closeListener(): Promise<void> {
		const http = this.http;
		this.http = undefined;
		if (!http) {
			return;
		}

		for (const s of this.sockets) {
			s.destroy();
		}

		await new Promise<void>(resolve => {
			http.close(() => {
				resolve();
			});
		});
	}

	private accept(ws: WebSocket): void {
		const c: Client = {id: this.nextId++, received: [], authed: false, enabled: new Set(), ws, lastSentAt: Date.now()};
		this.connections.push(c);
		this.clients.add(c);
		ws.on('message', (data: Buffer, isBinary: boolean) => {
			this.onMessage(c, data, isBinary);
		});
		ws.on('close', () => this.clients.delete(c));
		ws.on('error', () => undefined);
		if (this.options.greet ?? true) {
			this.sendTo(c, {cmd: 'connected', server: this.front});
		}
	}

	private sendTo(c: Client, msg: Json): void {
		this.sendText(c, JSON.stringify(msg));
	}

	private sendText(c: Client, text: string): void {
		if (c.ws.readyState === WebSocket.OPEN) {
			c.ws.send(text);
			c.lastSentAt = Date.now();
		}
	}

	private error(c: Client, server: string, code: number, description: string, during: unknown): void {
		// `during` is the triggering message as a JSON string.
		this.sendTo(c, {cmd: 'error', during: typeof during === 'string' ? during : JSON.stringify(during), description, code, server});
	}

	private announce(c: Client, name: string): void {
		this.sendTo(c, {cmd: 'connected', server: name});
		for (const type of this.backends.get(name) ?? []) {
			this.sendAvailable(c, name, type);
		}
	}

	private sendAvailable(c: Client, server: string, type: string): void {
		this.sendTo(c, {cmd: 'available', type, server, display_type: logTypeNames[type] ?? type});
	}

	private onMessage(c: Client, data: Buffer, isBinary: boolean): void {
		const text = data.toString('utf8');
		let msg: unknown;
		try {
			msg = isBinary ? undefined : JSON.parse(text);
		} catch {
			msg = undefined;
		}

		c.received.push(msg ?? text);
		if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
			this.error(c, this.front, 400, 'invalid message', text);
			return;
		}

		const m = msg as Json;
		const cmd = m['cmd'];
		if (cmd === undefined) {
			// The reference server's spelling.
			this.error(c, this.front, 400, 'message missing cmd paramter', m);
			return;
		}

		if (cmd === 'stream-environment') {
			this.authenticate(c, m);
			return;
		}

		if (!c.authed) {
			this.error(c, this.front, 400, 'not authenticated: send stream-environment first', m);
			return;
		}

		switch (cmd) {
			case 'enable':
			case 'disable': {
				this.toggle(c, m, cmd === 'enable');
				break;
			}

			case 'list-available': {
				for (const name of this.targets(c, m)) {
					for (const type of this.backends.get(name) ?? []) {
						this.sendAvailable(c, name, type);
					}
				}

				break;
			}

			case 'list-enabled': {
				for (const name of this.targets(c, m)) {
					const on = (this.backends.get(name) ?? []).filter(type => c.enabled.has(key(name, type)));
					this.sendTo(c, {server: name, cmd: 'enabled', enabled: on});
				}

				break;
			}

			default: {
				this.error(c, this.front, 400, `unknown command ${String(cmd)}`, m);
			}
		}
	}

	/** The servers a list-* request names: one, or all when absent. */
	private targets(c: Client, m: Json): string[] {
		const server = m['server'];
		if (server === undefined) {
			return [...this.backends.keys()];
		}

		if (typeof server !== 'string' || !this.backends.has(server)) {
			this.error(c, this.front, 400, `unknown server ${String(server)}`, m);
			return [];
		}

		return [server];
	}

	private authenticate(c: Client, m: Json): void {
		if (c.authed) {
			this.error(c, this.front, 400, 'already streaming an environment', m);
			return;
		}

		const {site, env, t, d} = m;
		const tNum = typeof t === 'number' ? t : (typeof t === 'string' && /^\d+$/.test(t) ? Number(t) : Number.NaN);
		const salt = typeof d === 'string' ? this.salts.get(d) : undefined;
		const expected = salt === undefined || !Number.isFinite(tNum) ? undefined : this.sign(tNum, salt);
		const maxAge = this.options.maxAgeS ?? 3600;
		let problem: string | undefined;
		if (site !== this.site || env !== this.environment) {
			problem = `unknown site or environment ${String(site)}/${String(env)}`;
		} else if (typeof d !== 'string' || expected === undefined || d.length !== expected.length
			|| !timingSafeEqual(Buffer.from(d), Buffer.from(expected))) {
			problem = this.options.echoAuth ? `invalid authentication token ${String(d)}` : 'invalid authentication token';
		} else if (Math.abs(Date.now() / 1000 - tNum) > maxAge) {
			problem = 'authentication token expired';
		} else if (this.options.singleUse && this.usedParams.has(d)) {
			problem = 'authentication token already used';
		}

		if (problem) {
			this.error(c, this.front, 401, problem, m);
			return;
		}

		this.usedParams.add(d as string);
		c.authed = true;
		for (const name of this.backends.keys()) {
			this.announce(c, name);
		}
	}

	private toggle(c: Client, m: Json, on: boolean): void {
		const {type, server} = m;
		if (typeof type !== 'string' || typeof server !== 'string') {
			this.error(c, this.front, 400, 'enable and disable need "type" and "server"', m);
			return;
		}

		const types = this.backends.get(server);
		if (!types) {
			this.error(c, this.front, 400, `unknown server ${server}`, m);
			return;
		}

		if (!types.includes(type)) {
			this.error(c, server, 400, `log type ${type} is not available on ${server}`, m);
			return;
		}

		if (on) {
			c.enabled.add(key(server, type));
		} else {
			c.enabled.delete(key(server, type));
		}

		this.sendTo(c, {cmd: 'success', server, msg: m});
	}
}
