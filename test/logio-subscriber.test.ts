import http from 'node:http';
import net from 'node:net';
import {afterEach, describe, expect, test} from 'vitest';
import {logioConfig, logioListenConfig} from '../source/config/logio.js';
import {startFanout} from '../source/sinks/logio-fanout.js';
import {LogioListenSource} from '../source/sources/logio-listen.js';
import {LogioSubscriberSource, subscriptionUrl} from '../source/sources/logio.js';
import {LogioPublisher} from '../source/publish/logio.js';
import {ReferenceLogioServer, collectingBus, deps, goStamp, until} from './support/logio-peers.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(stops.splice(0).map(async s => s()));
});

async function subscriber(url: string, extra: Record<string, unknown> = {}) {
	const {bus, events} = collectingBus();
	const source = new LogioSubscriberSource('logio', logioConfig.parse({type: 'logio', url, ...extra}), deps);
	const handle = bus.addSource(source.id, source.kind);
	await source.start(handle);
	stops.push(async () => source.stop());
	const logs = () => events.filter(e => !e.marker);
	return {bus, events, logs, handle, source};
}

async function reference(): Promise<ReferenceLogioServer> {
	const server = new ReferenceLogioServer();
	await server.listen();
	stops.push(async () => server.close());
	return server;
}

/** Listen on a port that was ours a moment ago; should another process take it meanwhile, try again briefly. */
async function listenAgain(listen: () => Promise<unknown>): Promise<void> {
	for (let tries = 0; ; tries++) {
		try {
			await listen(); // eslint-disable-line no-await-in-loop
			return;
		} catch (error) {
			if (tries > 50) {
				throw error;
			}

			await new Promise(resolve => setTimeout(resolve, 100)); // eslint-disable-line no-await-in-loop
		}
	}
}

async function referenceOn(port: number): Promise<ReferenceLogioServer> {
	const server = new ReferenceLogioServer();
	await listenAgain(async () => server.listen(port));
	stops.push(async () => server.close());
	return server;
}

const t0 = Date.UTC(2016, 11, 6, 22, 14, 21, 448);

describe('logio subscriber source', () => {
	test('the URL takes app/proc/host/log from the config over its query', () => {
		const url = subscriptionUrl(logioConfig.parse({type: 'logio', url: 'http://h:7702/?app=a&log=x', proc: 'web|worker', app: 'b'}));
		expect(url.searchParams.get('app')).toBe('b');
		expect(url.searchParams.get('proc')).toBe('web|worker');
		expect(url.searchParams.get('log')).toBe('x');
	});

	test('against a reference server: deferred headers, no newline added, UTC time, fields mapped, no X-Forwarded-For', async () => {
		const server = await reference();
		const {logs, handle} = await subscriber(`${server.url}?app=myapp`);
		await until(() => server.subs.size === 1, 'the subscription');
		// Connected with no response yet: that is normal for logio.
		await until(() => handle.health.state === 'live', 'live before any header');
		server.notify({time: t0, app: 'myapp', proc: 'web', host: 'i-10-34-20-12', raw: '2016/12/06 17:14:21 ERROR This is a web log\n'});
		server.notify({time: t0 + 1, app: 'skipped', proc: 'web', host: 'h', raw: 'not matched\n'});
		server.notify({time: t0 + 2, app: 'myapp', proc: 'worker', host: 'h2', raw: 'Traceback:\n  File "x"\nValueError\n'});
		server.notify({time: t0 + 3, app: 'myapp', proc: 'web', host: 'h', raw: 'after\n'});
		await until(() => logs().length === 3, 'three events');
		expect(logs()[0]).toMatchObject({
			time: t0, service: 'myapp', proc: 'web', host: 'i-10-34-20-12', level: 'ERROR', sourceKind: 'logio',
			raw: '2016/12/06 17:14:21 ERROR This is a web log', message: '2016/12/06 17:14:21 ERROR This is a web log',
		});
		// Continuation lines attach to their record.
		expect(logs()[1]).toMatchObject({proc: 'worker', host: 'h2', raw: 'Traceback:\n  File "x"\nValueError'});
		expect(logs()[2]).toMatchObject({raw: 'after', time: t0 + 3});
		expect(server.requests[0]!['x-forwarded-for']).toBeUndefined();
		expect(handle.health.parseErrors).toBe(0);
	});

	test('chunks split inside a line and inside a UTF-8 character', async () => {
		const server = await reference();
		const {logs} = await subscriber(server.url);
		await until(() => server.subs.size === 1, 'the subscription');
		const text = Buffer.from(`${goStamp(t0)} app[p] host: ünïcödé 🎉 first\n${goStamp(t0 + 1)} app[p] host: second 日本語\n`);
		const cuts = [5, 30, text.indexOf('🎉') + 2, text.indexOf('日') + 1, text.length - 3];
		let last = 0;
		for (const cut of cuts) {
			server.writeRaw(text.subarray(last, cut));
			last = cut;
			await new Promise(resolve => setTimeout(resolve, 5));
		}

		server.writeRaw(text.subarray(last));
		await until(() => logs().length === 2, 'two events');
		expect(logs().map(e => e.raw)).toEqual(['ünïcödé 🎉 first', 'second 日本語']);
	});

	test('a raw without a newline runs into the next record, as the original writes it', async () => {
		const server = await reference();
		const {logs} = await subscriber(server.url);
		await until(() => server.subs.size === 1, 'the subscription');
		server.notify({time: t0, app: 'a', proc: 'p', host: 'h', raw: 'no newline'});
		server.notify({time: t0, app: 'b', proc: 'p', host: 'h', raw: 'next\n'});
		await until(() => logs().length === 1, 'one event');
		expect(logs()[0]!.raw).toBe(`no newline${goStamp(t0)} b[p] h: next`);
	});

	test('drains promptly: a consumer that never reads does not stall the server', async () => {
		const server = await reference();
		const {bus, handle} = await subscriber(server.url);
		// Like a paused UI: a queue nobody takes from.
		const stalled = bus.queue('paused', {capacity: 100});
		await until(() => server.subs.size === 1, 'the subscription');
		const total = 20_000;
		const raw = 'y'.repeat(500) + '\n';
		for (let i = 0; i < total; i++) {
			server.notify({time: t0 + i, app: 'a', proc: 'p', host: 'h', raw});
		}

		await until(() => handle.health.events === total, 'every record read', 30_000);
		const [sub] = server.subs;
		await until(() => sub!.res.writableLength === 0, 'the server to have nothing left to send');
		expect(stalled.length).toBe(100);
		expect(stalled.dropped).toBe(total - 100);
	});

	test('kill and restart of the upstream: retrying, reconnect counted, gap marked, lines flow again', async () => {
		const server = await reference();
		const port = server.port;
		const {events, logs, handle} = await subscriber(server.url);
		await until(() => server.subs.size === 1, 'the subscription');
		server.notify({time: t0, app: 'a', proc: 'p', host: 'h', raw: 'before\n'});
		await until(() => logs().length === 1, 'the first line');
		await server.close();
		await until(() => handle.health.state === 'retrying', 'retrying');
		const again = await referenceOn(port);
		await until(() => again.subs.size === 1, 'the resubscription', 30_000);
		again.notify({time: t0 + 5, app: 'a', proc: 'p', host: 'h', raw: 'after\n'});
		await until(() => logs().length === 2, 'the line after the restart');
		expect(handle.health.reconnects).toBe(1);
		expect(handle.health.state).toBe('live');
		const gap = events.find(e => e.marker === 'gap');
		expect(gap).toBeDefined();
		expect(events.indexOf(gap!)).toBe(1);
		expect(logs().map(e => e.raw)).toEqual(['before', 'after']);
	});

	test('a proxy answering 502 while logio is down ends no gap: one marker spans the outage', async () => {
		const server = await reference();
		const port = server.port;
		const {events, logs, handle} = await subscriber(server.url);
		await until(() => server.subs.size === 1, 'the subscription');
		server.notify({time: t0, app: 'a', proc: 'p', host: 'h', raw: 'before\n'});
		await until(() => logs().length === 1, 'the first line');
		await server.close();
		// In logio's place, what nginx says while its upstream is down.
		let refusals = 0;
		const proxy = http.createServer((_req, res) => {
			refusals++;
			res.writeHead(502, {'content-type': 'text/html'}).end('<html><body>502 Bad Gateway</body></html>');
		});
		await listenAgain(async () => new Promise<void>((resolve, reject) => {
			proxy.once('error', reject).listen(port, '127.0.0.1', resolve);
		}));
		await until(() => refusals >= 3, 'three answers of 502', 30_000);
		expect(handle.health.reason).toMatch(/^HTTP 502/);
		await new Promise<void>(resolve => proxy.close(() => resolve()));
		proxy.closeAllConnections();
		const again = await referenceOn(port);
		await until(() => again.subs.size === 1, 'the resubscription', 30_000);
		again.notify({time: t0 + 5, app: 'a', proc: 'p', host: 'h', raw: 'after\n'});
		await until(() => logs().length === 2, 'the line after the outage');
		expect(events.filter(e => e.marker === 'gap')).toHaveLength(1);
		expect(events.findIndex(e => e.marker === 'gap')).toBe(1);
		expect(handle.health.reconnects).toBe(1);
	});

	test('a live subscription with nothing to send yet ends the gap after a while, before any line', async () => {
		const server = await reference();
		const port = server.port;
		const {events, logs, handle} = await subscriber(server.url);
		await until(() => server.subs.size === 1, 'the subscription');
		await server.close();
		await until(() => handle.health.state === 'retrying', 'retrying');
		await referenceOn(port);
		// No line matches yet, so logio has not answered: the marker comes once the connection has stood.
		await until(() => events.some(e => e.marker === 'gap'), 'the gap marker', 30_000);
		expect(logs()).toHaveLength(0);
		expect(handle.health.reconnects).toBe(1);
	});

	test('connection refused: retrying with a reason', async () => {
		const port = await new Promise<number>(resolve => {
			const s = net.createServer().listen(0, '127.0.0.1', () => {
				const p = (s.address() as net.AddressInfo).port;
				s.close(() => resolve(p));
			});
		});
		const {handle} = await subscriber(`http://127.0.0.1:${port}/`);
		await until(() => handle.health.state === 'retrying', 'retrying');
		expect(handle.health.reason).toBe('connection refused');
	});

	test('against logmon\'s own fan-out; an invalid regex fails the source with the server\'s reason', async () => {
		const {bus} = collectingBus();
		const listen = new LogioListenSource('logio-listen', logioListenConfig.parse({type: 'logio-listen', listen: '127.0.0.1:0'}), deps);
		await listen.start(bus.addSource(listen.id, listen.kind));
		const fanout = await startFanout(bus, '127.0.0.1:0');
		stops.push(async () => fanout.close(), async () => listen.stop());

		const {logs} = await subscriber(`${fanout.url}?app=shop&proc=web%7Cworker`);
		await until(() => fanout.subscribers().length === 1, 'the subscription');
		const publisher = new LogioPublisher({host: '127.0.0.1', port: listen.address!.port, topic: {app: 'shop', proc: 'worker', host: 'h1'}});
		publisher.send('2016/12/06 17:14:21 WARN slow ünïcödé\n', t0);
		publisher.send('Traceback:\n  at a\n', t0 + 1);
		const other = new LogioPublisher({host: '127.0.0.1', port: listen.address!.port, topic: {app: 'shop', proc: 'cron', host: 'h1'}});
		other.send('not subscribed\n', t0);
		await Promise.all([publisher.close(), other.close()]);
		await until(() => logs().length === 2, 'two events');
		expect(logs()[0]).toMatchObject({time: t0, service: 'shop', proc: 'worker', host: 'h1', level: 'WARN', raw: '2016/12/06 17:14:21 WARN slow ünïcödé'});
		expect(logs()[1]).toMatchObject({raw: 'Traceback:\n  at a'});

		const bad = await subscriber(`${fanout.url}?app=(`);
		await until(() => bad.handle.health.state === 'failed', 'failed');
		expect(bad.handle.health.reason).toMatch(/^HTTP 400: app: invalid regular expression/);
	});
});
