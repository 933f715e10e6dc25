import {type IncomingMessage} from 'node:http';
import {HttpError} from './reply.js';

// Request bodies, capped: a Content-Length past the cap is refused before a byte is read; a
// chunked body is cut off at the cap. Either way a 413.

export const maxBodyBytes = 1024 * 1024;

export async function readBody(req: IncomingMessage, max = maxBodyBytes): Promise<Buffer> {
	const declared = Number(req.headers['content-length']);
	if (Number.isFinite(declared) && declared > max) {
		throw tooLarge(max);
	}

	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > max) {
			throw tooLarge(max);
		}

		chunks.push(chunk);
	}

	return Buffer.concat(chunks);
}

function tooLarge(max: number): HttpError {
	return new HttpError(413, `body: larger than ${max} bytes`, 'body', {Connection: 'close'});
}
