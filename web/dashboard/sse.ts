import {askToken, authHeaders, token} from './api.js';

// The live stream (Server-Sent Events) read with fetch rather than EventSource: EventSource cannot
// send the Authorization header, and a token in the URL would end up in logs. The wire format is
// the same; on a drop it reconnects with Last-Event-ID, so the server sends what was missed.

export type StreamHandlers = {
	onEvent(data: string, id: string | undefined): void;
	/** `event: loss`: the server dropped events for this client (it read too slowly). */
	onLoss(data: string): void;
	onState(state: 'connecting' | 'live' | 'reconnecting' | 'error', detail?: string): void;
};

export type Stream = {close(): void};

export function openStream(url: string, handlers: StreamHandlers, lastEventId?: string): Stream {
	const abort = new AbortController();
	let lastId = lastEventId;
	let retryMs = 2000;

	const run = async (): Promise<void> => {
		while (!abort.signal.aborted) {
			handlers.onState(lastId === undefined ? 'connecting' : 'reconnecting');
			try {
				const hadToken = token() !== undefined;
				// eslint-disable-next-line no-await-in-loop
				const res = await fetch(url, {
					headers: {Accept: 'text/event-stream', ...authHeaders(), ...(lastId === undefined ? {} : {'Last-Event-ID': lastId})},
					signal: abort.signal,
					cache: 'no-store',
				});
				if (res.status === 401) {
					// eslint-disable-next-line no-await-in-loop
					await askToken(hadToken);
					continue;
				}

				if (!res.ok || !res.body) {
					// eslint-disable-next-line no-await-in-loop
					const body = await res.json().catch(() => undefined) as {error?: string} | undefined;
					handlers.onState('error', body?.error ?? `HTTP ${res.status}`);
				} else {
					handlers.onState('live');
					// eslint-disable-next-line no-await-in-loop
					await read(res.body);
				}
			} catch (error) {
				if (abort.signal.aborted) {
					return;
				}

				handlers.onState('error', error instanceof Error ? error.message : String(error));
			}

			if (!abort.signal.aborted) {
				handlers.onState('reconnecting');
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setTimeout(resolve, retryMs);
				});
			}
		}
	};

	const read = async (body: ReadableStream<Uint8Array>): Promise<void> => {
		const reader = body.getReader();
		const decoder = new TextDecoder();
		let buffer = '';
		let data: string[] = [];
		let type = 'message';
		let id: string | undefined;
		for (;;) {
			// eslint-disable-next-line no-await-in-loop
			const {value, done} = await reader.read();
			if (done) {
				return;
			}

			buffer += decoder.decode(value, {stream: true});
			let nl: number;
			while ((nl = buffer.indexOf('\n')) >= 0) {
				const line = buffer.slice(0, nl).replace(/\r$/, '');
				buffer = buffer.slice(nl + 1);
				if (line === '') {
					if (data.length > 0) {
						if (id !== undefined) {
							lastId = id;
						}

						if (type === 'loss') {
							handlers.onLoss(data.join('\n'));
						} else if (type === 'message') {
							handlers.onEvent(data.join('\n'), id);
						}
					}

					data = [];
					type = 'message';
					id = undefined;
					continue;
				}

				const colon = line.indexOf(':');
				if (colon === 0) {
					continue; // A comment (keep-alive).
				}

				const field = colon < 0 ? line : line.slice(0, colon);
				const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
				if (field === 'data') {
					data.push(value);
				} else if (field === 'event') {
					type = value;
				} else if (field === 'id') {
					id = value;
				} else if (field === 'retry' && /^\d+$/.test(value)) {
					retryMs = Number(value);
				}
			}
		}
	};

	void run();
	return {
		close() {
			abort.abort();
		},
	};
}
