import type http from 'node:http';

// One POST, for the http forward destination (over its keep-alive agent) and the alert sinks:
// node:http or node:https, loaded by the caller ahead of time, since fetch's client costs a
// WebAssembly parser at the first request. The timeout covers the whole exchange, the answer's
// body included. Redirects are not followed.

export type Answer = {status: number; text: string; retryAfter: string | undefined; truncated: boolean};

export type Post = {
	url: URL;
	headers: Record<string, string>;
	body: Buffer;
	timeoutMs: number;
	/** Longest answer kept; past it the rest is not read, and the connection is closed. */
	maxAnswer: number;
};

export class TimeoutError extends Error {
	override name = 'TimeoutError';
}

/** Resolves with the answer, whatever its status; rejects on a network error or the timeout. */
export async function post(request: typeof http.request, agent: http.Agent | undefined, p: Post): Promise<Answer> {
	return new Promise<Answer>((resolve, reject) => {
		let settled = false;
		const settle = (outcome: Answer | Error): void => {
			if (settled) {
				return;
			}

			settled = true;
			clearTimeout(timer);
			if (outcome instanceof Error) {
				reject(outcome);
			} else {
				resolve(outcome);
			}
		};

		const req = request(p.url, {
			method: 'POST',
			agent,
			headers: {'user-agent': 'logmon', ...p.headers, 'content-length': String(p.body.length)},
		}, res => {
			const parts: Buffer[] = [];
			let size = 0;
			const answer = (truncated: boolean): Answer => {
				const retryAfter = res.headers['retry-after'];
				return {status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8'), retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, truncated};
			};

			res.on('data', (chunk: Buffer) => {
				if (size + chunk.length <= p.maxAnswer) {
					parts.push(chunk);
					size += chunk.length;
					return;
				}

				// Enough of it: the rest is not read (a peer may answer gigabytes), and the connection goes.
				parts.push(Buffer.from(chunk.subarray(0, p.maxAnswer - size)));
				size = p.maxAnswer;
				settle(answer(true));
				res.destroy();
			});
			res.on('end', () => {
				settle(answer(false));
			});
			res.on('error', settle);
			res.on('aborted', () => {
				settle(new Error('connection closed by the peer'));
			});
		});
		const timer = setTimeout(() => {
			req.destroy(new TimeoutError());
		}, p.timeoutMs);
		req.on('error', settle);
		req.on('close', () => {
			settle(new Error('connection closed by the peer'));
		});
		req.end(p.body);
	});
}
