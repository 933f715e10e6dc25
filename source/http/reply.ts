import {type ServerResponse} from 'node:http';
import {escapeJsonText} from '../core/sanitize.js';

// Answers: JSON bodies, JSON errors that name the parameter at fault, and the headers every
// response carries. HTML gets a Content-Security-Policy that allows nothing but this origin.

/** An error that becomes a JSON answer: `{"error": "...", "parameter": "limit"}`. */
export class HttpError extends Error {
	constructor(readonly status: number, message: string, readonly parameter?: string, readonly headers: Record<string, string> = {}) {
		super(message);
	}
}

/** A request parameter that cannot be used: 400, naming it. */
export function badParameter(parameter: string, message: string): HttpError {
	return new HttpError(400, `${parameter}: ${message}`, parameter);
}

/** What a handler gives back; a handler that writes the response itself (SSE) returns undefined. */
export type Reply = {
	status?: number;
	/** Sent as JSON. */
	json?: unknown;
	/** Sent as is, with `type`. */
	body?: string | Buffer;
	type?: string;
	headers?: Record<string, string>;
};

const commonHeaders: Record<string, string> = {
	'X-Content-Type-Options': 'nosniff',
	'Referrer-Policy': 'no-referrer',
	'Cache-Control': 'no-store',
};

/** Headers of an HTML page: its own origin only, no inline script, no framing. */
export const htmlHeaders: Record<string, string> = {
	'Content-Security-Policy': 'default-src \'self\'; script-src \'self\'; style-src \'self\'; img-src \'self\' data:; connect-src \'self\'; font-src \'self\'; object-src \'none\'; base-uri \'none\'; form-action \'self\'; frame-ancestors \'none\'',
	'X-Frame-Options': 'DENY',
	'Cross-Origin-Opener-Policy': 'same-origin',
	'Cross-Origin-Resource-Policy': 'same-origin',
};

// JSON.stringify leaves C1 controls, U+2028/2029 and bidi overrides as they are; escaped, a body
// shown raw (curl in a terminal, a browser's JSON view) cannot be driven or reordered by log text.
export function jsonText(value: unknown): string {
	return escapeJsonText(JSON.stringify(value));
}

export function send(res: ServerResponse, reply: Reply, extra: Record<string, string> = {}): void {
	if (res.headersSent) {
		res.end();
		return;
	}

	const isJson = reply.body === undefined;
	const body = isJson ? jsonText(reply.json ?? null) : reply.body!;
	const type = isJson ? 'application/json; charset=utf-8' : (reply.type ?? 'application/octet-stream');
	const headers: Record<string, string | number> = {
		...commonHeaders,
		...(type.startsWith('text/html') ? htmlHeaders : {}),
		...extra,
		...reply.headers,
		'Content-Type': type,
		'Content-Length': Buffer.byteLength(body),
	};
	res.writeHead(reply.status ?? 200, headers);
	res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function sendError(res: ServerResponse, error: HttpError, extra: Record<string, string> = {}): void {
	// `message` too: Grafana's data sources show that field of an error.
	const json: Record<string, unknown> = {error: error.message, message: error.message, status: error.status};
	if (error.parameter !== undefined) {
		json['parameter'] = error.parameter;
	}

	send(res, {status: error.status, json, headers: error.headers}, extra);
}

/** The headers every response carries, for handlers that write their own (SSE). */
export function baseHeaders(): Record<string, string> {
	return {...commonHeaders};
}
