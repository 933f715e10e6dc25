import type net from 'node:net';
import {type SourceHandle} from '../core/bus.js';
import {type HostPort, parseHostPort} from '../config/logio.js';

// Binding a listener (OTLP, logio publishers, logio subscribers, `serve`): the one-time 'error'
// of a failed bind becomes a rejection; errors after that are the caller's to handle.

/** A listener's `listen` setting as host and port; undefined, the source failed and saying why, when it is not one. */
export function listenAddress(listen: string, handle: SourceHandle): HostPort | undefined {
	try {
		return parseHostPort(listen);
	} catch (error) {
		handle.setState('failed', `listen: ${(error as Error).message}`);
		return undefined;
	}
}

/** Starts `server` on host:port; resolves with the port it got (for port 0, the one the system picked). */
export async function listen(server: net.Server, host: string, port: number): Promise<number> {
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen({host, port}, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const bound = server.address();
	return typeof bound === 'object' && bound ? bound.port : port;
}

/** Why a listen failed, in a few words; `inUse` names who may hold the port. */
export function listenProblem(error: unknown, inUse = 'address already in use'): string {
	const e = error as NodeJS.ErrnoException;
	return e.code === 'EADDRINUSE' ? inUse : e.message;
}
