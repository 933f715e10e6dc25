import {readFileSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {type Bus} from '../source/core/bus.js';
import {logioListenConfig} from '../source/config/logio.js';
import {type Fanout, startFanout} from '../source/sinks/logio-fanout.js';
import {LogioListenSource} from '../source/sources/logio-listen.js';
import {LogioPublisher} from '../source/publish/logio.js';
import {collectingBus, deps, until} from './support/logio-peers.js';
import {corpus, start} from './support/logmon.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(stops.splice(0).map(async s => s()));
});

async function setup(options: Parameters<typeof startFanout>[2] = {}) {
	const {bus, events} = collectingBus();
	const source = new LogioListenSource('logio-listen', logioListenConfig.parse({type: 'logio-listen', listen: '127.0.0.1:0'}), deps);
	const handle = bus.addSource(source.id, source.kind);
	await source.start(handle);
	const fanout = await startFanout(bus, '127.0.0.1:0', {hostname: 'logmon-host', ...options});
	stops.push(async () => fanout.close(), async () => source.stop());
	return {bus, events, handle, port: source.address!.port, fanout};
}

/** A subscriber over a raw socket: sees exactly the bytes the server writes, headers included. */
function rawSubscriber(port: number, query: string) {
	const socket = net.connect(port, '127.0.0.1');
	const state = {bytes: Buffer.alloc(0), closed: false};
	socket.on('data', (d: Buffer) => {
		state.bytes = Buffer.concat([state.bytes, d]);
	});
	socket.on('close', () => {
		state.closed = true;
	});
	socket.write(`GET /${query} HTTP/1.1\r\nHost: x\r\n\r\n`);
	stops.push(async () => {
		socket.destroy();
	});
	return {socket, state, text: () => state.bytes.toString('utf8')};
}

/** The body of a chunked HTTP response, de-chunked. */
function body(raw: string): string {
	const rest = raw.slice(raw.indexOf('\r\n\r\n') + 4);
	let out = '';
	let i = 0;
	while (i < rest.length) {
		const eol = rest.indexOf('\r\n', i);
		if (eol === -1) {
			break;
		}

		const size = Number.parseInt(rest.slice(i, eol), 16);
		if (!(size > 0)) {
			break;
		}

		out += rest.slice(eol + 2, eol + 2 + size);
		i = eol + 2 + size + 2;
	}

	return out;
}

async function subscribed(fanout: Fanout, n: number): Promise<void> {
	await until(() => fanout.subscribers().length === n, `${n} subscribers`);
}

function publish(port: number, app: string, proc: string, host: string, logs: Array<[string, string]>): void {
	const socket = net.connect(port, '127.0.0.1');
	socket.end(JSON.stringify({app, proc, host}) + logs.map(([time, raw]) => JSON.stringify({time, raw})).join(''));
}

function publishBus(bus: Bus, kind: 'stdin' | 'logio' | 'kafka', id: string, service: string, raw: string): void {
	const h = bus.source(id) ?? bus.addSource(id, kind);
	h.publish([{time: Date.UTC(2020, 0, 1), receivedAt: Date.now(), sourceId: id, sourceKind: kind, service, host: 'h', proc: 'p', type: '', level: 'INFO', message: raw, raw}]);
}

describe('logio fan-out (--serve-subscribers)', () => {
	test('headers are deferred until the first matching line; the line format is the original\'s', async () => {
		const {port, fanout} = await setup();
		const sub = rawSubscriber(fanout.address.port, '?app=myapp');
		await subscribed(fanout, 1);
		publish(port, 'other', 'web', 'h', [['2016-12-06T17:14:21.448912-05:00', 'not for you\n']]);
		// Nothing may arrive for a non-matching line: not even the status line.
		await new Promise(resolve => setTimeout(resolve, 300));
		expect(sub.state.bytes.length).toBe(0);
		publish(port, 'myapp', 'web', 'i-10-34-20-12', [['2016-12-06T17:14:21.448912-05:00', '2016/12/06 17:14:21 INFO This is a web log\n']]);
		await until(() => sub.text().includes('web log'), 'the first line');
		const text = sub.text();
		expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
		expect(text).toMatch(/\r\nContent-Type: text\/event-stream\r\n/);
		expect(text).toMatch(/\r\nCache-Control: no-cache\r\n/);
		expect(body(text)).toBe('2016-12-06T22:14:21.448 myapp[web] i-10-34-20-12: 2016/12/06 17:14:21 INFO This is a web log\n');
	});

	test('original regex semantics: unanchored, case-sensitive unless (?i), alternation, empty = all, log against raw with its newline', async () => {
		const {port, fanout} = await setup();
		const queries = {
			all: '',
			web: '?app=web',
			webi: '?app=(?i)WEB',
			procs: '?app=&proc=web%7Cworker',
			host: '?host=%5Ehost-2%24',
			errEnd: '?log=ERROR%24',
			errNl: '?log=ERROR%0A%24',
			exact: '?app=%5Eweb%24',
		};
		const subs = Object.fromEntries(Object.entries(queries).map(([k, q]) => [k, rawSubscriber(fanout.address.port, q)]));
		await subscribed(fanout, Object.keys(queries).length);
		const t = '2016-12-06T22:14:21.448Z';
		publish(port, 'webapp', 'web', 'host-1', [[t, 'a ERROR\n']]);
		publish(port, 'myweb', 'worker', 'host-2', [[t, 'b\n']]);
		publish(port, 'Web', 'cron', 'host-22', [[t, 'c\n']]);
		const apps = (k: string) => body(subs[k]!.text()).split('\n').filter(Boolean).map(l => /^\S+ ([^[]*)\[/.exec(l)![1]).sort();
		const want: Record<string, string[]> = {
			all: ['Web', 'myweb', 'webapp'],
			web: ['myweb', 'webapp'],
			webi: ['Web', 'myweb', 'webapp'],
			procs: ['myweb', 'webapp'],
			host: ['myweb'],
			errEnd: [],
			errNl: ['webapp'],
			exact: [],
		};
		await until(() => Object.keys(want).every(k => apps(k).length >= want[k]!.length), 'every subscriber\'s lines');
		for (const [k, v] of Object.entries(want)) {
			expect(apps(k), k).toEqual(v);
		}

		// Nothing matched: still no response at all.
		expect(subs['errEnd']!.state.bytes.length).toBe(0);
	});

	test('an invalid regex gets 400 with the reason', async () => {
		const {fanout} = await setup();
		const response = await new Promise<{status: number; text: string}>((resolve, reject) => {
			http.get(`${fanout.url}?proc=web(`, res => {
				let text = '';
				res.setEncoding('utf8').on('data', (d: string) => {
					text += d;
				}).on('end', () => {
					resolve({status: res.statusCode ?? 0, text});
				});
			}).on('error', reject);
		});
		expect(response.status).toBe(400);
		expect(response.text).toMatch(/^proc: invalid regular expression "web\(": /);
	});

	test('X-Forwarded-For is ignored, any path and method work', async () => {
		const {port, fanout} = await setup();
		const socket = net.connect(fanout.address.port, '127.0.0.1');
		let text = '';
		socket.setEncoding('utf8').on('data', (d: string) => {
			text += d;
		});
		socket.write('POST /any/path?app=x HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nContent-Length: 0\r\n\r\n');
		stops.push(async () => {
			socket.destroy();
		});
		await subscribed(fanout, 1);
		publish(port, 'x', 'p', 'h', [['2016-12-06T22:14:21.448Z', 'hi\n']]);
		await until(() => text.includes('hi\n'), 'the line');
		expect(text).toMatch(/^HTTP\/1\.1 200/);
	});

	test('a raw without a newline gets one, a multi-line raw keeps its continuation lines', async () => {
		const {port, fanout} = await setup();
		const sub = rawSubscriber(fanout.address.port, '');
		await subscribed(fanout, 1);
		publish(port, 'a', 'p', 'h', [['2016-12-06T22:14:21.448Z', 'no newline'], ['2016-12-06T22:14:21.449Z', 'Traceback:\n  at x\n  at y\n']]);
		await until(() => body(sub.text()).endsWith('at y\n'), 'both');
		expect(body(sub.text())).toBe('2016-12-06T22:14:21.448 a[p] h: no newline\n2016-12-06T22:14:21.449 a[p] h: Traceback:\n  at x\n  at y\n');
	});

	test('serves every source but logio subscribers (no echo loops) and no gap markers', async () => {
		const {bus, fanout} = await setup();
		const sub = rawSubscriber(fanout.address.port, '');
		await subscribed(fanout, 1);
		publishBus(bus, 'logio', 'upstream', 'looped', 'from a logio subscription');
		bus.source('upstream')!.gap(Date.now() - 1000);
		publishBus(bus, 'stdin', 'stdin', 'piped', 'from stdin');
		publishBus(bus, 'kafka', 'kafka', 'svc', 'from kafka');
		await until(() => body(sub.text()).includes('from kafka'), 'the kafka line');
		expect(body(sub.text())).toBe('2020-01-01T00:00:00.000 piped[p] h: from stdin\n2020-01-01T00:00:00.000 svc[p] h: from kafka\n');
	});

	test('a stalled subscriber loses lines with a count; publishers and other subscribers are not slowed', async () => {
		const {events, port, fanout} = await setup({bufferBytes: 256 * 1024, maxBufferBytes: 1024 * 1024});
		// Subscribes, then never reads: its socket buffers fill and stay full.
		const stalled = rawSubscriber(fanout.address.port, '?app=load');
		stalled.socket.pause();
		let fastLines = 0;
		let fastTail = '';
		const fast = http.get(`${fanout.url}?app=load`, res => {
			res.setEncoding('utf8').on('data', (d: string) => {
				const text = fastTail + d;
				const parts = text.split('\n');
				fastTail = parts.pop()!;
				fastLines += parts.length;
			});
		});
		stops.push(async () => {
			fast.destroy();
		});
		await subscribed(fanout, 2);
		const total = 40_000;
		const line = 'x'.repeat(1000);
		const publishers = Array.from({length: 2}, () => new LogioPublisher({host: '127.0.0.1', port, topic: {app: 'load', proc: 'p', host: 'h'}}));
		await until(() => publishers.every(p => p.isConnected), 'publishers to connect');
		// Bursts of 100 lines (100 KB, within a subscriber's buffer of 256 KiB), each waited for at the reading
		// subscriber: it must keep getting everything while the stalled one holds its socket full.
		for (let i = 0; i < total / 2; i += 50) {
			for (let k = i; k < i + 50; k++) {
				for (const p of publishers) {
					p.send(`${k} ${line}\n`);
				}
			}

			await until(() => fastLines === 2 * (i + 50), `the reading subscriber to get line ${2 * (i + 50)}`);
		}

		const results = await Promise.all(publishers.map(async p => p.close(30_000)));
		expect(results.map(r => r.dropped)).toEqual([0, 0]);
		await until(() => events.length === total, 'the listener to take every line', 30_000);
		await until(() => fastLines === total, 'the reading subscriber to get every line', 30_000);
		const stalledInfo = fanout.subscribers().find(s => s.sent < total)!;
		expect(stalledInfo.dropped).toBeGreaterThan(0);
		expect(stalledInfo.sent + stalledInfo.dropped).toBe(total);
		// When it reads again it is told how many lines it lost (in one notice or several, each where lines went missing).
		stalled.socket.resume();
		const notices = () => body(stalled.text()).split('\n').filter(l => l.includes('logmon[fanout]'));
		const told = () => notices().reduce((n, l) => n + Number(/: logmon: (\d+) lines dropped: this subscriber read more slowly than they arrived$/.exec(l)?.[1] ?? Number.NaN), 0);
		await until(() => told() === stalledInfo.dropped, 'the drop notices', 30_000);
		expect(notices().every(l => l.includes(' logmon[fanout] logmon-host: '))).toBe(true);
	});

	test('all subscribers together hold about totalBufferBytes unsent; stalled ones lose lines, told where, and one that reads still gets every line', async () => {
		// Each subscriber alone may hold 8 MiB; together they may hold 2 MiB.
		const total = 2 * 1024 * 1024;
		const {bus, fanout} = await setup({bufferBytes: 8 * 1024 * 1024, maxBufferBytes: 8 * 1024 * 1024, totalBufferBytes: total});
		const subs = [rawSubscriber(fanout.address.port, '?app=load'), rawSubscriber(fanout.address.port, '?app=load')];
		for (const sub of subs) {
			sub.socket.pause();
		}

		await subscribed(fanout, 2);
		const line = 'y'.repeat(1000);
		const held = () => fanout.subscribers().reduce((n, s) => n + s.buffered, 0);
		// Bursts of 1,000 lines, a turn apart, until the kernel's socket buffers are full, Node holds the
		// total and both have lost lines.
		let lines = 0;
		const full = () => held() >= total * 0.9 && fanout.subscribers().every(s => s.dropped > 0);
		for (let burst = 0; burst < 200 && !full(); burst++) {
			for (let i = 0; i < 1000; i++) {
				publishBus(bus, 'stdin', 'stdin', 'load', `${lines++} ${line}`);
			}

			await new Promise(resolve => setTimeout(resolve, 20)); // eslint-disable-line no-await-in-loop
		}

		// What Node holds for the sockets (the kernel's buffers hold some more, outside logmon's memory),
		// the chunked encoding's few bytes a write included.
		expect(held()).toBeLessThanOrEqual(total + (64 * 1024));
		for (const info of fanout.subscribers()) {
			expect(info.dropped).toBeGreaterThan(0);
			expect(info.sent + info.dropped).toBe(lines);
		}

		expect(bus.diagnostics.recent(500).some(d => d.text.includes('subscribers hold 2.0 MiB unsent together; dropping lines for'))).toBe(true);
		// The stalled ones hold the room; a subscriber that reads, under its share, still gets every line.
		let read = 0;
		let rest = '';
		const reading = http.get(`${fanout.url}?app=load`, res => {
			res.setEncoding('utf8').on('data', (d: string) => {
				const parts = (rest + d).split('\n');
				rest = parts.pop()!;
				read += parts.length;
			});
		});
		stops.push(async () => {
			reading.destroy();
		});
		await subscribed(fanout, 3);
		for (let burst = 1; burst <= 10; burst++) {
			for (let i = 0; i < 100; i++) {
				publishBus(bus, 'stdin', 'stdin', 'load', `late ${i} ${line}`);
			}

			await until(() => read === burst * 100, `the reading subscriber to get burst ${burst}`); // eslint-disable-line no-await-in-loop
		}

		expect(held()).toBeLessThanOrEqual(total + (64 * 1024));
		const infos = fanout.subscribers().filter(s => s.sent + s.dropped === lines + 1000);
		expect(infos).toHaveLength(2);
		expect(fanout.subscribers().find(s => s.sent === 1000)?.dropped).toBe(0);
		for (const [i, sub] of subs.entries()) {
			sub.socket.resume();
			const told = () => body(sub.text()).split('\n').reduce((n, l) => n + Number(/ logmon\[fanout\] logmon-host: logmon: (\d+) lines dropped/.exec(l)?.[1] ?? 0), 0);
			await until(() => told() === infos[i]!.dropped, 'the drop notices', 30_000); // eslint-disable-line no-await-in-loop
		}
	});

	test('a subscriber that leaves is forgotten', async () => {
		const {fanout} = await setup();
		const sub = rawSubscriber(fanout.address.port, '?app=x');
		await subscribed(fanout, 1);
		sub.socket.destroy();
		await subscribed(fanout, 0);
	});
});

/** The built logmon as a logio server with a fan-out, writing -o raw to its stdout. */
async function logmonServer(options: {keepStdout?: boolean} = {}) {
	const child = start(['--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0', '--serve-subscribers', '127.0.0.1:0'], {stdin: 'ignore'});
	stops.push(async () => {
		child.kill('SIGCONT');
		child.kill('SIGKILL');
	});
	let stdout = Buffer.alloc(0);
	child.stdout!.on('data', (d: Buffer) => {
		if (options.keepStdout) {
			stdout = Buffer.concat([stdout, d]);
		}
	});
	let stderr = '';
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
	});
	const m = await until(() => /serving logio subscribers on (\S+)[\s\S]*listening on 127\.0\.0\.1:(\d+)/.exec(stderr) ?? undefined, 'logmon to listen');
	return {child, port: Number(m[2]), url: m[1]!, stdout: () => stdout, stderr: () => stderr};
}

/** A subscriber that reads as fast as it can: counts lines, and the lines logmon says it dropped. */
function readingSubscriber(url: string) {
	const state = {lines: 0, probes: 0, lost: 0, notices: [] as string[], tail: ''};
	const req = http.get(url, res => {
		res.setEncoding('utf8').on('data', (d: string) => {
			const text = state.tail + d;
			const end = text.lastIndexOf('\n');
			state.tail = text.slice(end + 1);
			for (let i = text.indexOf('\n'); i !== -1 && i <= end; i = text.indexOf('\n', i + 1)) {
				state.lines++;
			}

			for (let i = text.indexOf(' probe[p] '); i !== -1 && i <= end; i = text.indexOf(' probe[p] ', i + 1)) {
				state.probes++;
				state.lines--;
			}

			if (text.includes('logmon[fanout]')) {
				for (const notice of text.slice(0, end).split('\n').filter(l => l.includes('logmon[fanout]'))) {
					state.notices.push(notice);
					state.lines--;
					state.lost += Number(/(\d+) lines dropped/.exec(notice)?.[1] ?? 0);
				}
			}
		});
	});
	req.on('error', () => {
		// logmon is killed at the end of the test.
	});
	stops.push(async () => {
		req.destroy();
	});
	return state;
}

/** `n` publishers' whole streams (topic, then logs of real lines), encoded up front. */
function streams(n: number, total: number, withTopic = true): Buffer[] {
	const lines = readFileSync(path.join(corpus, 'HDFS_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
	const base = Date.UTC(2020, 0, 1);
	return Array.from({length: n}, (_, k) => {
		const parts = withTopic ? [JSON.stringify({app: `burst${k}`, proc: 'p', host: 'h'})] : [];
		for (let i = k; i < total; i += n) {
			parts.push(JSON.stringify({time: new Date(base + i).toISOString(), raw: `${i} ${lines[i % lines.length]!}\n`}));
		}

		return Buffer.from(parts.join(''));
	});
}

/** A publisher's connection, connected. */
async function connect(port: number): Promise<net.Socket> {
	const socket = net.connect(port, '127.0.0.1');
	await new Promise(resolve => socket.once('connect', resolve));
	return socket;
}

/** Write a stream as a publisher does, in 64 KiB segments, then close. */
async function send(port: number | net.Socket, stream: Buffer): Promise<void> {
	const socket = typeof port === 'number' ? await connect(port) : port;
	for (let i = 0; i < stream.length; i += 65_536) {
		if (!socket.write(stream.subarray(i, i + 65_536))) {
			await new Promise(resolve => socket.once('drain', resolve));
		}
	}

	await new Promise(resolve => {
		socket.end(() => {
			resolve(undefined);
		});
	});
}

/** Probe lines through the fan-out until every subscriber has one: then they are all subscribed. */
async function probe(port: number, subs: Array<{probes: number}>): Promise<void> {
	const line = Buffer.from(JSON.stringify({app: 'probe', proc: 'p', host: 'h'}) + JSON.stringify({time: '2020-01-01T00:00:00Z', raw: 'probe\n'}));
	for (let i = 0; i < 200 && !subs.every(s => s.probes > 0); i++) {
		await send(port, line);
		await new Promise(resolve => setTimeout(resolve, 100));
	}

	expect(subs.map(s => s.probes > 0)).toEqual(subs.map(() => true));
}

describe('reading subscribers lose nothing (the built binary)', () => {
	test('a 200,000-line burst from 20 publishers reaches two reading subscribers whole', async () => {
		const {port, url} = await logmonServer();
		const subs = [readingSubscriber(url), readingSubscriber(url)];
		await probe(port, subs);
		const total = 200_000;
		await Promise.all(streams(20, total).map(async s => send(port, s)));
		await until(() => subs.every(s => s.lines + s.lost >= total), 'every line at both subscribers, or its loss', 120_000);
		for (const s of subs) {
			expect(s.notices).toEqual([]);
			expect(s.lines).toBe(total);
		}
	}, 180_000);

	test('20,000 lines from 40 publishers that arrive while logmon is stopped for 1.5 s reach a reading subscriber whole', async () => {
		const {child, port, url} = await logmonServer();
		const sub = readingSubscriber(url);
		await probe(port, [sub]);
		const total = 20_000;
		const encoded = streams(40, total, false);
		// Live publishers, each with a first line through: on SIGCONT what they sent meanwhile is read in one turn.
		const sockets = await Promise.all(encoded.map(async (_, k) => {
			const socket = await connect(port);
			socket.write(JSON.stringify({app: `burst${k}`, proc: 'p', host: 'h'}) + JSON.stringify({time: '2020-01-01T00:00:00Z', raw: 'first\n'}));
			return socket;
		}));
		await until(() => sub.lines === encoded.length, 'every publisher\'s first line');
		sub.lines = 0;
		child.kill('SIGSTOP');
		const sending = Promise.all(encoded.map(async (s, k) => send(sockets[k]!, s)));
		await new Promise(resolve => setTimeout(resolve, 1500));
		child.kill('SIGCONT');
		await sending;
		await until(() => sub.lines + sub.lost >= total, 'every line at the subscriber, or its loss', 60_000);
		expect(sub.notices).toEqual([]);
		expect(sub.lines).toBe(total);
	}, 120_000);
});

describe('line ends as published (the built binary)', () => {
	test('a publisher\'s CR LF reaches subscribers and -o raw as CR LF, and log= sees the CR', async () => {
		const {port, url, stdout} = await logmonServer({keepStdout: true});
		const all = rawSubscriber(Number(new URL(url).port), '');
		const cr = rawSubscriber(Number(new URL(url).port), '?log=one%0D%0A%24');
		// The CR-matching subscriber sees only the CR LF line; the other gets both.
		const logs = [['2016-12-06T22:14:21.448Z', 'windows one\r\n'], ['2016-12-06T22:14:21.449Z', 'unix two\n']] as Array<[string, string]>;
		for (let i = 0; i < 100 && !(body(all.text()).includes('unix two') && body(cr.text()).includes('windows one')); i++) {
			publish(port, 'crlf', 'p', 'h', logs);
			await new Promise(resolve => setTimeout(resolve, 100));
		}

		const first = body(all.text()).split(/(?<=\n)/).slice(0, 2).join('');
		expect(first).toBe('2016-12-06T22:14:21.448 crlf[p] h: windows one\r\n2016-12-06T22:14:21.449 crlf[p] h: unix two\n');
		expect(body(cr.text()).split(/(?<=\n)/)[0]).toBe('2016-12-06T22:14:21.448 crlf[p] h: windows one\r\n');
		expect(body(cr.text())).not.toContain('unix two');
		await until(() => stdout().includes('unix two\n'), 'the lines on stdout');
		expect(stdout().toString('utf8').split(/(?<=\n)/).slice(0, 2).join('')).toBe('windows one\r\nunix two\n');
	});
});
