import http, {type IncomingMessage, type ServerResponse} from 'node:http';
import {listen, listenProblem} from '../sources/listen.js';
import {formatAddress, isLoopback} from './address.js';
import {tokenCheck} from './auth.js';
import {type HttpContext} from './context.js';
import {createCors} from './cors.js';
import {HttpError, baseHeaders, send, sendError} from './reply.js';
import {maxBodyBytes} from './request.js';
import {type Router, httpRequest, pathSegments} from './router.js';
import {type HttpSettings} from './settings.js';

// The node:http server: timeouts, the token, CORS, a loopback Host check, then the router.
// Every answer is JSON unless a route says otherwise; nothing here ever writes the token.

export type HttpServer = {
	/** `http://127.0.0.1:5004` (the port the system gave for port 0). */
	readonly url: string;
	readonly port: number;
	close(): Promise<void>;
};

export class HttpListenError extends Error {}

/** Bounds on a request's arrival: a client that trickles headers or a body is cut off. */
const headersTimeoutMs = 10_000;
const requestTimeoutMs = 30_000;
const keepAliveTimeoutMs = 5000;

export async function startServer(settings: HttpSettings, router: Router, context: HttpContext): Promise<HttpServer> {
	const authorized = tokenCheck(settings.token);
	const cors = createCors(settings.cors);
	// Without a token a loopback server is open to any page the browser shows, through DNS
	// rebinding (evil.example resolving to 127.0.0.1): only loopback Host names are answered then.
	const checkHost = settings.token === undefined;
	const {counters} = context;

	const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
		counters.requests++;
		const corsHeaders = cors.headers(req);
		let url: URL;
		try {
			url = new URL(req.url ?? '/', 'http://logmon');
		} catch {
			throw new HttpError(400, 'the request target is not a valid path');
		}

		if (checkHost && !loopbackHost(req.headers.host)) {
			throw new HttpError(403, 'Host: this logmon answers only loopback names (127.0.0.1, localhost, [::1]) unless it has a token');
		}

		// Segments are decoded after the path is split, so a name holding `%2F` (k8s/web) stays one segment.
		let path: string;
		let segments: string[];
		try {
			path = decodeURIComponent(url.pathname);
			segments = pathSegments(url.pathname);
		} catch {
			throw new HttpError(400, 'the path is not valid percent-encoding');
		}

		const method = req.method ?? 'GET';
		if (method === 'OPTIONS' && cors.enabled) {
			const methods = router.methods(segments);
			if (methods.length === 0) {
				throw new HttpError(404, `no such path: ${path}`);
			}

			res.writeHead(204, {...cors.preflight(req, methods), 'Content-Length': 0});
			res.end();
			return;
		}

		const match = router.match(method, segments);
		const isPublic = match !== undefined && 'route' in match && match.route.options.public === true;
		if (!isPublic && !authorized(req.headers.authorization)) {
			counters.unauthorized++;
			throw new HttpError(401, 'Authorization: this logmon needs "Authorization: Bearer <token>" (its http.token or --http-token)', 'Authorization', {'WWW-Authenticate': 'Bearer realm="logmon"'});
		}

		const declared = Number(req.headers['content-length']);
		if (Number.isFinite(declared) && declared > maxBodyBytes) {
			throw new HttpError(413, `body: larger than ${maxBodyBytes} bytes`, 'body', {Connection: 'close'});
		}

		if (!match) {
			throw new HttpError(404, `no such path: ${path}`);
		}

		if ('allowed' in match) {
			throw new HttpError(405, `${method} is not allowed here; use ${match.allowed.join(' or ')}`, undefined, {Allow: match.allowed.join(', ')});
		}

		const request = httpRequest(req, res, path, url.searchParams, match.params, maxBodyBytes, {...baseHeaders(), ...corsHeaders});
		const reply = await match.route.handler(request, context);
		if (reply) {
			count(counters.byStatus, reply.status ?? 200);
			send(res, reply, corsHeaders);
		}
	};

	const server = http.createServer({
		headersTimeout: headersTimeoutMs,
		requestTimeout: requestTimeoutMs,
		keepAliveTimeout: keepAliveTimeoutMs,
		// 16 KiB of headers, Node's default, said here so it stays so.
		maxHeaderSize: 16 * 1024,
	}, (req, res) => {
		// Taken now: by the time a 413 has been written, req.socket may already be gone (null).
		const {socket} = req;
		handle(req, res).catch((error: unknown) => {
			const failure = error instanceof HttpError ? error : internalError(context, req, error);
			count(counters.byStatus, failure.status);
			sendError(res, failure, cors.headers(req));
			if (failure.status === 413) {
				// The rest of the body is not read: the connection goes with the answer.
				res.once('finish', () => socket.destroy());
			}
		});
	});
	server.on('clientError', (error, socket) => {
		// Malformed requests, header timeouts, a request line or headers past their limit: a 400, 408
		// or 431 with a JSON message as every other answer has, then the socket goes.
		const code = (error as NodeJS.ErrnoException).code;
		if (socket.writable) {
			const [status, reason, message] = code === 'ERR_HTTP_REQUEST_TIMEOUT'
				? [408, 'Request Timeout', 'the request did not arrive in time']
				: (code === 'HPE_HEADER_OVERFLOW'
					? [431, 'Request Header Fields Too Large', 'the request line and headers are past 16 KiB: a shorter query string?']
					: [400, 'Bad Request', 'not an HTTP request this server can read']);
			counters.requests++;
			count(counters.byStatus, status);
			const body = JSON.stringify({error: message, message, status});
			socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
		} else {
			socket.destroy();
		}
	});

	const port = await listen(server, settings.host, settings.port).catch((error: unknown) => {
		const code = (error as NodeJS.ErrnoException).code;
		const why = code === 'EACCES' ? 'permission denied (a port under 1024?)' : (code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : listenProblem(error, 'the port is in use (another logmon serve?)'));
		throw new HttpListenError(`${settings.from}: cannot listen on ${formatAddress(settings)}: ${why}`);
	});
	server.on('error', error => {
		context.say('error', `http: ${error.message}`);
	});

	const url = `http://${formatAddress({host: settings.host, port})}`;
	return {
		url,
		port,
		async close() {
			const closed = new Promise(resolve => server.close(resolve));
			server.closeIdleConnections();
			// Streams never end by themselves: they are ended here.
			setTimeout(() => server.closeAllConnections(), 1000).unref();
			await closed;
		},
	};
}

function count(byStatus: Record<string, number>, status: number): void {
	const key = `${Math.floor(status / 100)}xx`;
	byStatus[key] = (byStatus[key] ?? 0) + 1;
}

function internalError(context: HttpContext, req: IncomingMessage, error: unknown): HttpError {
	const text = error instanceof Error ? error.message : String(error);
	context.say('error', `http: ${req.method ?? 'GET'} ${(req.url ?? '').split('?')[0]!}: ${context.bus.diagnostics.secrets.redact(text)}`);
	return new HttpError(500, 'internal error; logmon logged it');
}

/** `127.0.0.1:5004`, `localhost`, `[::1]:5004`. */
function loopbackHost(host: string | undefined): boolean {
	if (!host) {
		return false;
	}

	const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(host);
	const name = m?.[1] ?? m?.[2];
	return name !== undefined && isLoopback(name);
}
