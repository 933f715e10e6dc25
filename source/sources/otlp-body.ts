import {type IncomingMessage} from 'node:http';
import zlib from 'node:zlib';

// Reading an OTLP/HTTP request body: gzip undone as it streams, so that the cap holds on
// what the body inflates to (a small gzip body may inflate to gigabytes), and every byte
// held counted against a budget shared by the requests being read at once.

/** A body that cannot be taken: the HTTP status to answer and why. */
export class BodyError extends Error {
	constructor(readonly status: 400 | 413 | 503, message: string) {
		super(message);
	}
}

export type BodyOptions = {
	gzip: boolean;
	maxBytes: number;
	/** Reserve n more bytes of the shared budget; false when it is spent. */
	take: (n: number) => boolean;
};

/** The whole body; rejects with a BodyError, or another Error when the client went away. `held` is what was taken. */
export async function readBody(req: IncomingMessage, options: BodyOptions, held: {bytes: number}): Promise<Buffer> {
	const declared = Number(req.headers['content-length']);
	if (!options.gzip && declared > options.maxBytes) {
		throw new BodyError(413, `the body of ${declared} bytes is over the limit of ${options.maxBytes} bytes`);
	}

	const input: NodeJS.ReadableStream = options.gzip ? req.pipe(zlib.createGunzip()) : req;
	const parts: Buffer[] = [];
	return new Promise<Buffer>((resolve, reject) => {
		let settled = false;
		const fail = (error: Error): void => {
			if (settled) {
				return;
			}

			settled = true;
			if (input !== req) {
				req.unpipe();
				(input as zlib.Gunzip).destroy();
			}

			reject(error);
		};

		input.on('data', (chunk: Buffer) => {
			if (settled) {
				return;
			}

			if (held.bytes + chunk.length > options.maxBytes) {
				fail(new BodyError(413, `the body${options.gzip ? ' once gunzipped' : ''} is over the limit of ${options.maxBytes} bytes`));
				return;
			}

			if (!options.take(chunk.length)) {
				fail(new BodyError(503, 'requests being read at once hold too many bytes'));
				return;
			}

			held.bytes += chunk.length;
			parts.push(chunk);
		});
		input.once('end', () => {
			if (!settled) {
				settled = true;
				resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
			}
		});
		input.once('error', (error: Error) => {
			fail(input === req ? error : new BodyError(400, `the gzip body cannot be read: ${error.message}`));
		});
		if (input !== req) {
			req.once('error', fail);
		}

		req.once('aborted', () => {
			fail(new Error('the client went away'));
		});
	});
}

export type MediaType = 'json' | 'proto';

/** The request's media type with its parameters (charset…) stripped, or undefined for one OTLP does not use. */
export function mediaType(header: string | undefined): MediaType | undefined {
	const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
	if (type === 'application/json') {
		return 'json';
	}

	return type === 'application/x-protobuf' || type === 'application/protobuf' ? 'proto' : undefined;
}

/** Content-Encoding: true for gzip, false for none, undefined for one not understood. */
export function isGzip(header: string | undefined): boolean | undefined {
	const encoding = (header ?? '').trim().toLowerCase();
	if (encoding === '' || encoding === 'identity') {
		return false;
	}

	return encoding === 'gzip' || encoding === 'x-gzip' ? true : undefined;
}
