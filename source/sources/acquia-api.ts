import {readFile, stat} from 'node:fs/promises';
import {type AcquiaConfig, type LogstreamAuth, defaultApiUrl, defaultTokenUrl} from '../config/logstream.js';
import {expandHome} from '../config/locate.js';
import {type Secrets} from '../core/secrets.js';
import {describeNetworkError, oneLine} from './net-error.js';

// The Cloud API v2 sign-in for logstream (protocols.md §1.1):
// credentials file -> OAuth client-credentials token -> environment id by name
// -> GET /environments/{id}/logstream -> the stream-environment message.

export class CloudApiError extends Error {
	/** Fatal errors (bad credentials, unknown application or environment) are not retried. */
	constructor(message: string, readonly fatal: boolean) {
		super(message);
		this.name = 'CloudApiError';
	}
}

export type Credentials = {
	apiKey: string;
	apiSecret: string;
	/** The file is readable by group or others. */
	exposed: boolean;
};

export async function readCredentials(file: string): Promise<Credentials> {
	const full = expandHome(file);
	const invalid = (why: string): CloudApiError => new CloudApiError(`${full} is missing or invalid (${why}). Please configure your Cloud API v2 credentials`, true);
	let text: string;
	let mode: number;
	try {
		mode = (await stat(full)).mode;
		text = await readFile(full, 'utf8');
	} catch (error) {
		throw invalid((error as NodeJS.ErrnoException).code ?? 'unreadable');
	}

	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		throw invalid('not JSON');
	}

	const {api_key: apiKey, api_secret: apiSecret} = (json ?? {}) as {api_key?: unknown; api_secret?: unknown};
	if (typeof apiKey !== 'string' || typeof apiSecret !== 'string' || !apiKey || !apiSecret) {
		throw invalid('needs "api_key" and "api_secret"');
	}

	return {apiKey, apiSecret, exposed: (mode & 0o044) !== 0};
}

export type StreamParams = {url: string; auth: LogstreamAuth};

/** `--debug` lines; the texts are already redacted. */
export type Trace = (line: string) => void;

type Reply = {status: number; text: string; json: unknown};

const requestTimeoutMs = 15_000;

/** Statuses worth retrying; anything else from the API is a configuration problem. */
function transient(status: number): boolean {
	return status >= 500 || status === 429 || status === 408;
}

/** "invalid_client: The client credentials are invalid", from the usual error bodies. */
function summary(reply: Reply): string {
	const j = reply.json as Record<string, unknown> | undefined;
	if (j && typeof j === 'object') {
		const parts = [j['error'], j['error_description'] ?? j['message']].filter((v): v is string => typeof v === 'string' && v.length > 0);
		if (parts.length > 0) {
			return oneLine(parts.join(': '));
		}
	}

	return oneLine(reply.text) || '(empty body)';
}

export class CloudApi {
	private environmentId: string | undefined;
	/** Secrets seen so far, scrubbed from every trace line. */
	private readonly secrets = new Set<string>();

	/** `known` hears every secret too, so that no message logmon shows can repeat one. */
	constructor(private readonly config: AcquiaConfig, private readonly trace?: Trace, private readonly known?: Secrets) {}

	private remember(secret: string): void {
		this.secrets.add(secret);
		this.known?.add(secret);
	}

	get tokenUrl(): string {
		return this.config.tokenUrl ?? defaultTokenUrl;
	}

	get apiUrl(): string {
		return (this.config.apiUrl ?? defaultApiUrl).replace(/\/+$/, '');
	}

	/** Fresh stream URL and auth message. Throws CloudApiError. */
	async streamParams(credentials: Credentials): Promise<StreamParams> {
		this.remember(credentials.apiSecret);
		const token = await this.token(credentials);
		this.environmentId ??= await this.findEnvironment(token);
		const reply = await this.get(`${this.apiUrl}/environments/${encodeURIComponent(this.environmentId)}/logstream`, token, 'logstream');
		const logstream = (reply.json as {logstream?: unknown} | undefined)?.logstream as {url?: unknown; params?: Record<string, unknown>} | undefined;
		const p = logstream?.params;
		const url = this.config.streamUrl ?? logstream?.url;
		if (typeof url !== 'string' || !p || typeof p['site'] !== 'string' || typeof p['environment'] !== 'string' || typeof p['hmac'] !== 'string'
			|| (typeof p['t'] !== 'number' && typeof p['t'] !== 'string')) {
			throw new CloudApiError(`Cloud API logstream: unexpected reply: ${oneLine(reply.text, 120)}`, true);
		}

		this.remember(p['hmac']);
		// The renames matter: env <- environment, d <- hmac; t stays a number.
		return {url, auth: {site: p['site'], env: p['environment'], t: p['t'], d: p['hmac']}};
	}

	private async token(credentials: Credentials): Promise<string> {
		const body = new URLSearchParams({client_id: credentials.apiKey, client_secret: credentials.apiSecret, grant_type: 'client_credentials'});
		const reply = await this.send('token', this.tokenUrl, {
			method: 'POST',
			headers: {'content-type': 'application/x-www-form-urlencoded', accept: 'application/json'},
			body: body.toString(),
		});
		if (reply.status !== 200) {
			throw new CloudApiError(`Cloud API token: HTTP ${reply.status}: ${summary(reply)}`, !transient(reply.status));
		}

		const token = (reply.json as {access_token?: unknown} | undefined)?.access_token;
		if (typeof token !== 'string' || token.length === 0) {
			throw new CloudApiError('Cloud API token: the reply has no access_token', true);
		}

		this.remember(token);
		return token;
	}

	private async findEnvironment(token: string): Promise<string> {
		const {application, environment} = this.config;
		const reply = await this.get(`${this.apiUrl}/applications/${encodeURIComponent(application)}/environments`, token, 'environments');
		const items = (reply.json as {_embedded?: {items?: unknown}} | undefined)?._embedded?.items;
		if (!Array.isArray(items)) {
			throw new CloudApiError(`Cloud API environments: unexpected reply: ${oneLine(reply.text, 120)}`, true);
		}

		// Exact name match; the last one wins, as in the original client.
		let id: string | undefined;
		const names: string[] = [];
		for (const item of items as Array<{id?: unknown; name?: unknown}>) {
			if (typeof item?.name === 'string') {
				names.push(item.name);
				if (item.name === environment && typeof item.id === 'string') {
					id = item.id;
				}
			}
		}

		if (id === undefined) {
			const found = names.length > 0 ? ` (it has: ${names.join(', ')})` : ' (it has none)';
			throw new CloudApiError(`Cloud API: application ${application} has no environment named "${environment}"${found}`, true);
		}

		return id;
	}

	private async get(url: string, token: string, what: string): Promise<Reply> {
		const reply = await this.send(what, url, {method: 'GET', headers: {authorization: `Bearer ${token}`, accept: 'application/hal+json, application/json'}});
		if (reply.status !== 200) {
			throw new CloudApiError(`Cloud API ${what}: HTTP ${reply.status}: ${summary(reply)}`, !transient(reply.status));
		}

		return reply;
	}

	private async send(what: string, url: string, init: RequestInit & {method: string}): Promise<Reply> {
		this.debug(`-> ${init.method} ${url}${typeof init.body === 'string' ? ' ' + init.body : ''}${init.method === 'GET' ? ' (Authorization: Bearer [redacted])' : ''}`);
		let response: Response;
		let text: string;
		// A timer of our own, held until the answer is read: a signal from AbortSignal.timeout that
		// only fetch refers to can be collected, and then never fires (a peer that drips its answer).
		const abort = new AbortController();
		const timer = setTimeout(() => {
			abort.abort(Object.assign(new Error(`no answer within ${requestTimeoutMs / 1000} s`), {name: 'TimeoutError'}));
		}, requestTimeoutMs);
		try {
			response = await fetch(url, {...init, redirect: 'error', signal: abort.signal});
			text = await cappedText(response, maxReplyBytes, abort);
		} catch (error) {
			throw new CloudApiError(`Cloud API ${what}: ${describeNetworkError(error)}`, false);
		} finally {
			clearTimeout(timer);
		}

		let json: unknown;
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}

		this.debug(`<- HTTP ${response.status} ${oneLine(text, 2000)}`);
		return {status: response.status, text, json};
	}

	private debug(line: string): void {
		if (this.trace) {
			this.trace(this.redact(line));
		}
	}

	/** Known secrets anywhere, plus the secret-bearing fields by name. */
	redact(text: string): string {
		let out = text;
		for (const s of this.secrets) {
			if (s.length >= 4) {
				out = out.split(s).join('[redacted]');
			}
		}

		return out
			.replace(/("(?:access_token|hmac|d|refresh_token)"\s*:\s*")[^"]*"/g, '$1[redacted]"')
			.replace(/(client_secret=)[^&\s]*/g, '$1[redacted]');
	}
}

/** The Cloud API's answers are a few KiB: one past this is cut off, and its request failed. */
const maxReplyBytes = 1024 * 1024;

/**
 * A response's body as text, read no further than `max` bytes (an endless answer would fill
 * memory), and no longer than `abort` allows: a read waiting on a peer that drips its answer is
 * cancelled when it aborts (the signal given to fetch does not always end the body's reads).
 */
async function cappedText(response: Response, max: number, abort: AbortController): Promise<string> {
	if (!response.body) {
		return '';
	}

	const reader = response.body.getReader();
	const cancel = (): void => {
		void reader.cancel().catch(() => undefined);
	};

	abort.signal.addEventListener('abort', cancel, {once: true});
	try {
		const chunks: Uint8Array[] = [];
		let size = 0;
		for (;;) {
			const {done, value} = await reader.read(); // eslint-disable-line no-await-in-loop
			if (abort.signal.aborted) {
				throw abort.signal.reason instanceof Error ? abort.signal.reason : new Error('aborted');
			}

			if (done) {
				return Buffer.concat(chunks).toString('utf8');
			}

			size += value.length;
			if (size > max) {
				throw new Error(`an answer larger than ${max / 1024} KiB`);
			}

			chunks.push(value);
		}
	} finally {
		abort.signal.removeEventListener('abort', cancel);
		cancel();
	}
}
