import {type ChildProcess} from 'node:child_process';
import http from 'node:http';
import {freePort, start, waitFor, type SpawnOptions} from './logmon.js';

// A logmon with its HTTP server, started as the built binary, and plain node:http requests to it.

export type Served = {
	child: ChildProcess;
	port: number;
	base: string;
	/** Everything the process wrote on stderr so far. */
	stderr(): string;
	stdout(): string;
};

/** Start `logmon serve --stdin --http 127.0.0.1:PORT …` (or `args` as given, with PORT filled in) and wait until it serves. */
export async function serve(args: string[] = [], options: SpawnOptions & {command?: string[]; host?: string} = {}): Promise<Served> {
	const port = await freePort();
	const host = options.host ?? '127.0.0.1';
	const listen = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
	const command = options.command ?? ['serve', '--stdin'];
	const child = start([...command, '--http', listen, ...args], options);
	let err = '';
	let out = '';
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		err += d;
	});
	child.stdout!.setEncoding('utf8').on('data', (d: string) => {
		out += d;
	});
	await waitFor(child.stderr!, /serving http:\/\//);
	return {child, port, base: `http://127.0.0.1:${port}`, stderr: () => err, stdout: () => out};
}

export type Answer = {status: number; headers: http.IncomingHttpHeaders; text: string; json: any};

export type RequestOptions = {method?: string; headers?: Record<string, string>; body?: string | Buffer};

/** One request; the whole answer. */
export async function request(url: string, options: RequestOptions = {}): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const req = http.request(url, {method: options.method ?? 'GET', headers: options.headers, agent: false}, res => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (d: string) => {
				text += d;
			});
			res.on('end', () => {
				let json: unknown;
				try {
					json = text ? JSON.parse(text) : undefined;
				} catch {
					json = undefined;
				}

				resolve({status: res.statusCode ?? 0, headers: res.headers, text, json});
			});
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end(options.body);
	});
}

/** Stop it with SIGTERM; resolves with the exit code. */
export async function stop(served: Served, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
	const {child} = served;
	if (child.exitCode !== null) {
		return child.exitCode;
	}

	const closed = new Promise<number | null>(resolve => child.once('close', code => resolve(code)));
	child.kill(signal);
	return closed;
}

/** Poll an async check until it gives something truthy; no fixed sleeps. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await check();
		if (v) {
			return v;
		}

		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

export type SseMessage = {event: string; id: string | undefined; data: string};

export type SseStream = {
	status: number;
	headers: http.IncomingHttpHeaders;
	messages: SseMessage[];
	/** Resolves when the server ends the stream (or the socket goes). */
	ended: Promise<void>;
	/** Stop reading (the socket's buffers fill up and the server sees backpressure). */
	pause(): void;
	resume(): void;
	close(): void;
	/** Resolves when at least `n` messages passed `test`. */
	waitFor(test: (m: SseMessage) => boolean, n?: number, timeoutMs?: number): Promise<SseMessage[]>;
};

/** An SSE client over plain node:http, parsing frames as they come. */
export async function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
	return new Promise((resolve, reject) => {
		const req = http.get(url, {headers: {Accept: 'text/event-stream', ...headers}, agent: false}, res => {
			const messages: SseMessage[] = [];
			const waiters = new Set<() => void>();
			let buffer = '';
			res.setEncoding('utf8');
			res.on('data', (d: string) => {
				buffer += d;
				let cut: number;
				while ((cut = buffer.indexOf('\n\n')) >= 0) {
					const frame = buffer.slice(0, cut);
					buffer = buffer.slice(cut + 2);
					let event = 'message';
					let id: string | undefined;
					const data: string[] = [];
					let any = false;
					for (const line of frame.split('\n')) {
						if (line.startsWith(':')) {
							continue;
						}

						const colon = line.indexOf(':');
						const field = colon < 0 ? line : line.slice(0, colon);
						const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
						if (field === 'event') {
							event = value;
						} else if (field === 'id') {
							id = value;
						} else if (field === 'data') {
							data.push(value);
							any = true;
						}
					}

					if (any) {
						messages.push({event, id, data: data.join('\n')});
					}
				}

				for (const w of waiters) {
					w();
				}
			});
			const ended = new Promise<void>(done => {
				res.once('close', done);
				res.once('error', () => done());
			});
			resolve({
				status: res.statusCode ?? 0,
				headers: res.headers,
				messages,
				ended,
				pause() {
					res.pause();
				},
				resume() {
					res.resume();
				},
				close() {
					req.destroy();
				},
				async waitFor(test, n = 1, timeoutMs = 20_000) {
					return new Promise<SseMessage[]>((done, fail) => {
						const check = (): void => {
							const hits = messages.filter(m => test(m));
							if (hits.length >= n) {
								clearTimeout(timer);
								waiters.delete(check);
								done(hits);
							}
						};

						const timer = setTimeout(() => {
							waiters.delete(check);
							fail(new Error(`timed out waiting for ${n} stream messages; have ${messages.filter(m => test(m)).length} of ${messages.length}`));
						}, timeoutMs);
						waiters.add(check);
						check();
					});
				},
			});
		});
		req.on('error', reject);
	});
}

/** A JSON log line logmon's stdin source reads (service, host, level and message as fields). */
export function jsonLine(fields: {level?: string; service?: string; host?: string; type?: string; message: string; [key: string]: unknown}): string {
	return `${JSON.stringify({level: 'info', service: 'web', host: 'h1', ...fields})}\n`;
}
