import {isIP} from 'node:net';

// `[HOST:]PORT` for --http and http.listen, and whether a host is loopback (where no token is needed).
// Pure: no socket is opened here.

export const defaultHttpHost = '127.0.0.1';
export const defaultHttpPort = 5004;

export type ListenAddress = {host: string; port: number};

/** `5004`, `:5004`, `0.0.0.0:5004`, `[::1]:5004`, `localhost:5004`; undefined when it is none of these. */
export function parseListen(text: string): ListenAddress | undefined {
	const m = /^(?:\[([^\]]+)\]:|([^:[\]]*):)?(\d{1,5})$/.exec(text.trim());
	if (!m) {
		return undefined;
	}

	const port = Number(m[3]);
	if (port > 65_535) {
		return undefined;
	}

	const host = m[1] ?? m[2] ?? '';
	if (m[1] !== undefined && isIP(m[1]) !== 6) {
		return undefined;
	}

	return {host: host === '' ? defaultHttpHost : host, port};
}

/** True for 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
	const h = host.toLowerCase();
	return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** `host:port` as a URL authority. */
export function formatAddress(a: ListenAddress): string {
	return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
