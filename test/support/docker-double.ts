import {mkdtempSync, rmSync} from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';

// A Docker Engine test double on a unix socket, for what Debian's engine (20.10, API 1.41) cannot
// show: a newer API version with its content types (application/vnd.docker.multiplexed-stream,
// …raw-stream), chunks cut anywhere (inside frame headers and UTF-8 characters), lines that share
// a timestamp, frames of an unknown stream, and the engine's JSON errors. It answers as the real
// engine does, checked against one: unversioned and /vX.Y paths, frames of [stream, 0, 0, 0,
// size], 16 KiB partial messages carrying the line's timestamp, TTY streams with CR LF, an
// inclusive `since` in Unix seconds, `tail`, `follow` held open until the container stops,
// /events as NDJSON, and {"message"} errors.

/** One log message: a whole line, or a partial one (the first 16 KiB pieces of a long line). */
export type Line = {stream: 1 | 2; bytes: Buffer; stamp: string; partial?: boolean};

export type DoubleContainer = {
	id: string;
	name: string;
	image: string;
	labels: Record<string, string>;
	env: string[];
	tty: boolean;
	running: boolean;
	exitCode: number;
	/** When it last exited, as the engine says it. */
	finishedAt?: string;
	lines: Line[];
	/** Answer the logs request with this error instead. */
	logsError?: {status: number; message: string};
	/** Answer this many of the next inspect requests with a 500. */
	inspectErrors?: number;
	/** Sent instead of its inspect answer (an engine, or whatever answers on its socket, that sends the wrong shape). */
	inspectAnswer?: unknown;
};

/** How a stream's bytes are cut into writes: whole, or pieces of these sizes in turn. */
export type Cutting = 'whole' | number[];

const partialBytes = 16 * 1024;
let nextId = 1;

/** RFC 3339 with nanoseconds, as the engine writes it. */
export function stampOf(ms: number, nanos = 0): string {
	return `${new Date(ms).toISOString().slice(0, 19)}.${String(((ms % 1000) * 1_000_000) + nanos).padStart(9, '0')}Z`;
}

/** "1767323045.123456789" to a comparable RFC 3339 text. */
function sinceToStamp(since: string): string {
	const [seconds, fraction = ''] = since.split('.');
	return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction.padEnd(9, '0')}Z`;
}

type Follower = {container: DoubleContainer; response: http.ServerResponse; tty: boolean; queue: Buffer[]; writing: boolean};

export class DockerDouble {
	readonly dir = mkdtempSync(path.join(tmpdir(), 'logmon-docker-double-'));
	readonly socket = path.join(this.dir, 'docker.sock');
	readonly containers = new Map<string, DoubleContainer>();
	/** Every request path, as received. */
	readonly requests: string[] = [];
	apiVersion = '1.47';
	/** Say what the stream is (API 1.42 and later); the 20.10 engine sends no Content-Type. */
	contentTypes = true;
	cutting: Cutting = 'whole';
	/** Answer /info with this error while set. */
	infoError: {status: number; message: string} | undefined;
	/** Sent as the body of /containers/json instead of the list, while set. */
	listAnswer: string | undefined;
	/** Open logs streams that follow their container. */
	private readonly followers = new Set<Follower>();
	private readonly events = new Set<http.ServerResponse>();
	private readonly sockets = new Set<net.Socket>();
	private server: http.Server | undefined;

	get host(): string {
		return `unix://${this.socket}`;
	}

	async start(): Promise<this> {
		const server = http.createServer((req, res) => {
			this.answer(req, res);
		});
		server.on('connection', socket => {
			this.sockets.add(socket);
			socket.once('close', () => this.sockets.delete(socket));
		});
		await new Promise<void>(resolve => server.listen(this.socket, resolve));
		this.server = server;
		return this;
	}

	/** The daemon goes away: every connection cut mid-stream, the socket closed. */
	async stop(): Promise<void> {
		const server = this.server;
		this.server = undefined;
		for (const s of this.sockets) {
			s.destroy();
		}

		this.followers.clear();
		this.events.clear();
		if (server) {
			await new Promise(resolve => server.close(resolve));
		}

		rmSync(this.socket, {force: true});
	}

	async destroy(): Promise<void> {
		await this.stop();
		rmSync(this.dir, {recursive: true, force: true});
	}

	/** A running container; it starts (with a start event) at once. */
	add(name: string, options: Partial<Pick<DoubleContainer, 'tty' | 'labels' | 'env' | 'image'>> = {}): DoubleContainer {
		const id = (nextId++).toString(16).padStart(64, 'c');
		const c: DoubleContainer = {id, name, image: options.image ?? 'app:1.0', labels: options.labels ?? {}, env: options.env ?? [], tty: options.tty ?? false, running: true, exitCode: 0, lines: []};
		this.containers.set(id, c);
		this.event(c, 'start');
		return c;
	}

	/** The container prints lines; followers get them at once. A line over 16 KiB becomes partial messages, as Docker cuts it. */
	print(c: DoubleContainer, stream: 1 | 2, texts: string[], stamp = (): string => stampOf(Date.now())): void {
		const added: Line[] = [];
		for (const text of texts) {
			const s = stamp();
			const bytes = Buffer.from(text);
			let at = 0;
			for (; bytes.length - at > partialBytes; at += partialBytes) {
				added.push({stream, stamp: s, bytes: bytes.subarray(at, at + partialBytes), partial: true});
			}

			added.push({stream, stamp: s, bytes: bytes.subarray(at)});
		}

		c.lines.push(...added);
		for (const f of this.followers) {
			if (f.container === c) {
				this.send(f, added);
			}
		}
	}

	/** Lines the container printed that its followed streams have not been sent yet (the engine's copier behind). */
	printUnsent(c: DoubleContainer, stream: 1 | 2, texts: string[]): void {
		c.lines.push(...texts.map(text => ({stream, stamp: stampOf(Date.now()), bytes: Buffer.from(text)})));
	}

	/** The container stops: its followed streams end, and a die event goes out. */
	exit(c: DoubleContainer, code = 0): void {
		c.running = false;
		c.exitCode = code;
		c.finishedAt = new Date().toISOString();
		for (const f of [...this.followers]) {
			if (f.container === c) {
				this.followers.delete(f);
				this.whenWritten(f, () => f.response.end());
			}
		}

		this.event(c, 'die', {exitCode: String(code)});
	}

	/** Raw bytes on every logs stream of this container (a frame of a stream that does not exist, say). */
	raw(c: DoubleContainer, bytes: Buffer): void {
		for (const f of this.followers) {
			if (f.container === c) {
				this.enqueue(f, bytes);
			}
		}
	}

	/** A line on /events as it is, for bad input. */
	/** Cut every /events stream, as an engine that drops its clients does (the engine stays up). */
	cutEvents(): void {
		for (const res of this.events) {
			res.destroy();
		}
	}

	rawEvent(text: string): void {
		for (const res of this.events) {
			res.write(text);
		}
	}

	private event(c: DoubleContainer, action: string, extra: Record<string, string> = {}): void {
		const nanos = BigInt(Date.now()) * 1_000_000n;
		const line = `{"status":"${action}","id":"${c.id}","from":"${c.image}","Type":"container","Action":"${action}","Actor":{"ID":"${c.id}","Attributes":${JSON.stringify({...c.labels, image: c.image, name: c.name, ...extra})}},"scope":"local","time":${nanos / 1_000_000_000n},"timeNano":${nanos}}\n`;
		for (const res of this.events) {
			res.write(line);
		}
	}

	private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
		const url = new URL(req.url ?? '/', 'http://docker');
		this.requests.push(`${url.pathname}${url.search}`);
		const route = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, '');
		const json = (status: number, body: unknown): void => {
			res.writeHead(status, {'Content-Type': 'application/json', 'Api-Version': this.apiVersion, Server: 'Docker/27.3.1 (linux)'});
			res.end(`${JSON.stringify(body)}\n`);
		};

		const error = (status: number, message: string): void => {
			json(status, {message});
		};

		if (route === '/_ping') {
			res.writeHead(200, {'Content-Type': 'text/plain', 'Api-Version': this.apiVersion});
			res.end('OK');
			return;
		}

		if (route === '/version') {
			json(200, {Version: '27.3.1', ApiVersion: this.apiVersion, MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64'});
			return;
		}

		if (route === '/info') {
			if (this.infoError) {
				error(this.infoError.status, this.infoError.message);
			} else {
				json(200, {Name: 'double-host', ServerVersion: '27.3.1', Containers: this.containers.size});
			}

			return;
		}

		if (route === '/containers/json' && this.listAnswer !== undefined) {
			res.writeHead(200, {'Content-Type': 'application/json', 'Api-Version': this.apiVersion});
			res.end(this.listAnswer);
			return;
		}

		if (route === '/containers/json') {
			const all = url.searchParams.get('all') === '1' || url.searchParams.get('all') === 'true';
			json(200, [...this.containers.values()].filter(c => all || c.running).map(c => ({Id: c.id, Names: [`/${c.name}`], Image: c.image, Labels: c.labels, State: c.running ? 'running' : 'exited'})));
			return;
		}

		if (route === '/events') {
			res.writeHead(200, {'Content-Type': 'application/json', 'Api-Version': this.apiVersion});
			res.flushHeaders();
			this.events.add(res);
			res.once('close', () => this.events.delete(res));
			return;
		}

		const m = /^\/containers\/([^/]+)\/(json|logs)$/.exec(route);
		const c = m ? this.find(decodeURIComponent(m[1]!)) : undefined;
		if (!m) {
			error(404, 'page not found');
			return;
		}

		if (!c) {
			error(404, `No such container: ${decodeURIComponent(m[1]!)}`);
			return;
		}

		if (m[2] === 'json' && (c.inspectErrors ?? 0) > 0) {
			c.inspectErrors!--;
			error(500, 'the engine could not look');
			return;
		}

		if (m[2] === 'json' && c.inspectAnswer !== undefined) {
			json(200, c.inspectAnswer);
			return;
		}

		if (m[2] === 'json') {
			json(200, {
				Id: c.id,
				Name: `/${c.name}`,
				Image: `sha256:${'0'.repeat(64)}`,
				Config: {Tty: c.tty, Env: c.env, Labels: c.labels, Image: c.image},
				State: {Status: c.running ? 'running' : 'exited', Running: c.running, ExitCode: c.exitCode, FinishedAt: c.finishedAt ?? '0001-01-01T00:00:00Z'},
			});
			return;
		}

		if (c.logsError) {
			error(c.logsError.status, c.logsError.message);
			return;
		}

		this.logs(c, url.searchParams, res);
	}

	private find(idOrName: string): DoubleContainer | undefined {
		return [...this.containers.values()].find(c => c.id === idOrName || c.id.startsWith(idOrName) || c.name === idOrName);
	}

	private logs(c: DoubleContainer, q: URLSearchParams, res: http.ServerResponse): void {
		const headers: Record<string, string> = {'Api-Version': this.apiVersion};
		if (this.contentTypes) {
			headers['Content-Type'] = c.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
		}

		res.writeHead(200, headers);
		res.flushHeaders();
		const since = q.get('since');
		const from = since && since !== '0' ? sinceToStamp(since) : '';
		let lines = c.lines.filter(l => l.stamp >= from);
		const tail = q.get('tail');
		if (tail !== null && tail !== 'all') {
			// The last N whole lines: a line's partial messages stay with it.
			let keep = Number(tail);
			let at = lines.length;
			while (keep > 0 && at > 0) {
				at--;
				while (at > 0 && lines[at - 1]!.partial) {
					at--;
				}

				keep--;
			}

			lines = lines.slice(at);
		}

		const f: Follower = {container: c, response: res, tty: c.tty, queue: [], writing: false};
		this.send(f, lines, q.get('timestamps') === '1' || q.get('timestamps') === 'true');
		if (q.get('follow') === '1' && c.running) {
			this.followers.add(f);
			res.once('close', () => this.followers.delete(f));
		} else {
			this.whenWritten(f, () => res.end());
		}
	}

	private send(f: Follower, lines: Line[], timestamps = true): void {
		const parts: Buffer[] = [];
		for (const l of lines) {
			const eol = l.partial ? '' : (f.tty ? '\r\n' : '\n');
			const payload = Buffer.concat([Buffer.from(timestamps ? `${l.stamp} ` : ''), l.bytes, Buffer.from(eol)]);
			if (f.tty) {
				parts.push(payload);
				continue;
			}

			const header = Buffer.alloc(8);
			header[0] = l.stream;
			header.writeUInt32BE(payload.length, 4);
			parts.push(header, payload);
		}

		if (parts.length > 0) {
			this.enqueue(f, Buffer.concat(parts));
		}
	}

	/** Writes are cut as `cutting` says, each on its own turn of the event loop, so they reach the reader apart. */
	private enqueue(f: Follower, bytes: Buffer): void {
		if (this.cutting === 'whole') {
			f.queue.push(bytes);
		} else {
			let i = 0;
			for (let at = 0; at < bytes.length; i++) {
				const n = this.cutting[i % this.cutting.length]!;
				f.queue.push(bytes.subarray(at, at + n));
				at += n;
			}
		}

		this.pump(f);
	}

	private pump(f: Follower): void {
		if (f.writing) {
			return;
		}

		const next = f.queue.shift();
		if (!next) {
			return;
		}

		f.writing = true;
		f.response.write(next, () => {
			setImmediate(() => {
				f.writing = false;
				this.pump(f);
			});
		});
	}

	private whenWritten(f: Follower, then: () => void): void {
		const check = (): void => {
			if (f.queue.length === 0 && !f.writing) {
				then();
			} else {
				setTimeout(check, 5);
			}
		};

		check();
	}
}
