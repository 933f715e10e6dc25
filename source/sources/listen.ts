import type net from 'node:net';

// Binding a listener (OTLP, logio publishers, logio subscribers, `serve`): the one-time 'error'
// of a failed bind becomes a rejection; errors after that are the caller's to handle.

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
