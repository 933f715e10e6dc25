import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import {type AddressInfo} from 'node:net';
import {type Duplex} from 'node:stream';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {WebSocketServer} from 'ws';
import {type SourceHealth} from '../source/core/health.js';
import {clock} from '../source/core/time.js';
import {CloudApiTestServer, LogstreamTestServer} from '../source/testing/logstream-server.js';
import {testApplication} from '../source/testing/cloud-api-server.js';
import {config, type Harness, sent, startSource, until} from './logstream-support.js';

// Reconnects: backoff, fresh Cloud API params, exactly the same pairs again,
// a gap marker, nothing duplicated; and the silence deadline.

let cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
	for (const c of cleanups.reverse()) {
		await c();
	}

	cleanups = [];
});

function enabledKeys(h: Harness): string[] {
	return h.source.toggles.pairs().filter(p => p.state === 'enabled').map(p => `${p.server} ${p.type}`);
}

describe('logstream reconnect', () => {
	test('after a server kill: backoff, fresh params, the same pairs re-enabled, a gap marker, nothing duplicated', async () => {
		// Single-use params: the new connection only authenticates if the client fetched fresh ones.
		const server = await LogstreamTestServer.start({singleUse: true});
		cleanups.push(async () => server.stop());
		const cloud = await CloudApiTestServer.start({logstream: () => ({url: server.url, params: server.params()})});
		cleanups.push(async () => cloud.stop());
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-ls-'));
		cleanups.push(() => rmSync(dir, {recursive: true, force: true}));
		const credentials = path.join(dir, 'cloudapiv2.conf');
		writeFileSync(credentials, JSON.stringify(cloud.credentials()));
		chmodSync(credentials, 0o600);

		const h = await startSource(config({acquia: {application: testApplication, environment: 'prod', credentials, tokenUrl: cloud.tokenUrl, apiUrl: cloud.apiUrl}}));
		cleanups.push(async () => h.stop());
		const states: SourceHealth[] = [];
		h.bus.onHealth(s => states.push({...s}));
		const t = h.source.toggles;
		await until(() => enabledKeys(h).length === 7, 'the default pairs enabled');

		// The user's changes before the drop: one off, one extra on, one that fails.
		t.setPair('web-2', 'php-error', false);
		t.setPair('web-1', 'apache-error', true);
		t.setPair('bal-1', 'mysql-slow', true);
		await until(() => enabledKeys(h).length === 7 && t.pairs().some(p => p.state === 'failed'), 'toggles settled');
		const before = enabledKeys(h).sort();
		expect(before).toEqual([
			'bal-1 varnish-request', 'web-1 apache-error', 'web-1 apache-request', 'web-1 drupal-watchdog', 'web-1 php-error', 'web-2 apache-request', 'web-2 drupal-watchdog',
		]);

		for (let i = 0; i < 50; i++) {
			server.line({server: 'web-1', type: 'php-error', text: `before ${i}`});
		}

		await until(() => h.lines().length === 50, 'the lines before');
		const firstAuth = sent(server, 0)[0]!;

		await server.kill();
		await until(() => states.some(s => s.state === 'retrying' && s.reason === 'connection refused' && s.retryAt !== undefined), 'retrying: connection refused');
		await server.restart();
		await until(() => server.connections.length >= 2 && enabledKeys(h).length === 7 && h.handle.health.state === 'live', 'enabled again');

		const last = server.connections.length - 1;
		const again = sent(server, last);
		expect(again[0]!['cmd']).toBe('stream-environment');
		expect(again[0]!['d']).not.toBe(firstAuth['d']);
		expect(again.slice(1).map(m => `${String(m['server'])} ${String(m['type'])} ${String(m['cmd'])}`).sort())
			.toEqual(before.map(k => `${k} enable`));
		expect(enabledKeys(h).sort()).toEqual(before);
		// Every attempt fetched fresh params; the environment was looked up once.
		expect(cloud.counts.logstream).toBeGreaterThanOrEqual(2);
		expect(cloud.counts.token).toBe(cloud.counts.logstream);
		expect(cloud.counts.environments).toBe(1);

		for (let i = 0; i < 50; i++) {
			server.line({server: 'web-1', type: 'php-error', text: `after ${i}`});
		}

		await until(() => h.lines().length === 100, 'the lines after');
		const texts = h.events.map(e => e.marker ?? e.message);
		const gap = texts.indexOf('gap');
		expect(texts.filter(x => x === 'gap')).toHaveLength(1);
		expect(gap).toBe(50);
		expect(texts.slice(0, 50)).toEqual(Array.from({length: 50}, (_, i) => `before ${i}`));
		expect(texts.slice(51)).toEqual(Array.from({length: 50}, (_, i) => `after ${i}`));
		expect(h.events[gap]!.message).toMatch(/^logstream: disconnected \d\d:\d\d:\d\d–\d\d:\d\d:\d\d, lines may be missing$/);
		expect(h.handle.health.reconnects).toBe(1);
		expect(h.handle.health.events).toBe(100);
	});

	test('a connection silent past the deadline is treated as dead and replaced', async () => {
		// A peer that greets, then never answers anything, not even pings.
		const wss = new WebSocketServer({host: '127.0.0.1', port: 0, autoPong: false});
		await new Promise(resolve => wss.once('listening', resolve));
		cleanups.push(async () => new Promise<void>(resolve => {
			for (const c of wss.clients) {
				c.terminate();
			}

			wss.close(() => resolve());
		}));
		let connections = 0;
		wss.on('connection', ws => {
			connections++;
			ws.send(JSON.stringify({cmd: 'connected', server: 'logstream-api-61'}));
		});
		const {port} = wss.address() as {port: number};
		const h = await startSource(config({url: `ws://127.0.0.1:${port}/`, auth: {site: 's:x', env: 'prod', t: 1, d: 'x'.repeat(64)}, pingIntervalMs: 100, deadAfterMs: 400}));
		cleanups.push(async () => h.stop());
		await until(() => h.handle.health.state === 'retrying' && /no data or pong for \d+ s/.test(h.handle.health.reason ?? ''), 'declared dead');
		await until(() => connections >= 2, 'a new connection');
	});

	test('an upgrade refused with 401 or 403 is tried again a few times, then the source fails saying so', async () => {
		for (const status of [401, 403]) {
			let upgrades = 0;
			const refuser = http.createServer();
			refuser.on('upgrade', (_request, socket: Duplex) => {
				upgrades++;
				socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
			});
			// eslint-disable-next-line no-await-in-loop
			await new Promise<void>(resolve => refuser.listen(0, '127.0.0.1', resolve));
			cleanups.push(async () => new Promise<void>(resolve => refuser.close(() => resolve())));
			const {port} = refuser.address() as AddressInfo;
			// eslint-disable-next-line no-await-in-loop
			const h = await startSource(config({url: `ws://127.0.0.1:${port}/`, auth: {site: 's:x', env: 'prod', t: 1, d: 'x'.repeat(64)}}));
			cleanups.push(async () => h.stop());
			// eslint-disable-next-line no-await-in-loop
			await until(() => h.handle.health.state === 'failed', `failed on ${status}`);
			expect(h.handle.health.reason).toBe(`the stream server refused the connection 3 times in a row: HTTP ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}`);
			expect(upgrades).toBe(3);
		}
	});

	test('a dropped connection while the server keeps listening reconnects at once with the same pairs', async () => {
		const server = await LogstreamTestServer.start();
		cleanups.push(async () => server.stop());
		const h = await startSource(config({url: server.url, auth: server.auth(), types: ['php-error']}));
		cleanups.push(async () => h.stop());
		await until(() => enabledKeys(h).length === 2, 'php-error on both web servers');
		h.source.toggles.setPair('web-2', 'php-error', false);
		await until(() => enabledKeys(h).length === 1, 'web-2 off');
		server.dropClients();
		await until(() => server.connections.length === 2 && enabledKeys(h).length === 1 && h.handle.health.state === 'live', 'back');
		expect(sent(server, 1).slice(1)).toEqual([{cmd: 'enable', type: 'php-error', server: 'web-1'}]);
		await until(() => h.events.some(e => e.marker === 'gap'), 'the gap marker');
	});

	test('connections that open and close before they stream make no gap markers of their own: one marker spans the outage', async () => {
		const server = await LogstreamTestServer.start();
		cleanups.push(async () => server.stop());
		const h = await startSource(config({url: server.url, auth: server.auth(), types: ['php-error']}));
		cleanups.push(async () => h.stop());
		await until(() => h.handle.health.state === 'live', 'live');
		await server.kill();
		const downAt = Date.now();
		// A proxy in its place accepts the upgrade and drops each connection at once, three times.
		const port = Number(new URL(server.url).port);
		const flapper = new WebSocketServer({host: '127.0.0.1', port});
		let flaps = 0;
		flapper.on('connection', ws => {
			flaps++;
			ws.terminate();
		});
		// Past a second, so a gap from the last flap would not read the same as one from the drop.
		await until(() => flaps >= 3 && Date.now() - downAt > 1500, 'three connections dropped before they streamed');
		await new Promise<void>(resolve => flapper.close(() => resolve()));
		await server.restart();
		await until(() => h.handle.health.state === 'live', 'live again');
		await new Promise(resolve => setTimeout(resolve, 300));
		const gaps = h.events.filter(e => e.marker === 'gap');
		expect(gaps).toHaveLength(1);
		// From the drop of the live connection, not from the last flap.
		const from = /disconnected (\d\d:\d\d:\d\d)–/.exec(gaps[0]!.message)?.[1];
		expect([clock(downAt - 1000), clock(downAt)]).toContain(from);
		expect(h.handle.health.reconnects).toBe(1);
	});

	test('toggles made while reconnecting apply to the next connection', async () => {
		const server = await LogstreamTestServer.start();
		cleanups.push(async () => server.stop());
		const h = await startSource(config({url: server.url, auth: server.auth()}));
		cleanups.push(async () => h.stop());
		await until(() => enabledKeys(h).length === 7, 'the default pairs enabled');
		await server.kill();
		await until(() => h.handle.health.state === 'retrying' && h.source.toggles.pairs().length === 0, 'retrying');
		h.source.toggles.setType('php-error', false);
		h.source.toggles.setPair('web-1', 'apache-error', true);
		await server.restart();
		await until(() => h.handle.health.state === 'live' && enabledKeys(h).length === 6, 'back with the changes');
		expect(enabledKeys(h).sort()).toEqual(['bal-1 varnish-request', 'web-1 apache-error', 'web-1 apache-request', 'web-1 drupal-watchdog', 'web-2 apache-request', 'web-2 drupal-watchdog']);
	});
});
