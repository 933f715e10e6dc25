import {readFileSync} from 'node:fs';
import net from 'node:net';
import {hostname} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {LogioPublisher, encodeLog, parseLogioUrl} from '../source/publish/logio.js';
import {freePort, until} from './support/logio-peers.js';
import {collect, corpus, run, start} from './support/logmon.js';

const stops: Array<() => void | Promise<void>> = [];
afterEach(async () => {
	await Promise.all(stops.splice(0).map(async s => s()));
});

/** A logio publisher endpoint that keeps each connection's bytes. */
async function sink(onConnection?: (socket: net.Socket, index: number) => void, port = 0) {
	const connections: string[] = [];
	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		const i = connections.push('') - 1;
		socket.setEncoding('utf8').on('data', (d: string) => {
			connections[i] += d;
		});
		socket.on('error', () => {
			// Destroyed on purpose in some tests.
		});
		onConnection?.(socket, i);
	});
	await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve));
	stops.push(async () => {
		server.close();
		for (const socket of sockets) {
			socket.destroy();
		}
	});
	return {server, connections, port: (server.address() as net.AddressInfo).port};
}

const stampless = (text: string) => text.replaceAll(/"time":"[^"]*"/g, '"time":"T"');

describe('logmon publish --to logio://', () => {
	test('the URL: proc defaults to stdin, host to this machine', () => {
		expect(parseLogioUrl(new URL('logio://logs:7801?app=shop'))).toEqual({host: 'logs', port: 7801, topic: {app: 'shop', proc: 'stdin', host: hostname()}});
		expect(parseLogioUrl(new URL('logio://[::1]?app=a&proc=web&host=h1'))).toEqual({host: '::1', port: 7701, topic: {app: 'a', proc: 'web', host: 'h1'}});
	});

	test('a value never passes the listener\'s cap', () => {
		const value = encodeLog('\u0001'.repeat(400_000), 0, 1024 * 1024);
		expect(Buffer.byteLength(value)).toBeLessThanOrEqual(1024 * 1024);
		expect(JSON.parse(value)).toMatchObject({time: '1970-01-01T00:00:00.000Z'});
	});

	test('stdin lines go out as the topic then concatenated {"time","raw"} values', async () => {
		const {connections, port} = await sink();
		const result = await run(['publish', '--to', `logio://127.0.0.1:${port}?app=shop&proc=web`], {input: 'one\ntwo "quoted"\nthree ünïcödé'});
		expect(result.code).toBe(0);
		expect(result.stderr).toBe('');
		await until(() => connections[0]?.includes('three') ?? false, 'the last line');
		expect(stampless(connections[0]!)).toBe(
			JSON.stringify({app: 'shop', proc: 'web', host: hostname()})
			+ ['one\n', 'two "quoted"\n', 'three ünïcödé\n'].map(raw => stampless(JSON.stringify({time: 'x', raw}))).join(''),
		);
		const time = /"time":"([^"]*)"/.exec(connections[0]!)![1]!;
		expect(Math.abs(Date.parse(time) - Date.now())).toBeLessThan(60_000);
	});

	test('the original server\'s `EOF` after a clean close is not reported', async () => {
		// The original answers a publisher's end of stream with the text of io.EOF, then closes.
		const {connections, port} = await sink(socket => {
			socket.on('end', () => {
				socket.end('EOF');
			});
		});
		const result = await run(['publish', '--to', `logio://127.0.0.1:${port}?app=shop`], {input: 'one\ntwo\n'});
		expect(result.code).toBe(0);
		expect(result.stderr).toBe('');
		expect(connections[0]).toContain('two\\n');
	});

	test('an app is required', async () => {
		const result = await run(['publish', '--to', 'logio://127.0.0.1:1']);
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(/needs \?app=NAME/);
	});

	test('nobody listening: exit 0 at end of input, the lines not sent are counted on stderr', async () => {
		const port = await freePort();
		const result = await run(['publish', '--to', `logio://127.0.0.1:${port}?app=a`], {input: 'a\nb\nc\n'});
		expect(result.code).toBe(0);
		expect(result.stderr).toMatch(/cannot send to 127\.0\.0\.1:\d+ \(connection refused\); retrying/);
		expect(result.stderr).toMatch(/3 of 3 lines could not be sent/);
	});

	test('long lines: past queueBytes, logs are dropped with a count while the server is away, and the caller waits while it is there', async () => {
		// 32 MiB and lines of up to 1 MiB, scaled down 16 times.
		const port = await freePort();
		const publisher = new LogioPublisher({host: '127.0.0.1', port, topic: {app: 'a', proc: 'p', host: 'h'}, queueBytes: 2 * 1024 * 1024, backoff: {initialMs: 20, maxMs: 50}});
		const line = (i: number): string => `${i} `.padEnd(64 * 1024, 'x') + '\n';
		const value = Buffer.byteLength(encodeLog(line(100), 0));
		// Nobody listening: nobody waits (a live `tail -f |` must not block), and what passes the bytes is dropped.
		const kept: number[] = [];
		for (let i = 0; i < 100; i++) {
			expect(publisher.full).toBe(false);
			if (publisher.send(line(i))) {
				kept.push(i);
			}
		}

		expect(publisher.isConnected).toBe(false);
		expect(publisher.queuedBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
		expect(kept.length).toBeGreaterThan(20);
		expect(kept.length).toBeLessThan(40);
		expect(publisher.dropped).toBe(100 - kept.length);

		// With a server, the caller is asked to wait past the bytes: nothing more is dropped.
		const {connections} = await sink(undefined, port);
		await until(() => publisher.isConnected, 'connected');
		let most = 0;
		for (let i = 100; i < 300; i++) {
			if (publisher.full) {
				await publisher.drained(); // eslint-disable-line no-await-in-loop
			}

			expect(publisher.send(line(i))).toBe(true);
			kept.push(i);
			most = Math.max(most, publisher.queuedBytes);
		}

		expect(most).toBeLessThan(2 * 1024 * 1024 + value);
		expect(await publisher.close()).toEqual({sent: kept.length, dropped: 100 - (kept.length - 200)});
		const received = (): number[] => [...connections.join('').matchAll(/"raw":"(\d+) /g)].map(m => Number(m[1]));
		await until(() => received().length === kept.length, 'every kept line received');
		expect(received()).toEqual(kept);
	});

	test('reconnects after the server drops it and sends the topic again', async () => {
		const {connections, port} = await sink((socket, i) => {
			if (i === 0) {
				socket.once('data', () => {
					// Wait for the first line, then drop the publisher.
					const check = setInterval(() => {
						if (connections[0]!.includes('first')) {
							clearInterval(check);
							socket.destroy();
						}
					}, 5);
				});
			}
		});
		const child = start(['publish', '--to', `logio://127.0.0.1:${port}?app=a&proc=p&host=h`]);
		stops.push(() => {
			child.kill('SIGKILL');
		});
		const done = collect(child);
		child.stdin!.write('first\n');
		await until(() => connections.length === 2 || (connections[0]?.includes('first') ?? false), 'the first line');
		// Written around the drop. With no acks it may arrive, be counted as not sent, or be lost
		// in the dying connection's buffers (as with any logio client); only the count is checked.
		child.stdin!.write('second\n');
		await until(() => connections.length === 2 && connections[1]!.startsWith('{"app":"a","proc":"p","host":"h"}'), 'the second connection and its topic', 30_000);
		child.stdin!.end('third\n');
		const result = await done;
		expect(result.code).toBe(0);
		expect(connections[1]).toContain('"raw":"third\\n"');
		const lost = /(\d+) of 3 lines could not be sent/.exec(result.stderr);
		expect(lost === null || lost[1] === '1').toBe(true);
		expect(connections[0]).toContain('"raw":"first\\n"');
	});
});

describe('end to end: logmon publish -> logmon --listen --serve-subscribers -> logmon --logio', () => {
	test('the same lines come out of the listener\'s pipe and out of a subscribing logmon', async () => {
		const server = start(['--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0', '--serve-subscribers', '127.0.0.1:0']);
		stops.push(() => {
			server.kill('SIGKILL');
		});
		let serverOut = '';
		let serverErr = '';
		server.stdout!.on('data', (d: Buffer) => {
			serverOut += d.toString();
		});
		server.stderr!.on('data', (d: Buffer) => {
			serverErr += d.toString();
		});
		await until(() => /listening on 127\.0\.0\.1:\d+/.test(serverErr) && /serving logio subscribers on \S+/.test(serverErr), 'both ports on stderr');
		const listenPort = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(serverErr)![1]);
		const fanoutUrl = /serving logio subscribers on (\S+)/.exec(serverErr)![1]!;

		const reader = start(['--no-ui', '-o', 'raw', '--logio', `${fanoutUrl}?app=%5Eshop%24`]);
		stops.push(() => {
			reader.kill('SIGKILL');
		});
		let readerOut = '';
		reader.stdout!.on('data', (d: Buffer) => {
			readerOut += d.toString();
		});

		// The reader is subscribed once a probe line comes through.
		const to = `logio://127.0.0.1:${listenPort}?app=shop&proc=web`;
		for (let tries = 0; !readerOut.includes('probe'); tries++) {
			expect(tries).toBeLessThan(30);
			await run(['publish', '--to', to], {input: 'probe\n'});
			await until(() => readerOut.includes('probe'), 'a probe line at the reader', 1000).catch(() => undefined);
		}

		const lines = readFileSync(path.join(corpus, 'Apache_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
		const published = await run(['publish', '--to', to], {input: lines.join('\n') + '\n'});
		expect(published.code).toBe(0);
		expect(published.stderr).toBe('');
		const withoutProbes = (text: string) => text.split('\n').filter(l => l !== 'probe').join('\n');
		await until(() => withoutProbes(readerOut) === lines.join('\n') + '\n', 'every line at the reader', 30_000);
		expect(withoutProbes(serverOut)).toBe(lines.join('\n') + '\n');
	});
});
