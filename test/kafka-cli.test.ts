import {readFileSync} from 'node:fs';
import net from 'node:net';
import {describe, expect, test} from 'vitest';
import {parseSince} from '../source/config/kafka.js';
import {CrossTopicDedup, dedupKey} from '../source/sources/kafka-dedup.js';
import {reason} from '../source/sources/kafka.js';
import {Running} from './support/kafka-logmon.js';
import {request, serve, stop} from './support/http.js';
import {stateHome} from './support/kafka.js';
import {run} from './support/logmon.js';

// Kafka flags and the pieces that need no broker.

describe('kafka flags', () => {
	test('--since takes a duration or an RFC 3339 time', () => {
		const now = Date.parse('2025-01-02T03:04:05Z');
		expect(parseSince('10m', now)).toBe(now - 600_000);
		expect(parseSince('2h', now)).toBe(now - 7_200_000);
		expect(parseSince('2025-01-01T00:00:00Z', now)).toBe(Date.parse('2025-01-01T00:00:00Z'));
		expect(parseSince('soon', now)).toBeUndefined();
		expect(parseSince('10', now)).toBeUndefined();
	});

	test('bad combinations are usage errors', async () => {
		const bad = await run(['--no-ui', '--kafka', '127.0.0.1:1', '--since', 'yesterday']);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/since: expected a duration/);
		const both = await run(['--no-ui', '--kafka', '127.0.0.1:1', '--since', '10m', '--from-beginning']);
		expect(both.code).toBe(2);
		const orphan = await run(['--no-ui', '--exit-at-end']);
		expect(orphan.code).toBe(2);
		expect(orphan.stderr).toMatch(/need --kafka BROKERS/);
	});

	test('an unreachable broker shows retrying on stderr, never on stdout', async () => {
		const m = new Running(['--kafka', '127.0.0.1:1', '-t', 'x', '-G', 'g']);
		await m.until(() => /kafka: retrying in \d+ s \(.*ECONNREFUSED/.test(m.stderr), 'retrying');
		expect(await m.stop()).toBe(143);
		expect(m.lines).toEqual([]);
	});
});

describe('a peer that is not a Kafka broker', () => {
	// A TCP server that answers any request with a size of almost 2 GB, then streams bytes for as
	// long as it is read: kafkajs waited for all of them and logmon's heap grew until it was killed.
	test('a response declared past 100 MB closes the connection and names the peer; memory stays bounded', async () => {
		const sockets = new Set<net.Socket>();
		let asked = 0;
		const server = net.createServer(s => {
			sockets.add(s);
			s.on('error', () => {});
			s.once('data', () => {
				asked++;
				const head = Buffer.alloc(8);
				head.writeInt32BE(0x7F_FF_FF_F0, 0);
				s.write(head);
				const chunk = Buffer.alloc(1 << 20, 0x41);
				const pump = (): void => {
					while (!s.destroyed && s.write(chunk)) {
						// Fill the socket until it pushes back.
					}
				};

				s.on('drain', pump);
				pump();
			});
		});
		await new Promise<void>(resolve => {
			server.listen(0, '127.0.0.1', resolve);
		});
		const {port} = server.address() as net.AddressInfo;
		const m = new Running(['--kafka', `127.0.0.1:${port}`, '-t', 'x', '-G', 'g']);
		try {
			const named = new RegExp(`kafka: retrying in \\d+ s \\(.*127\\.0\\.0\\.1:${port} sent a response of 2147483632 bytes, past the limit of 100000000`);
			await m.until(() => named.test(m.stderr), 'the oversized response named');
			// Told once on stderr (a retry loop is not told on every attempt): a third request means a
			// second oversized response was read and let go as the first was.
			await m.until(() => asked >= 3, 'a third request');
			const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${m.child.pid}/status`, 'utf8'))?.[1]);
			expect(hwmKb).toBeLessThan(600 * 1024);
			expect(await m.stop()).toBe(143);
			expect(m.lines).toEqual([]);
		} finally {
			await m.stop();
			for (const s of sockets) {
				s.destroy();
			}

			server.close();
		}
	});
});

describe('a peer that accepts and never answers', () => {
	async function silentPeer(): Promise<{port: number; close: () => void}> {
		const sockets = new Set<net.Socket>();
		const server = net.createServer(s => {
			sockets.add(s);
			s.on('error', () => {});
		});
		await new Promise<void>(resolve => {
			server.listen(0, '127.0.0.1', resolve);
		});
		return {
			port: (server.address() as net.AddressInfo).port,
			close() {
				for (const s of sockets) {
					s.destroy();
				}

				server.close();
			},
		};
	}

	test('the source retries after 10 s, naming the peer', async () => {
		const peer = await silentPeer();
		const m = new Running(['--kafka', `127.0.0.1:${peer.port}`, '-t', 'x', '-G', 'g']);
		try {
			// kafkajs' own words name no broker; they waited 30 s a try.
			await m.until(() => new RegExp(`kafka: retrying in \\d+ s \\(127\\.0\\.0\\.1:${peer.port}: no answer within 10 s \\(Broker not connected\\)\\)`).test(m.stderr), 'retrying, with the peer named');
			expect(await m.stop()).toBe(143);
		} finally {
			await m.stop();
			peer.close();
		}
	});

	test('a kafka forwarder shows connecting, not live, and stops without waiting for it', async () => {
		const peer = await silentPeer();
		const served = await serve(['--forward', `kafka://127.0.0.1:${peer.port}/logs`], {env: {XDG_STATE_HOME: stateHome()}});
		try {
			const health = await request(`${served.base}/api/v1/health`);
			const forward = (health.json.forward as Array<{name: string; state: string}>).find(f => f.name === 'kafka');
			expect(forward?.state).toBe('connecting');
			served.child.stdin!.write('an event to forward\n');
			// kafkajs waits for requests it sent to a peer that never answers: the stop no longer waits with it.
			expect(await stop(served)).toBe(0);
		} finally {
			await stop(served, 'SIGKILL');
			peer.close();
		}
	});
});

test('the reason for a peer that never answered names it, with the wait of the client that gave up', () => {
	const silent = new Error('Broker not connected');
	expect(reason(silent, ['127.0.0.1:9'])).toBe('127.0.0.1:9: no answer within 10 s (Broker not connected)');
	// The kafka forwarder's client waits 15 s (its broker's wait for replicas, and 5 s more).
	expect(reason(silent, ['127.0.0.1:9'], 15_000)).toBe('127.0.0.1:9: no answer within 15 s (Broker not connected)');
	expect(reason(new Error('SASL authentication failed'), ['127.0.0.1:9'])).toBe('SASL authentication failed');
});

describe('cross-topic dedup', () => {
	test('a record on both topics is kept once; repeats on one topic are all kept', () => {
		const d = new CrossTopicDedup({windowMs: 1000});
		const k = dedupKey({timestamp: 't1'}, 'api', 'boom')!;
		expect(d.seen(k, 'logs', 0)).toBe(false);
		expect(d.seen(k, 'logs', 1)).toBe(false);
		expect(d.seen(k, 'logs-errors', 2)).toBe(true);
		expect(d.seen(k, 'logs-errors', 3)).toBe(true);
		expect(d.seen(k, 'logs-errors', 4)).toBe(false);
		expect(dedupKey({id: 7, timestamp: 't'}, 'a', 'b')).toBe('id\u00007');
		expect(dedupKey({}, 'a', 'b')).toBeUndefined();
	});

	test('memory stays bounded by the window and the cap', () => {
		const d = new CrossTopicDedup({windowMs: 1000, maxEntries: 100});
		for (let i = 0; i < 10_000; i++) {
			d.seen(`k${i}`, 'logs', i);
		}

		expect(d.size).toBeLessThanOrEqual(100);
		d.seen('late', 'logs', 1_000_000);
		expect(d.size).toBe(1);
	});
});
