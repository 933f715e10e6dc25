import net from 'node:net';
import {afterEach, describe, expect, test} from 'vitest';
import {logioListenConfig} from '../source/config/logio.js';
import {LogioListenSource} from '../source/sources/logio-listen.js';
import {collectingBus, deps, until} from './support/logio-peers.js';
import {start, waitFor} from './support/logmon.js';

// The listener against local peers that try to exhaust it: idle connections that never
// send a topic, connections past the cap, and connections that each hold a large
// unfinished value.

const stops: Array<() => void | Promise<void>> = [];
afterEach(async () => {
	await Promise.all(stops.splice(0).map(async s => s()));
});

type Peer = {socket: net.Socket; reply: string; closed: boolean};

/** A connection that records what the server says and whether it was closed. */
async function peer(port: number): Promise<Peer> {
	const socket = net.connect(port, '127.0.0.1');
	const p: Peer = {socket, reply: '', closed: false};
	socket.setEncoding('utf8').on('data', (d: string) => {
		p.reply += d;
	});
	socket.on('error', () => {
		// The server may reset a connection it closed while we still write.
	});
	socket.on('close', () => {
		p.closed = true;
	});
	stops.push(() => {
		socket.destroy();
	});
	await new Promise((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	return p;
}

const topic = (app: string) => JSON.stringify({app, proc: 'p', host: 'h'});
const log = (raw: string) => JSON.stringify({time: '2016-12-06T22:14:21.448Z', raw});

describe('logmon --listen against idle connections (the built binary, default limits)', () => {
	test('1,024 idle connections: one more is told it is refused; the idle ones are closed after the topic timeout; publishers then get in', async () => {
		const child = start(['--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0'], {stdin: 'ignore'});
		stops.push(() => {
			child.kill('SIGKILL');
		});
		let stdout = '';
		child.stdout!.setEncoding('utf8').on('data', (d: string) => {
			stdout += d;
		});
		let stderr = '';
		child.stderr!.setEncoding('utf8').on('data', (d: string) => {
			stderr += d;
		});
		const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(await waitFor(child.stderr!, /listening on 127\.0\.0\.1:(\d+)/))![1]);

		// Connections that never say anything, as many as the listener takes (maxPublishers, 1024).
		const idle: Peer[] = [];
		for (let wave = 0; wave < 1024 / 128; wave++) {
			idle.push(...await Promise.all(Array.from({length: 128}, async () => peer(port))));
		}

		// A real publisher past the cap is told why, instead of a connect that silently loses its data.
		const late = await peer(port);
		late.socket.write(topic('late') + log('lost?\n'));
		await until(() => late.closed, 'the refused publisher to be closed');
		expect(late.reply).toMatch(/too many publishers connected \(1024\); try again later/);

		// No topic within the timeout (5 s): each idle connection is told and closed.
		await until(() => idle.every(p => p.closed), 'the idle connections to be closed', 30_000);
		expect(idle.filter(p => !/no topic \{"app","proc","host"\} within 5000 ms/.test(p.reply))).toEqual([]);
		expect(stderr).toMatch(/refused 1 publisher connection\(s\): 1024 already connected/);
		expect(stderr).toMatch(/closed 1 publisher connection\(s\) that sent no topic within 5000 ms/);

		// A publisher now gets through.
		const real = await peer(port);
		real.socket.end(topic('real') + log('got through\n'));
		await until(() => stdout.includes('got through\n'), 'the real publisher\'s line');
		expect(stdout).not.toContain('lost?');
	}, 60_000);
});

describe('logio-listen: one byte budget for unfinished values', () => {
	test('health shows the bytes held as an unfinished value grows, and none once it is finished', async () => {
		const {bus, events} = collectingBus();
		const source = new LogioListenSource('logio-listen', logioListenConfig.parse({type: 'logio-listen', listen: '127.0.0.1:0'}), deps);
		const handle = bus.addSource(source.id, source.kind);
		await source.start(handle);
		stops.push(async () => source.stop());
		const held = (): number => (handle.health.details['publishers'] as {partialBytes: number}).partialBytes;

		const p = await peer(source.address!.port);
		const head = '{"time":"2016-12-06T22:14:21Z","raw":"';
		p.socket.write(topic('grow') + head);
		await until(() => held() === head.length, 'the head of the value to be held');
		for (let i = 1; i <= 3; i++) {
			p.socket.write('a'.repeat(1000));
			// eslint-disable-next-line no-await-in-loop
			await until(() => held() === head.length + (i * 1000), `${i * 1000} more bytes to be held`);
		}

		p.socket.write('"}\n');
		await until(() => events.length === 1, 'the finished value');
		expect(held()).toBe(0);
	});

	test('connections holding large unfinished values: the largest are closed with the reason, the total stays within the budget, others go on', async () => {
		const budget = 8 * 1024 * 1024;
		const {bus, events} = collectingBus();
		const source = new LogioListenSource('logio-listen', logioListenConfig.parse({type: 'logio-listen', listen: '127.0.0.1:0', maxPartialBytes: budget}), deps);
		const handle = bus.addSource(source.id, source.kind);
		await source.start(handle);
		stops.push(async () => source.stop());
		const port = source.address!.port;
		type Details = {count: number; partialBytes: number; overBudget: number};
		const details = (): Details => handle.health.details['publishers'] as Details;

		// A well-behaved publisher, connected throughout.
		const good = await peer(port);
		good.socket.write(topic('good') + log('before\n'));
		await until(() => events.length === 1, 'the good publisher\'s first line');

		// Forty connections each stall inside a value of almost 1 MiB (under the per-value cap):
		// 40 MB unfinished in all, five times the budget.
		const stalled = 40;
		const head = topic('stall') + '{"time":"2016-12-06T22:14:21Z","raw":"';
		const filler = Buffer.alloc(1_000_000 - head.length, 'a');
		let peak = 0;
		const sampler = setInterval(() => {
			peak = Math.max(peak, details().partialBytes);
		}, 1);
		stops.push(() => {
			clearInterval(sampler);
		});
		const peers = await Promise.all(Array.from({length: stalled}, async () => {
			const p = await peer(port);
			p.socket.write(head);
			p.socket.write(filler);
			return p;
		}));
		// Every byte of a value sent is either held or was freed with its closed connection.
		const heldPerConnection = 1_000_000 - topic('stall').length;
		await until(() => {
			const open = peers.filter(p => !p.closed).length;
			return details().partialBytes === open * heldPerConnection && open <= Math.floor(budget / heldPerConnection);
		}, 'the listener to hold the rest and close the largest', 30_000);
		clearInterval(sampler);

		const closed = peers.filter(p => p.closed);
		expect(closed.length).toBeGreaterThanOrEqual(stalled - Math.floor(budget / heldPerConnection));
		for (const p of closed) {
			expect(p.reply).toMatch(/^this connection holds \d+ bytes of an unfinished JSON value, and unfinished values of all publishers together passed the server's budget of 8388608 bytes\n$/);
		}

		expect(details().overBudget).toBe(closed.length);
		expect(details().partialBytes).toBeLessThanOrEqual(budget);
		expect(peak).toBeLessThanOrEqual(budget);
		expect(bus.diagnostics.recent(50).map(d => d.text).join('\n')).toMatch(/closed 1 publisher connection\(s\) holding the most of an unfinished value/);

		// The good publisher was never the largest and goes on; a new one gets in.
		good.socket.write(log('after\n'));
		const fresh = await peer(port);
		fresh.socket.end(topic('fresh') + log('fresh\n'));
		await until(() => events.length === 3, 'both lines');
		expect(events.map(e => `${e.service}:${e.raw}`).sort()).toEqual(['fresh:fresh', 'good:after', 'good:before']);
		expect(good.closed).toBe(false);

		// Closing the stalled connections gives every byte back.
		for (const p of peers) {
			p.socket.destroy();
		}

		await until(() => details().partialBytes === 0, 'the budget to be free again');
	}, 60_000);
});
