import {type Outcome} from './delivery.js';

// POST JSON for the webhook, Alertmanager and Slack sinks, and what the answer means:
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
	const e = error as {name?: string; message?: string; cause?: {code?: string; message?: string}};
	if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
		return `no answer within ${Math.round(timeoutMs / 1000)}s`;
	}

	const code = e?.cause?.code;
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

/**
 * Node loads its HTTP client (undici) on the first fetch, some 50 to 300 ms of CPU: done when an
 * HTTP sink starts, it holds up neither the stream nor the first alert. A data: URL, no network.
 */
export async function loadHttpClient(): Promise<void> {
	try {
		await (await fetch('data:,')).arrayBuffer();
	} catch {
		// The first real request will say what is wrong.
	}
}

export type PostOptions = {headers?: Record<string, string>; timeoutMs: number};

/** POST `body` as JSON; never throws. The timeout covers the whole exchange, the body of the answer included. */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<Outcome> {
	try {
		const res = await fetch(url, {
			method: 'POST',
			headers: {'content-type': 'application/json', 'user-agent': 'logmon', ...options.headers},
			body: JSON.stringify(body),
			signal: AbortSignal.timeout(options.timeoutMs),
			redirect: 'error',
		});
		const text = await res.text();
		return classify(res.status, text, res.headers.get('retry-after'));
	} catch (error) {
		return {ok: false, retry: true, reason: networkReason(error, options.timeoutMs)};
	}
}
