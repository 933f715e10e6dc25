import {randomBytes} from 'node:crypto';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {type AddressInfo} from 'node:net';

// A local stand-in for the three Cloud API v2 calls logstream needs (protocols.md §1.1):
//   POST /api/auth/oauth/token                    client credentials -> bearer token
//   GET  /api/applications/{uuid}/environments    HAL list of environments
//   GET  /api/environments/{id}/logstream         stream URL + fresh t/hmac
// Bad credentials get 401, unknown ids 404, with the real error bodies.

export type CloudEnvironment = {id: string; name: string; label?: string; hosted?: boolean};

export type CloudApiServerOptions = {
	host?: string;
	port?: number;
	apiKey?: string;
	apiSecret?: string;
	/** Application uuid -> its environments. */
	applications?: Record<string, CloudEnvironment[]>;
	/** Where the logstream endpoint gets its answer; called once per request. */
	logstream: () => {url: string; params: {t: number; hmac: string; environment: string; site: string}};
	/** Repeat the client secret it was sent in a 401's description, as careless servers do. */
	echoSecret?: boolean;
};

export const testApplication = 'a47ac10b-58cc-4372-a567-0e02b2c3d470';

export const defaultApplications: Record<string, CloudEnvironment[]> = {
	[testApplication]: [
		{id: '24-a47ac10b-58cc-4372-a567-0e02b2c3d471', name: 'dev', label: 'Dev'},
		{id: '24-a47ac10b-58cc-4372-a567-0e02b2c3d472', name: 'test', label: 'Stage'},
		{id: '24-a47ac10b-58cc-4372-a567-0e02b2c3d473', name: 'prod', label: 'Production'},
		{id: '24-a47ac10b-58cc-4372-a567-0e02b2c3d474', name: 'ra', label: 'Remote admin', hosted: false},
	],
};

type Counts = {token: number; environments: number; logstream: number};

export class CloudApiTestServer {
	readonly apiKey: string;
	readonly apiSecret: string;
	readonly counts: Counts = {token: 0, environments: 0, logstream: 0};
	private readonly tokens = new Set<string>();
	private readonly applications: Record<string, CloudEnvironment[]>;
	private portNumber = 0;

	private constructor(private readonly http: Server, private readonly options: CloudApiServerOptions) {
		this.apiKey = options.apiKey ?? 'test-api-key';
		this.apiSecret = options.apiSecret ?? 'test-api-secret';
		this.applications = options.applications ?? defaultApplications;
	}

	static async start(options: CloudApiServerOptions): Promise<CloudApiTestServer> {
		const http = createServer();
		const server = new CloudApiTestServer(http, options);
		http.on('request', (req: IncomingMessage, res: ServerResponse) => {
			void server.handle(req, res);
		});
		await new Promise<void>((resolve, reject) => {
			http.once('error', reject);
			http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
				http.off('error', reject);
				resolve();
			});
		});
		server.portNumber = (http.address() as AddressInfo).port;
		return server;
	}

	get base(): string {
		return `http://${this.options.host ?? '127.0.0.1'}:${this.portNumber}`;
	}

	get tokenUrl(): string {
		return `${this.base}/api/auth/oauth/token`;
	}

	get apiUrl(): string {
		return `${this.base}/api`;
	}

	/** The credentials file contents this server accepts. */
	credentials(): {api_key: string; api_secret: string} {
		return {api_key: this.apiKey, api_secret: this.apiSecret};
	}

	async stop(): Promise<void> {
		this.http.closeAllConnections();
		await new Promise<void>(resolve => {
			this.http.close(() => {
				resolve();
			});
		});
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', this.base);
		const send = (status: number, body: unknown, type = 'application/json'): void => {
			res.writeHead(status, {'content-type': type}).end(JSON.stringify(body));
		};

		if (req.method === 'POST' && url.pathname === '/api/auth/oauth/token') {
			this.counts.token++;
			let body = '';
			for await (const chunk of req) {
				body += String(chunk);
				if (body.length > 65_536) {
					send(413, {error: 'invalid_request', error_description: 'body too large'});
					return;
				}
			}

			const form = new URLSearchParams(body);
			if (form.get('grant_type') !== 'client_credentials') {
				send(400, {error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server.'});
				return;
			}

			if (form.get('client_id') !== this.apiKey || form.get('client_secret') !== this.apiSecret) {
				const echoed = this.options.echoSecret ? ` for client_secret=${form.get('client_secret') ?? ''}` : '';
				send(401, {error: 'invalid_client', error_description: `Client authentication failed${echoed}`});
				return;
			}

			const token = randomBytes(24).toString('hex');
			this.tokens.add(token);
			send(200, {access_token: token, expires_in: 300, token_type: 'Bearer'});
			return;
		}

		if (req.method !== 'GET') {
			send(405, {error: 'method_not_allowed', message: 'Method not allowed.'});
			return;
		}

		const auth = req.headers.authorization ?? '';
		if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) {
			send(401, {error: 'invalid_token', message: 'The access token provided is invalid.'});
			return;
		}

		const environments = /^\/api\/applications\/([^/]+)\/environments$/.exec(url.pathname);
		if (environments) {
			this.counts.environments++;
			const uuid = decodeURIComponent(environments[1]!);
			const list = this.applications[uuid];
			if (!list) {
				send(404, {error: 'not_found', message: 'The application you are trying to access does not exist, or you do not have permission to access it.'});
				return;
			}

			send(200, {
				total: list.length,
				_links: {self: {href: `${this.apiUrl}/applications/${uuid}/environments`}},
				_embedded: {items: list.map(e => ({id: e.id, name: e.name, label: e.label ?? e.name, _links: {self: {href: `${this.apiUrl}/environments/${e.id}`}}}))},
			}, 'application/hal+json');
			return;
		}

		const logstream = /^\/api\/environments\/([^/]+)\/logstream$/.exec(url.pathname);
		if (logstream) {
			this.counts.logstream++;
			const id = decodeURIComponent(logstream[1]!);
			const env = Object.values(this.applications).flat().find(e => e.id === id);
			if (!env) {
				send(404, {error: 'not_found', message: 'The environment you are trying to access does not exist, or you do not have permission to access it.'});
				return;
			}

			if (env.hosted === false) {
				send(404, {error: 'not_found', message: 'Logs cannot be accessed on non-hosted environments.'});
				return;
			}

			const {url: wss, params} = this.options.logstream();
			send(200, {
				logstream: {url: wss, params, commands: ['stream-environment', 'enable', 'disable']},
				_links: {self: {href: `${this.apiUrl}/environments/${id}/logstream`}, wss: {href: wss}, parent: {href: `${this.apiUrl}/environments/${id}`}},
			}, 'application/hal+json');
			return;
		}

		send(404, {error: 'not_found', message: 'No route found.'});
	}
}
