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
