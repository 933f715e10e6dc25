import {byId} from './dom.js';

// Calls to logmon's API, with its token when it has one. The token is asked once, in the page
// (never a browser dialog), when the API answers 401, and kept in this tab's sessionStorage.

const tokenKey = 'logmon.token';

export class ApiError extends Error {
	constructor(readonly status: number, message: string, readonly parameter?: string) {
		super(message);
	}
}

export function token(): string | undefined {
	return sessionStorage.getItem(tokenKey) ?? undefined;
}

export function authHeaders(): Record<string, string> {
	const t = token();
	return t ? {Authorization: `Bearer ${t}`} : {};
}

let asking: Promise<void> | undefined;

/** Show the token form until a token is given; every caller that met a 401 meanwhile waits for the same one. */
export async function askToken(rejected: boolean): Promise<void> {
	asking ??= new Promise<void>(resolve => {
		const form = byId<HTMLFormElement>('token-form');
		const input = byId<HTMLInputElement>('token');
		byId('token-error').textContent = rejected ? 'That token was refused.' : '';
		form.hidden = false;
		input.focus();
		form.addEventListener('submit', event => {
			event.preventDefault();
			sessionStorage.setItem(tokenKey, input.value.trim());
			input.value = '';
			form.hidden = true;
			asking = undefined;
			resolve();
		}, {once: true});
	});
	return asking;
}

/** GET a JSON answer; a 401 asks for the token and tries again; other errors throw ApiError with the API's message. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
	for (;;) {
		const hadToken = token() !== undefined;
		// eslint-disable-next-line no-await-in-loop
		const res = await fetch(path, {headers: {Accept: 'application/json', ...authHeaders()}, signal, cache: 'no-store'});
		if (res.status === 401) {
			// eslint-disable-next-line no-await-in-loop
			await askToken(hadToken);
			continue;
		}

		// eslint-disable-next-line no-await-in-loop
		const body = await res.json().catch(() => undefined) as {error?: string; parameter?: string} | undefined;
		if (!res.ok) {
			throw new ApiError(res.status, body?.error ?? `${path}: HTTP ${res.status}`, body?.parameter);
		}

		return body as T;
	}
}
