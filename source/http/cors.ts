import {type IncomingMessage} from 'node:http';

// CORS, only when `http.cors` names origins: a browser-direct Grafana or a page elsewhere may then
// call the API. Without it no Access-Control header is ever sent and browsers keep other origins out.

export type Cors = {
	/** Headers for a response to this request (empty when its origin is not allowed). */
	headers(req: IncomingMessage): Record<string, string>;
	/** Headers for a preflight, given the methods the path answers. */
	preflight(req: IncomingMessage, methods: string[]): Record<string, string>;
	readonly enabled: boolean;
};

export function createCors(origins: readonly string[]): Cors {
	const any = origins.includes('*');
	const allowed = new Set(origins);
	const originFor = (req: IncomingMessage): string | undefined => {
		const origin = req.headers.origin;
		if (origins.length === 0) {
			return undefined;
		}

		if (any) {
			return '*';
		}

		return origin !== undefined && allowed.has(origin) ? origin : undefined;
	};

	return {
		enabled: origins.length > 0,
		headers(req) {
			const origin = originFor(req);
			if (origin === undefined) {
				return {};
			}

			return {'Access-Control-Allow-Origin': origin, ...(any ? {} : {Vary: 'Origin'}), 'Access-Control-Expose-Headers': 'Content-Type'};
		},
		preflight(req, methods) {
			const base = this.headers(req);
			if (!base['Access-Control-Allow-Origin']) {
				return {};
			}

			return {
				...base,
				'Access-Control-Allow-Methods': [...new Set([...methods, 'OPTIONS'])].join(', '),
				'Access-Control-Allow-Headers': 'accept, authorization, content-type, last-event-id',
				'Access-Control-Max-Age': '600',
			};
		},
	};
}
