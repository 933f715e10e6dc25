import {post} from '../sinks/http-post.js';
import {type Outcome} from './delivery.js';

// POST JSON for the webhook, Alertmanager and Slack sinks (node:http), and what the answer means:
// 2xx done; 429, 408, 5xx and network errors worth another try (with the peer's
// Retry-After when it gives one); any other 4xx refused for good, with its body.

/** Longest part of a refusal's body kept for the report. */
const bodyLength = 300;

/** Retry-After: seconds, or an HTTP date. Undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
	if (!value) {
		return undefined;
	}

	const v = value.trim();
	if (/^\d+(?:\.\d+)?$/.test(v)) {
		return Math.round(Number(v) * 1000);
	}

	const at = Date.parse(v);
	return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The printable start of a body, on one line. */
function shortBody(text: string): string {
	const flat = text.replaceAll(/[\u0000-\u001F\u007F-\u009F]+/g, ' ').trim();
	return flat.length > bodyLength ? flat.slice(0, bodyLength) + '…' : flat;
}

export function classify(status: number, body: string, retryAfter: string | null): Outcome {
	if (status >= 200 && status < 300) {
		return {ok: true};
	}

	const text = shortBody(body);
	const reason = `HTTP ${status}${text ? `: ${text}` : ''}`;
	if (status === 429 || status === 408 || status >= 500) {
		return {ok: false, retry: true, reason, retryAfterMs: retryAfterMs(retryAfter)};
	}

	return {ok: false, retry: false, reason};
}

/** Why a request failed without an answer, in a few words: "connection refused", "no answer within 10s". */
export function networkReason(error: unknown, timeoutMs: number): string {
	const e = error as {name?: string; message?: string; code?: string; cause?: {code?: string; message?: string}};
	if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
		return `no answer within ${Math.round(timeoutMs / 1000)}s`;
	}

	const code = e?.code ?? e?.cause?.code;
	const known: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ECONNRESET: 'connection reset',
		UND_ERR_SOCKET: 'connection closed by the peer',
		ENOTFOUND: 'host not found',
		EAI_AGAIN: 'host not found (DNS)',
		ETIMEDOUT: 'connection timed out',
		EHOSTUNREACH: 'host unreachable',
	};
	return (code && known[code]) ?? e?.cause?.message ?? e?.message ?? String(error);
}

type Client = {request: typeof import('node:http').request};

/** node:http, or node:https (TLS) only once an https URL is used. */
const clients = new Map<string, Promise<Client>>();

async function clientFor(protocol: string): Promise<Client> {
	let client = clients.get(protocol);
	if (!client) {
		client = protocol === 'https:' ? import('node:https') : import('node:http');
		clients.set(protocol, client);
	}

	return client;
}

/**
 * Loads the client for `url` when a sink starts, so the first alert does not wait for it.
 * node:http, not fetch: fetch's client (undici) costs 50 to 300 ms of CPU to load and a
 * WebAssembly HTTP parser to compile at the first request, in the middle of the stream.
 */
export async function loadHttpClient(url: string): Promise<void> {
	await clientFor(new URL(url).protocol);
}

export type PostOptions = {headers?: Record<string, string>; timeoutMs: number};

/** Longest answer kept; the rest is read and thrown away (only its start is ever reported). */
const maxAnswer = 64 * 1024;

/** POST `body` as JSON; never throws. The timeout covers the whole exchange, the body of the answer included. Redirects are not followed. */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<Outcome> {
	try {
		const target = new URL(url);
		if (target.protocol !== 'http:' && target.protocol !== 'https:') {
			return {ok: false, retry: false, reason: `not an http or https URL: ${target.protocol}`};
		}

		const {request} = await clientFor(target.protocol);
		const data = Buffer.from(JSON.stringify(body));
		const headers = {'content-type': 'application/json', ...options.headers};
		const answer = await post(request, undefined, {url: target, headers, body: data, timeoutMs: options.timeoutMs, maxAnswer});
		return classify(answer.status, answer.text, answer.retryAfter ?? null);
	} catch (error) {
		return {ok: false, retry: true, reason: networkReason(error, options.timeoutMs)};
	}
}
