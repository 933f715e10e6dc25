import {type IncomingMessage, type ServerResponse} from 'node:http';
import {type HttpContext} from './context.js';
import {HttpError, type Reply} from './reply.js';
import {readBody} from './request.js';

// A small router: METHOD + path pattern (`/api/v1/logs/errors/:service`) -> handler. Each concern
// registers its routes from a file of its own (routes.ts lists them). An unknown path is a JSON
// 404; a known path with another method a 405 naming the allowed ones.

export type HttpRequest = {
	readonly method: string;
	/** The decoded path, without the query. */
	readonly path: string;
	readonly query: URLSearchParams;
	/** Values of the pattern's `:name` parts, decoded. */
	readonly params: Readonly<Record<string, string>>;
	readonly raw: IncomingMessage;
	readonly res: ServerResponse;
	/** Headers a handler that writes its own response (SSE) must send: the common ones and CORS. */
	readonly replyHeaders: Readonly<Record<string, string>>;
	/** The body, at most the server's cap (a 413 past it). */
	body(): Promise<Buffer>;
	/** The body as JSON (a 400 when it is not); `{}` for an empty body. */
	json(): Promise<unknown>;
};

export type Handler = (request: HttpRequest, context: HttpContext) => Reply | undefined | Promise<Reply | undefined>;

export type RouteOptions = {
	/** Served without the token (the dashboard's page and assets, which then ask for it). */
	public?: boolean;
};

type Route = {method: string; parts: string[]; handler: Handler; options: RouteOptions};

export type Match = {route: Route; params: Record<string, string>} | {allowed: string[]} | undefined;

export class Router {
	private readonly routes: Route[] = [];

	add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): this {
		if (!pattern.startsWith('/')) {
			throw new Error(`route ${pattern}: a path starts with /`);
		}

		this.routes.push({method: method.toUpperCase(), parts: split(pattern), handler, options});
		return this;
	}

	get(pattern: string, handler: Handler, options?: RouteOptions): this {
		return this.add('GET', pattern, handler, options);
	}

	post(pattern: string, handler: Handler, options?: RouteOptions): this {
		return this.add('POST', pattern, handler, options);
	}

	/** The route for this method and path (its decoded segments, pathSegments); or the methods the path has; or undefined (404). HEAD is served by GET. */
	match(method: string, parts: readonly string[]): Match {
		const allowed: string[] = [];
		for (const route of this.routes) {
			const params = matchParts(route.parts, parts);
			if (!params) {
				continue;
			}

			if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
				return {route, params};
			}

			allowed.push(route.method);
		}

		return allowed.length > 0 ? {allowed: [...new Set(allowed)]} : undefined;
	}

	/** Every method a path answers, for CORS preflights. */
	methods(parts: readonly string[]): string[] {
		const m = this.match('\u0000', parts);
		return m && 'allowed' in m ? m.allowed : [];
	}
}

/** `/a/b/` and `/a/b` are the same path. */
function split(path: string): string[] {
	return path.split('/').filter(Boolean);
}

/** A raw (percent-encoded) path's segments, each decoded; throws URIError on bad encoding. */
export function pathSegments(rawPath: string): string[] {
	return split(rawPath).map(part => decodeURIComponent(part));
}

function matchParts(pattern: string[], parts: readonly string[]): Record<string, string> | undefined {
	if (pattern.length !== parts.length) {
		return undefined;
	}

	const params: Record<string, string> = {};
	for (const [i, p] of pattern.entries()) {
		const part = parts[i]!;
		if (p.startsWith(':')) {
			params[p.slice(1)] = part;
		} else if (p !== part) {
			return undefined;
		}
	}

	return params;
}

/** The request object handlers see. `maxBody`: bytes accepted before a 413. */
export function httpRequest(raw: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, params: Record<string, string>, maxBody: number, replyHeaders: Record<string, string>): HttpRequest {
	let body: Promise<Buffer> | undefined;
	const request: HttpRequest = {
		method: raw.method ?? 'GET',
		path,
		query,
		params,
		raw,
		res,
		replyHeaders,
		body: async () => (body ??= readBody(raw, maxBody)),
		async json() {
			const bytes = await request.body();
			if (bytes.length === 0) {
				return {};
			}

			try {
				return JSON.parse(bytes.toString('utf8')) as unknown;
			} catch (error) {
				throw new HttpError(400, `body: not valid JSON: ${(error as Error).message}`, 'body');
			}
		},
	};
	return request;
}
