import {type ChildProcess} from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {eventually, request, serve, stop, type Served} from '../support/http.js';
import {collect, freePort, start} from '../support/logmon.js';

// `logmon --connect URL`: the built logmon reading another built logmon (`logmon serve`) over its
// HTTP API, in pipe mode (-o json) so every event it takes can be counted. A TCP relay between the
// two cuts the connection while the server keeps running; a small stream peer that repeats itself
// checks the de-duplication and what a hostile stream cannot do.

type Client = {child: ChildProcess; events(): any[]; stderr(): string};

const running: ChildProcess[] = [];

function connect(url: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Client {
	const child = start(['--connect', url, '--no-ui', '-o', 'json', ...args], {env, stdin: 'ignore'});
	running.push(child);
	let out = '';
	let err = '';
	child.stdout!.setEncoding('utf8').on('data', (d: string) => {
		out += d;
	});
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		err += d;
	});
	return {
		child,
		events: () => out.split('\n').filter(Boolean).map(line => JSON.parse(line) as unknown),
		stderr: () => err,
	};
}

afterEach(() => {
	for (const child of running.splice(0)) {
		child.kill('SIGKILL');
	}
});

function line(fields: Record<string, unknown>): string {
	return JSON.stringify(fields) + '\n';
}

async function served(s: Served, n: number): Promise<void> {
	await eventually(async () => (await request(`${s.base}/api/v1/health`)).json?.sources?.[0]?.events === n, `the server to count ${n} events`);
}

/** A TCP relay that can be cut (every connection dropped, nothing listening) and opened again on the same port. */
class Relay {
	port = 0;
	private server: net.Server | undefined;
	private readonly sockets = new Set<net.Socket>();

	constructor(private readonly target: number) {}

	async open(): Promise<void> {
		const server = net.createServer(socket => {
			const upstream = net.connect(this.target, '127.0.0.1');
			this.sockets.add(socket).add(upstream);
			socket.pipe(upstream).pipe(socket);
			const drop = (): void => {
				socket.destroy();
				upstream.destroy();
				this.sockets.delete(socket);
				this.sockets.delete(upstream);
			};

			socket.on('error', drop).on('close', drop);
			upstream.on('error', drop).on('close', drop);
		});
		await new Promise<void>(resolve => server.listen(this.port, '127.0.0.1', resolve));
		this.port = (server.address() as net.AddressInfo).port;
		this.server = server;
	}

	async cut(): Promise<void> {
		const server = this.server;
		this.server = undefined;
		for (const s of this.sockets) {
			s.destroy();
		}

		await new Promise(resolve => server?.close(resolve));
	}
}

describe('logmon --connect against logmon serve', () => {
	let s: Served;
	beforeAll(async () => {
		s = await serve(['--no-history']);
		s.child.stdin!.write(line({time: '2026-01-02T03:04:05.678Z', level: 'error', service: 'billing', host: 'web-1', message: 'card declined', order: {id: 42}}));
		s.child.stdin!.write(line({time: '2026-01-02T03:04:06.000Z', level: 'info', service: 'shop', host: 'web-2', message: 'cart saved'}));
		s.child.stdin!.write(line({time: '2026-01-02T03:04:07.000Z', level: 'warn', service: 'billing', host: 'web-1', message: 'slow card network'}));
		await served(s, 3);
	});
	afterAll(async () => {
		await stop(s);
	});

	it('starts with the backlog, then live; events keep their service, host, level, time and record', async () => {
		const c = connect(s.base);
		await eventually(async () => c.events().length === 3, 'the backlog');
		s.child.stdin!.write(line({time: '2026-01-02T03:04:08.000Z', level: 'critical', service: 'billing', host: 'web-3', message: 'ledger down', code: 'L9'}));
		const events = await eventually(async () => c.events().length === 4 && c.events(), 'the live event');
		expect(events.map(e => e.message)).toEqual(['card declined', 'cart saved', 'slow card network', 'ledger down']);
		expect(events[0]).toMatchObject({source: 'connect', kind: 'connect', service: 'billing', host: 'web-1', level: 'ERROR', time: '2026-01-02T03:04:05.678Z'});
		expect(events[0].record).toMatchObject({order: {id: 42}, message: 'card declined'});
		expect(events[3]).toMatchObject({service: 'billing', host: 'web-3', level: 'CRITICAL', time: '2026-01-02T03:04:08.000Z'});
		expect(events[3].record).toMatchObject({code: 'L9'});
		await served(s, 4);
	});

	it('filters locally like any source (--level), and passes URL parameters on as the remote filter', async () => {
		const local = connect(s.base, ['--level', 'error']);
		const remote = connect(`${s.base}/?service=shop`);
		await eventually(async () => local.events().length === 2 && remote.events().length === 1, 'both views');
		expect(local.events().map(e => e.message)).toEqual(['card declined', 'ledger down']);
		expect(remote.events().map(e => e.message)).toEqual(['cart saved']);
	});

	it('resumes with Last-Event-ID after a cut connection: a gap marker, what it missed, nothing twice; the remote health in its own health', async () => {
		const relay = new Relay(s.port);
		await relay.open();
		const clientHttp = await freePort();
		const c = connect(`http://127.0.0.1:${relay.port}`, ['--http', `127.0.0.1:${clientHttp}`]);
		const health = async (): Promise<any> => (await request(`http://127.0.0.1:${clientHttp}/api/v1/health`)).json?.sources?.[0];
		await eventually(async () => c.events().length === 4, 'the backlog');
		const up = await eventually(async () => {
			const h = await health();
			return h?.details?.remote && h;
		}, 'the remote\'s health read');
		expect(up).toMatchObject({id: 'connect', kind: 'connect', state: 'live', details: {backlog: 4, remote: {status: 'ok', sources: [{id: 'stdin', kind: 'stdin', state: 'live'}]}}});

		await relay.cut();
		await eventually(async () => (await health())?.state === 'retrying', 'the client to notice');
		for (const n of [1, 2, 3]) {
			s.child.stdin!.write(line({level: 'info', service: 'shop', message: `while away ${n}`}));
		}

		await served(s, 7);
		await relay.open();
		await eventually(async () => c.events().filter(e => !e.marker).length === 7, 'the missed events');
		s.child.stdin!.write(line({level: 'info', service: 'shop', message: 'after the resume'}));
		const events = await eventually(async () => c.events().some(e => e.message === 'after the resume') && c.events(), 'a live event after the resume');
		const messages = events.map(e => e.marker ? `[${e.marker}]` : e.message);
		expect(messages.slice(4)).toEqual(['[gap]', 'while away 1', 'while away 2', 'while away 3', 'after the resume']);
		expect(new Set(messages).size).toBe(messages.length);
		expect(events[4].message).toMatch(/^connect: disconnected \d\d:\d\d:\d\d.*, lines may be missing$/);
		const after = await health();
		expect(after).toMatchObject({state: 'live', reconnects: 1, drops: 0});
		await relay.cut();
	});
});

describe('logmon --connect: a token', () => {
	const token = 'connect-test-token-0123456789';
	let s: Served;
	beforeAll(async () => {
		s = await serve(['--no-history', '--http-token', token]);
		s.child.stdin!.write('a line behind a token\n');
	});
	afterAll(async () => {
		await stop(s);
	});

	it('without it: failed, exit 1, and the message says how to give one', async () => {
		const child = start(['--connect', s.base, '--no-ui'], {stdin: 'ignore'});
		const r = await collect(child);
		expect(r.code).toBe(1);
		expect(r.stderr).toMatch(/connect: .*HTTP 401.*--token/);
		expect(r.stderr).not.toContain(token);
	});

	it('with --token or LOGMON_HTTP_TOKEN', async () => {
		const byFlag = connect(s.base, ['--token', token]);
		const byEnv = connect(s.base, [], {LOGMON_HTTP_TOKEN: token});
		await eventually(async () => byFlag.events().length === 1 && byEnv.events().length === 1, 'the event through both');
		expect(byFlag.events()[0].message).toBe('a line behind a token');
	});

	it('warns when the token would cross a network in clear text', async () => {
		// 0.0.0.0 reaches this machine on Linux, but is not a loopback name: as a remote host would be.
		const c = connect(`http://0.0.0.0:${s.port}`, ['--token', token]);
		await eventually(async () => c.events().length === 1, 'the event');
		expect(c.stderr()).toMatch(/connect: the token goes to 0\.0\.0\.0 in clear text \(http:\/\/\); put TLS in front of it/);
		expect(c.stderr()).not.toContain(token);
	});
});

describe('logmon --connect: usage errors', () => {
	it('--token alone', async () => {
		const r = await collect(start(['--token', 'connect-test-token-0123456789', '--no-ui'], {stdin: 'ignore'}));
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/--token: only with --connect/);
	});

	it('a connection to this run\'s own HTTP server', async () => {
		const r = await collect(start(['serve', '--connect', 'http://localhost:5004'], {stdin: 'ignore'}));
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/--connect: http:\/\/localhost:5004 is this logmon's own HTTP server \(logmon serve\); it would read its own events back forever/);
	});

	it('a URL that is not http or https', async () => {
		const r = await collect(start(['--connect', 'ftp://logbox:5004', '--no-ui'], {stdin: 'ignore'}));
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/--connect.*expected an http:\/\/ or https:\/\/ URL/);
	});
});

describe('logmon --connect against a stream that repeats itself and sends junk', () => {
	type Peer = {server: http.Server; port: number; lastEventIds: Array<string | undefined>};
	const esc = '\u001B';

	/** Each connection: events 1..n from the start whatever Last-Event-ID says, then the connection ends (first) or stays. */
	async function peer(): Promise<Peer> {
		const lastEventIds: Array<string | undefined> = [];
		const server = http.createServer((req, res) => {
			if (req.url !== '/api/v1/stream') {
				res.writeHead(404, {'Content-Type': 'application/json'}).end('{"error":"no such path"}');
				return;
			}

			lastEventIds.push(req.headers['last-event-id'] as string | undefined);
			const first = lastEventIds.length === 1;
			res.writeHead(200, {'Content-Type': 'text/event-stream'});
			let body = 'retry: 100\n\n';
			for (let n = 1; n <= (first ? 3 : 5); n++) {
				body += `id: 1000-${n}\ndata: ${JSON.stringify({id: `1000-${n}`, time: '2026-01-02T03:04:05.000Z', service: `svc${esc}[31m`, host: 'h', level: 'INFO', message: `event ${n}`, raw: `event ${n}`})}\n\n`;
			}

			if (!first) {
				body += 'data: not json\n\n';
				body += `data: ${'x'.repeat(2 * 1024 * 1024)}\n\n`;
				body += `data: ${JSON.stringify({id: '1000-6', level: 'NOPE', message: 'six', time: 'never'})}\n\n`;
			}

			if (first) {
				res.end(body);
			} else {
				res.write(body);
			}
		});
		await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
		return {server, port: (server.address() as net.AddressInfo).port, lastEventIds};
	}

	it('takes each event id once, sends the last id on reconnect, and counts what it cannot read', async () => {
		const p = await peer();
		const clientHttp = await freePort();
		const c = connect(`http://127.0.0.1:${p.port}`, ['--max-line', '65536', '--http', `127.0.0.1:${clientHttp}`]);
		const events = await eventually(async () => c.events().some(e => e.message === 'six') && c.events(), 'the second connection\'s events');
		expect(events.map(e => e.marker ? `[${e.marker}]` : e.message)).toEqual(['event 1', 'event 2', 'event 3', '[gap]', 'event 4', 'event 5', 'six']);
		expect(p.lastEventIds).toEqual([undefined, '1000-3']);
		expect(events[0].service).toBe('svc');
		// An unknown level is detected from the text; an unreadable time becomes the receive time.
		expect(events[6]).toMatchObject({level: 'INFO'});
		const h = (await request(`http://127.0.0.1:${clientHttp}/api/v1/health`)).json.sources[0];
		expect(h).toMatchObject({state: 'live', parseErrors: 3, details: {duplicates: 3}});
		p.server.closeAllConnections();
		p.server.close();
	});
});
