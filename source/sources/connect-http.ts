import http from 'node:http';
import https from 'node:https';
import {parseJsonBounded, maxJsonDepth} from '../core/json-depth.js';
import {sanitize} from '../core/sanitize.js';
import {describeNetworkError, oneLine} from './net-error.js';

// The requests of a `connect` source besides its stream: the remote's health and the backlog of
// recent events. Plain node:http(s), one connection per request, bounded in time and size.

export type Answer = {status: number; json: unknown; text: string};

/** Longest error text kept from an answer that is not a 200. */
const maxErrorText = 300;

/**
 * `path` under the base URL's own path (a proxy may serve logmon below /logmon/). With `query`,
 * the base URL's parameters (the remote's filter) go along.
 */
export function endpoint(base: URL, path: string, query: boolean): URL {
	const prefix = base.pathname.endsWith('/') ? base.pathname : base.pathname + '/';
	const url = new URL(base.href);
	url.pathname = prefix + path.replace(/^\//, '');
	url.hash = '';
	if (!query) {
		url.search = '';
	}

	return url;
}

export function requestHeaders(token: string | undefined, accept: string): Record<string, string> {
	return {
		'User-Agent': 'logmon',
		Accept: accept,
		...(token === undefined ? {} : {Authorization: `Bearer ${token}`}),
	};
}

export function client(url: URL): typeof http | typeof https {
	return url.protocol === 'https:' ? https : http;
}

/** The remote's words for a refusal: the `error` of its JSON answer, else the text, one line and short. */
export function refusalText(status: number, body: string): string {
	let text = body;
	try {
		const o = JSON.parse(body) as Record<string, unknown> | null;
		if (typeof o?.['error'] === 'string') {
			text = o['error'];
		}
	} catch {}

	const line = oneLine(sanitize(text), maxErrorText);
	return `HTTP ${status}${line ? `: ${line}` : ''}`;
}

export class RequestError extends Error {}

/** GET a JSON document. Rejects with a RequestError naming the cause (network, time, size, not JSON). */
export async function getJson(url: URL, options: {token: string | undefined; timeoutMs: number; maxBytes: number; signal?: AbortSignal}): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const request = client(url).request(url, {
			method: 'GET',
			agent: false,
			headers: requestHeaders(options.token, 'application/json'),
			timeout: options.timeoutMs,
			signal: options.signal,
		}, response => {
			const chunks: Buffer[] = [];
			let size = 0;
			response.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size > options.maxBytes) {
					request.destroy(new RequestError(`the answer of ${url.pathname} is larger than ${options.maxBytes} bytes`));
					return;
				}

				chunks.push(chunk);
			});
			response.on('end', () => {
				clearTimeout(timer);
				const text = Buffer.concat(chunks).toString('utf8');
				const status = response.statusCode ?? 0;
				if (status !== 200) {
					resolve({status, json: undefined, text});
					return;
				}

				try {
					resolve({status, json: parseJsonBounded(text, maxJsonDepth + 4).value, text});
				} catch {
					reject(new RequestError(`the answer of ${url.pathname} is not JSON`));
				}
			});
			response.on('error', error => {
				clearTimeout(timer);
				reject(error instanceof RequestError ? error : new RequestError(describeNetworkError(error)));
			});
		});
		// `timeout` covers an idle socket; this covers a slow whole answer.
		const timer = setTimeout(() => {
			request.destroy(new RequestError(`no full answer from ${url.pathname} within ${Math.round(options.timeoutMs / 1000)} s`));
		}, options.timeoutMs);
		request.on('timeout', () => {
			request.destroy(new RequestError(`no answer from ${url.pathname} within ${Math.round(options.timeoutMs / 1000)} s`));
		});
		request.on('error', error => {
			clearTimeout(timer);
			reject(error instanceof RequestError ? error : new RequestError(describeNetworkError(error)));
		});
		request.end();
	});
}
