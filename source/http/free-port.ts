import net from 'node:net';

// `--demo` serves the dashboard on 127.0.0.1:5004, or on the next port when another program (or
// another demo) has that one: the first of a few that a listener can take, found by trying.

/** The first port from `from` (of `tries`) that can be listened on at `host`; undefined if none. */
export async function firstFreePort(host: string, from: number, tries = 20): Promise<number | undefined> {
	for (let port = from; port < from + tries && port <= 65_535; port++) {
		// eslint-disable-next-line no-await-in-loop
		if (await canListen(host, port)) {
			return port;
		}
	}

	return undefined;
}

async function canListen(host: string, port: number): Promise<boolean> {
	return new Promise(resolve => {
		const probe = net.createServer();
		probe.once('error', () => {
			resolve(false);
		});
		probe.listen({host, port, exclusive: true}, () => {
			probe.close(() => {
				resolve(true);
			});
		});
	});
}
