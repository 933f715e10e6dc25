import {type ConfigFile} from '../config/schema.js';
import {type ListenAddress, defaultHttpHost, defaultHttpPort, formatAddress, isLoopback, parseListen} from './address.js';

// Flags over config for the HTTP server: where it listens, its token, its CORS origins.
// `logmon serve` always serves (127.0.0.1:5004 unless told otherwise); other runs only with --http.

export type HttpSettings = ListenAddress & {
	/** The flag or config key the address came from, for error messages. */
	from: string;
	token: string | undefined;
	/** Origins allowed to call from a browser: ['*'] for any; empty: no CORS headers at all. */
	cors: string[];
	maxStreamClients: number;
	streamQueue: number;
	streamStuckMs: number;
};

export class HttpSettingsError extends Error {}

export type HttpFlags = {http?: string | undefined; httpToken?: string | undefined};

const howToSetToken = 'set a token with --http-token TOKEN or, better (a flag shows in ps), "http": {"token": "${LOGMON_HTTP_TOKEN}"} in the config; make one with: openssl rand -hex 32';

export function resolveHttp(flags: HttpFlags, config: ConfigFile, serve: boolean): HttpSettings | undefined {
	let text: string | undefined;
	let from: string;
	if (flags.http !== undefined) {
		text = flags.http;
		from = '--http';
	} else if (serve && config.http.listen !== undefined) {
		text = config.http.listen;
		from = 'http.listen';
	} else if (serve) {
		text = `${defaultHttpHost}:${defaultHttpPort}`;
		from = 'logmon serve';
	} else {
		if (flags.httpToken !== undefined) {
			throw new HttpSettingsError('--http-token: needs --http [HOST:]PORT (or logmon serve)');
		}

		return undefined;
	}

	const address = parseListen(text);
	if (!address) {
		throw new HttpSettingsError(`${from}: expected [HOST:]PORT such as 5004, 127.0.0.1:5004 or [::1]:5004, got ${JSON.stringify(text)}`);
	}

	const token = flags.httpToken ?? config.http.token;
	if (flags.httpToken !== undefined && flags.httpToken.length < 16) {
		throw new HttpSettingsError('--http-token: expected at least 16 characters; make one with: openssl rand -hex 32');
	}

	if (!isLoopback(address.host) && token === undefined) {
		throw new HttpSettingsError(`${from}: ${formatAddress(address)} is reachable from other machines, so the API needs a token: ${howToSetToken}`);
	}

	const cors = config.http.cors === undefined ? [] : (config.http.cors === '*' ? ['*'] : config.http.cors);
	const {maxStreamClients, streamQueue, streamStuckMs} = config.http;
	return {...address, from, token, cors, maxStreamClients, streamQueue, streamStuckMs};
}
