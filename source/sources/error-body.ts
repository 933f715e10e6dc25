import type http from 'node:http';

// The body of a refusal (a non-200 answer) from a peer we read from: kept short, since
// only its start is shown, and the rest read and dropped so the answer ends.

/** Longest error body kept, characters. */
export const maxErrorBody = 4096;

/** `then` gets the body's first `maxErrorBody` characters at its end; a broken body goes to `onError`, else to `then` with what came. */
export function readErrorBody(response: http.IncomingMessage, then: (body: string) => void, onError?: (error: Error) => void): void {
	let body = '';
	response.setEncoding('utf8');
	response.on('data', (d: string) => {
		if (body.length < maxErrorBody) {
			body += d;
		}
	});
	response.on('end', () => {
		then(body.slice(0, maxErrorBody));
	});
	response.on('error', error => {
		if (onError) {
			onError(error);
		} else {
			then(body.slice(0, maxErrorBody));
		}
	});
}
