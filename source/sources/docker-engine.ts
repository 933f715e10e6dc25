import http from 'node:http';
import {sanitize} from '../core/sanitize.js';
import {maxErrorBody, readErrorBody} from './error-body.js';

// The Docker Engine API over its unix socket (or plain TCP): plain node:http, no client
// library. Paths are unversioned: the engine answers them in its own API version, and the
// few fields read here are the same in every version since 1.24.

export type EngineAddress = {socketPath: string; label: string} | {host: string; port: number; label: string};

/** `unix:///path`, `/path` or `tcp://host:port`; throws with what was expected. */
export function engineAddress(url: string): EngineAddress {
	const unix = /^(?:unix:\/\/)?(\/.*)$/.exec(url);
	if (unix) {
		return {socketPath: unix[1]!, label: `unix://${unix[1]!}`};
	}

	const tcp = /^(?:tcp|http):\/\/([^/\s:]+):(\d{1,5})\/?$/.exec(url);
	if (tcp && Number(tcp[2]) <= 65_535) {
		return {host: tcp[1]!, port: Number(tcp[2]), label: `tcp://${tcp[1]!}:${tcp[2]!}`};
	}

	throw new Error(`expected unix:///var/run/docker.sock, a socket path, or tcp://host:port, got ${JSON.stringify(url)}`);
}

/** A refused request: the engine's status and its `message`. */
export class EngineError extends Error {
	constructor(readonly status: number, message: string) {
		super(message);
	}
}

/** Longest JSON answer read (a container list of a busy host fits easily). */
const maxJson = 32 * 1024 * 1024;
/** A JSON request that takes longer than this has failed, ms. */
const jsonTimeoutMs = 15_000;

/** The reason a connection to the engine failed, for health. */
export function connectionReason(error: unknown, address: EngineAddress): string {
	const code = (error as NodeJS.ErrnoException).code;
	if (code === 'ENOENT') {
		return `no Docker socket at ${address.label}: is dockerd running? (set DOCKER_HOST or --docker)`;
	}

	if (code === 'ECONNREFUSED') {
		return `connection refused at ${address.label}`;
	}

	if (code === 'EACCES') {
		return `permission denied on ${address.label} (join the docker group, or run as root)`;
	}

	// A socket's own words ("aborted", "socket hang up", ETIMEDOUT) say what, not where.
	const message = error instanceof Error ? error.message : String(error);
	return typeof code === 'string' && !message.includes(address.label) ? `${address.label}: ${message}` : message;
}

export class Engine {
	constructor(readonly address: EngineAddress, private readonly debug: (text: string) => void) {}

	private options(path: string): http.RequestOptions {
		const where = 'socketPath' in this.address ? {socketPath: this.address.socketPath} : {host: this.address.host, port: this.address.port};
		return {...where, path, method: 'GET', agent: false, headers: {Host: 'docker', 'User-Agent': 'logmon', Accept: 'application/json'}};
	}

	/** GET a JSON answer; rejects with an EngineError on a refusal, or the socket's error. */
	async json<T>(path: string): Promise<T> {
		this.debug(`GET ${path}`);
		return new Promise((resolve, reject) => {
			const request = http.request(this.options(path), response => {
				const parts: Buffer[] = [];
				let size = 0;
				response.on('data', (d: Buffer) => {
					size += d.length;
					if (size > maxJson) {
						request.destroy(new Error(`the answer to ${path} is larger than ${maxJson} bytes`));
						return;
					}

					parts.push(d);
				});
				response.on('end', () => {
					const text = Buffer.concat(parts).toString('utf8');
					const status = response.statusCode ?? 0;
					if (status !== 200) {
						reject(new EngineError(status, `GET ${path}: HTTP ${status}: ${errorMessage(text)}`));
						return;
					}

					try {
						resolve(JSON.parse(text) as T);
					} catch {
						reject(new Error(`GET ${path}: the engine's answer is not JSON`));
					}
				});
				response.on('error', reject);
			});
			request.setTimeout(jsonTimeoutMs, () => {
				request.destroy(new Error(`GET ${path}: no answer within ${jsonTimeoutMs / 1000} s`));
			});
			request.on('error', reject);
			request.end();
		});
	}

	/**
	 * A long GET (logs, events): `onResponse` gets the 200 answer, `onFailure` a refusal or a
	 * socket error. No timeout: a quiet container sends nothing for hours.
	 */
	stream(path: string, onResponse: (response: http.IncomingMessage) => void, onFailure: (error: Error) => void): http.ClientRequest {
		this.debug(`GET ${path}`);
		const request = http.request(this.options(path), response => {
			const status = response.statusCode ?? 0;
			this.debug(`HTTP ${status} ${response.headers['content-type'] ?? ''} for ${path}`);
			if (status === 200) {
				onResponse(response);
				return;
			}

			readErrorBody(response, body => {
				onFailure(new EngineError(status, `GET ${path}: HTTP ${status}: ${errorMessage(body)}`));
			}, onFailure);
		});
		request.on('socket', socket => {
			socket.setKeepAlive(true, 30_000);
		});
		request.on('error', onFailure);
		request.end();
		return request;
	}
}

/** The engine's `{"message": …}`, or the body as text, made safe to show. */
function errorMessage(body: string): string {
	let text = body.slice(0, maxErrorBody);
	try {
		const parsed = JSON.parse(text) as {message?: unknown};
		if (typeof parsed.message === 'string') {
			text = parsed.message;
		}
	} catch {
		// Not JSON: the text itself.
	}

	return sanitize(text.trim().replaceAll('\n', ' ')) || '(no message)';
}
