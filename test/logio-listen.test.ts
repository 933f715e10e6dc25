import {readFileSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {type SourceHandle} from '../source/core/bus.js';
import {logioListenConfig} from '../source/config/logio.js';
import {LogioListenSource} from '../source/sources/logio-listen.js';
import {LogioPublisher} from '../source/publish/logio.js';
import {createFormatter} from '../source/sinks/format.js';
import {collectingBus, deps, until} from './support/logio-peers.js';
import {collect, corpus, start, waitFor} from './support/logmon.js';

type Details = {count: number; total: number; rejected: number; list: Array<{app: string; proc: string; host: string; remote: string; events: number}>};

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(stops.splice(0).map(async s => s()));
});

async function listener(extra: Record<string, unknown> = {}) {
	const {bus, events} = collectingBus();
	const source = new LogioListenSource('logio-listen', logioListenConfig.parse({type: 'logio-listen', listen: '127.0.0.1:0', ...extra}), deps);
	const handle = bus.addSource(source.id, source.kind);
	await source.start(handle);
	stops.push(async () => source.stop());
	expect(handle.health.state).toBe('live');
	const port = source.address!.port;
	const details = (): Details => handle.health.details['publishers'] as Details;
	return {bus, events, source, handle, port, details};
}

/** A raw publisher socket that records what the server writes back and when it closes. */
async function rawPublisher(port: number) {
	const socket = net.connect(port, '127.0.0.1');
	await new Promise(resolve => socket.once('connect', resolve));
	const state = {reply: '', closed: false};
	socket.setEncoding('utf8');
	socket.on('data', (d: string) => {
		state.reply += d;
	});
	socket.on('error', () => {
		// The server may reset a connection it rejected while we still write.
	});
	socket.on('close', () => {
		state.closed = true;
	});
	return {socket, state};
}

const topic = JSON.stringify({app: 'myapp', proc: 'web', host: 'foobar'});
const log = (raw: string, time = '2016-12-06T17:14:21.448912-05:00') => JSON.stringify({time, raw});

describe('logio-listen source', () => {
	test('topic then concatenated logs become events; nothing is inherited from the previous log', async () => {
		const {events, port, details, handle} = await listener();
		const p = await rawPublisher(port);
		const before = Date.now();
		// No separator between values, as the Go client writes them.
		p.socket.write(topic + log('2016/12/06 17:14:21 ERROR first\n') + JSON.stringify({raw: 'second, no time\n'}) + JSON.stringify({time: '2016-12-06T22:00:00Z'}) + log('third\n'));
		await until(() => events.length === 3, 'three events');
		expect(events[0]).toMatchObject({
			time: Date.UTC(2016, 11, 6, 22, 14, 21, 448), service: 'myapp', proc: 'web', host: 'foobar',
			level: 'ERROR', raw: '2016/12/06 17:14:21 ERROR first', message: '2016/12/06 17:14:21 ERROR first', sourceKind: 'logio-listen',
		});
		// No time: the receive time, not the first log's time.
		expect(events[1]!.raw).toBe('second, no time');
		expect(events[1]!.time).toBeGreaterThanOrEqual(before);
		// No raw: skipped and counted, not given the previous raw.
		expect(events[2]!.raw).toBe('third');
		expect(handle.health.parseErrors).toBe(1);
		expect(handle.health.lastParseError).toMatch(/without "raw"/);
		expect(details()).toMatchObject({count: 1, list: [{app: 'myapp', proc: 'web', host: 'foobar', events: 3}]});
		p.socket.end();
		await until(() => details().count === 0, 'the publisher to leave');
	});

	test('a missing topic key is empty, not the previous connection\'s value', async () => {
		const {events, port} = await listener();
		const a = await rawPublisher(port);
		a.socket.end(topic + log('a\n'));
		await until(() => events.length === 1, 'first');
		const b = await rawPublisher(port);
		b.socket.end(JSON.stringify({app: 'other'}) + log('b\n'));
		await until(() => events.length === 2, 'second');
		expect(events[1]).toMatchObject({service: 'other', proc: '', host: '', raw: 'b'});
	});

	test('CR LF: raw keeps the CR as published, the message shown and the level do without it', async () => {
		const {events, port} = await listener();
		const p = await rawPublisher(port);
		p.socket.end(topic + log('2016/12/06 17:14:21 ERROR from windows\r\n') + log('multi\r\nline\r\n'));
		await until(() => events.length === 2, 'two events');
		expect(events[0]).toMatchObject({raw: '2016/12/06 17:14:21 ERROR from windows\r', message: '2016/12/06 17:14:21 ERROR from windows', level: 'ERROR'});
		expect(events[1]!.raw).toBe('multi\r\nline\r');
		expect(events[1]!.message).not.toMatch(/\r|\\x0d$/);
		// -o raw: the bytes into a pipe; on a terminal, and in a template, the line end is not shown.
		const raw = async (toTerminal: boolean) => createFormatter({format: 'raw', colorLevel: 0, toTerminal});
		expect((await raw(false))(events[0]!)).toBe('2016/12/06 17:14:21 ERROR from windows\r');
		expect((await raw(true))(events[0]!)).toBe('2016/12/06 17:14:21 ERROR from windows');
		expect((await createFormatter({format: 'template', template: '[{raw}]', colorLevel: 0, toTerminal: false}))(events[0]!)).toBe('[2016/12/06 17:14:21 ERROR from windows]');
	});

	test('NDJSON works too, and values split at every byte arrive whole', async () => {
		const {events, port} = await listener();
		const p = await rawPublisher(port);
		const bytes = Buffer.from(topic + '\n' + log('ünïcödé 🎉 line\n') + '\n' + log('two\n') + '\n');
		for (const byte of bytes) {
			p.socket.write(Buffer.from([byte]));
		}

		await until(() => events.length === 2, 'two events');
		expect(events.map(e => e.raw)).toEqual(['ünïcödé 🎉 line', 'two']);
		p.socket.end();
	});

	test.each([
		['garbage bytes', Buffer.from('\u00ff\u00fe garbage'), /invalid character/],
		['a NUL byte between values', Buffer.from('\u0000'), /invalid character '\\x00'/],
		['a NUL byte inside a string', Buffer.from('{"time":"2016-12-06T17:14:21Z","raw":"a\u0000b"}'), /control character|not valid JSON|Unexpected/i],
		['deep nesting', Buffer.from('{"raw":' + '['.repeat(5000)), /nested deeper than/],
		['a log of the wrong type', Buffer.from('[1,2]'), /a log must be an object/],
		['a raw that is not a string', Buffer.from('{"raw":42}'), /"raw" must be a string/],
	])('%s: counted, the error text written back, that connection closed, others unaffected', async (_name, bad, reason) => {
		const {events, port, handle, details} = await listener();
		const good = await rawPublisher(port);
		good.socket.write(JSON.stringify({app: 'good'}) + log('before\n'));
		const evil = await rawPublisher(port);
		evil.socket.write(topic + log('fine\n'));
		await until(() => events.length === 2, 'the first logs');
		evil.socket.write(bad);
		await until(() => evil.state.closed, 'the bad connection to be closed');
		expect(evil.state.reply).toMatch(reason);
		expect(handle.health.parseErrors).toBe(1);
		expect(handle.health.lastParseError).toMatch(reason);
		expect(details().rejected).toBe(1);
		good.socket.write(log('after\n'));
		await until(() => events.length === 3, 'the good publisher to go on');
		expect(events.map(e => `${e.service}:${e.raw}`)).toEqual(['good:before', 'myapp:fine', 'good:after']);
		good.socket.end();
	});

	test('a first value that is not a topic object closes the connection', async () => {
		const {port, handle} = await listener();
		const p = await rawPublisher(port);
		p.socket.write('"just a string"');
		await until(() => p.state.closed, 'close');
		expect(p.state.reply).toMatch(/first value must be the topic/);
		expect(handle.health.parseErrors).toBe(1);
	});

	test('an invalid time is counted and the receive time used; the connection stays open', async () => {
		const {events, port, handle} = await listener();
		const p = await rawPublisher(port);
		const before = Date.now();
		p.socket.write(topic + log('bad time\n', 'yesterday at noon') + log('ok\n'));
		await until(() => events.length === 2, 'both logs');
		expect(events[0]!.time).toBeGreaterThanOrEqual(before);
		expect(handle.health.parseErrors).toBe(1);
		expect(handle.health.lastParseError).toMatch(/invalid time "yesterday at noon"/);
		expect(p.state.closed).toBe(false);
		p.socket.end();
	});

	test('a value that never closes is cut at 1 MiB: counted, connection dropped with a clear error, memory bounded', async () => {
		const {port, handle, source} = await listener();
		const p = await rawPublisher(port);
		p.socket.write(topic + '{"time":"2016-12-06T17:14:21Z","raw":"');
		const chunk = Buffer.alloc(64 * 1024, 'a');
		let written = 0;
		// Keep writing like a runaway publisher; the server must give up at the cap.
		while (!p.state.closed && written < 64 * 1024 * 1024) {
			if (!p.socket.write(chunk)) {
				await Promise.race([new Promise(resolve => p.socket.once('drain', resolve)), until(() => p.state.closed, 'close')]);
			}

			written += chunk.length;
		}

		await until(() => p.state.closed, 'close');
		expect(p.state.reply).toMatch(/a JSON value is longer than 1048576 bytes/);
		expect(handle.health.parseErrors).toBe(1);
		await until(() => source.connected().length === 0, 'the server to forget the connection');
	});

	test('a connection that ends inside a value is counted', async () => {
		const {port, handle} = await listener();
		const p = await rawPublisher(port);
		p.socket.end(topic + '{"time":"2016-12-06T17:14:21Z","ra');
		await until(() => handle.health.parseErrors === 1, 'the count');
		expect(handle.health.lastParseError).toMatch(/ended inside a JSON value/);
	});

	test('10,000 publishers connecting and leaving leave nothing behind', async () => {
		const {events, port, source, details} = await listener();
		const wave = 200;
		for (let w = 0; w < 10_000 / wave; w++) {
			await Promise.all(Array.from({length: wave}, async (_, i) => {
				const socket = net.connect(port, '127.0.0.1');
				socket.on('error', () => {
					// A reset while leaving is fine.
				});
				await new Promise(resolve => socket.once('connect', resolve));
				socket.end(JSON.stringify({app: `app${i % 7}`, proc: 'p', host: 'h'}) + log(`hello ${w}-${i}\n`));
				await new Promise(resolve => socket.once('close', resolve));
			}));
		}

		await until(() => events.length === 10_000 && details().count === 0, 'every publisher to be counted and gone');
		expect(details()).toMatchObject({count: 0, total: 10_000, rejected: 0, list: []});
		expect(source.connected()).toHaveLength(0);
	});

	test('several concurrent publishers: every line, in order per publisher', async () => {
		const {events, port, details} = await listener();
		const lines = readFileSync(path.join(corpus, 'Zookeeper_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
		const publishers = Array.from({length: 4}, (_, i) => new LogioPublisher({host: '127.0.0.1', port, topic: {app: `app${i}`, proc: 'web', host: 'h'}}));
		await until(() => publishers.every(p => p.isConnected), 'publishers to connect');
		for (const line of lines) {
			for (const p of publishers) {
				p.send(line + '\n');
			}
		}

		const results = await Promise.all(publishers.map(async p => p.close()));
		expect(results.every(r => r.dropped === 0 && r.sent === lines.length)).toBe(true);
		await until(() => events.length === 4 * lines.length, 'every line');
		for (let i = 0; i < 4; i++) {
			expect(events.filter(e => e.service === `app${i}`).map(e => e.raw)).toEqual(lines);
		}

		await until(() => details().count === 0, 'publishers gone');
	});

	test('binding anything but loopback takes an explicit address and warns that there is no authentication', async () => {
		const {bus, source} = await listener({listen: '0.0.0.0:0'});
		expect(source.address!.host).toBe('0.0.0.0');
		expect(bus.diagnostics.recent(10).map(d => d.text).join('\n')).toMatch(/no authentication/);
	});

	test('a port in use fails the source with a reason', async () => {
		const {port} = await listener();
		const {bus} = collectingBus();
		const second = new LogioListenSource('second', logioListenConfig.parse({type: 'logio-listen', listen: `127.0.0.1:${port}`}), deps);
		const handle: SourceHandle = bus.addSource(second.id, second.kind);
		await second.start(handle);
		expect(handle.health.state).toBe('failed');
		expect(handle.health.reason).toMatch(/address already in use/);
	});
});

describe('logmon --listen (the built binary)', () => {
	test('publisher -> listener -> pipe output, exact', async () => {
		const child = start(['--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0']);
		try {
			const seen = await waitFor(child.stderr!, /listening on 127\.0\.0\.1:(\d+)/);
			const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(seen)![1]);
			const lines = readFileSync(path.join(corpus, 'HDFS_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
			const out = collect(child, 60_000);
			let stdout = '';
			child.stdout!.on('data', (d: Buffer) => {
				stdout += d.toString();
			});
			const p = new LogioPublisher({host: '127.0.0.1', port, topic: {app: 'hdfs', proc: 'datanode', host: 'h1'}});
			for (const line of lines) {
				p.send(line + '\n');
			}

			expect(await p.close()).toEqual({sent: lines.length, dropped: 0});
			await until(() => stdout.split('\n').length > lines.length, 'every line on stdout', 30_000);
			child.kill('SIGTERM');
			const result = await out;
			expect(result.stdout).toBe(lines.join('\n') + '\n');
		} finally {
			child.kill('SIGKILL');
		}
	});

	test('-o json carries app, proc, host and the publisher time', async () => {
		const child = start(['--no-ui', '-o', 'json', '--listen', '127.0.0.1:0']);
		try {
			const seen = await waitFor(child.stderr!, /listening on 127\.0\.0\.1:(\d+)/);
			const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(seen)![1]);
			const out = waitFor(child.stdout!, '\n');
			const socket = net.connect(port, '127.0.0.1');
			socket.end(topic + log('2016/12/06 17:14:21 WARN disk low\n'));
			const json = JSON.parse((await out).split('\n')[0]!) as Record<string, unknown>;
			expect(json).toMatchObject({time: '2016-12-06T22:14:21.448Z', kind: 'logio-listen', service: 'myapp', proc: 'web', host: 'foobar', level: 'WARN', raw: '2016/12/06 17:14:21 WARN disk low'});
		} finally {
			child.kill('SIGKILL');
		}
	});
});

describe('the embedded default', () => {
	test('with no source configured and nothing on stdin, logmon is a logio server on 127.0.0.1:7701', async () => {
		const child = start(['--no-ui', '--no-stdin', '-o', 'template', '--template', '{service}[{proc}] {host}: {message}']);
		try {
			await waitFor(child.stderr!, 'listening on 127.0.0.1:7701 for logio publishers');
			let stdout = '';
			child.stdout!.on('data', (d: Buffer) => {
				stdout += d.toString();
			});
			const p = new LogioPublisher({host: '127.0.0.1', port: 7701, topic: {app: 'shop', proc: 'web', host: 'h1'}});
			p.send('hello from the default\n');
			expect(await p.close()).toEqual({sent: 1, dropped: 0});
			await until(() => stdout.includes('\n'), 'the line on stdout');
			expect(stdout).toBe('shop[web] h1: hello from the default\n');
		} finally {
			child.kill('SIGKILL');
		}
	});
});
