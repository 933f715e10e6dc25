import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {sampleLine} from '../source/testing/logstream-samples.js';
import {LogstreamTestServer} from '../source/testing/logstream-server.js';
import {type Harness, sent, startSource, staticConfig, until} from './logstream-support.js';

// The protocol exchange against the real test server (protocols.md §1.2).

const readmeBackends = [
	{name: 'bal-4', types: ['bal-request', 'varnish-request']},
	{name: 'srv-6', types: ['apache-request', 'apache-error', 'php-error', 'drupal-request', 'drupal-watchdog']},
];

let server: LogstreamTestServer | undefined;
let harness: Harness | undefined;

afterEach(async () => {
	await harness?.stop();
	await server?.stop();
	harness = undefined;
	server = undefined;
});

function enabledCount(h: Harness): number {
	return h.source.toggles.pairs().filter(p => p.state === 'enabled').length;
}

describe('logstream protocol', () => {
	test('the README debug trace: auth once, then one enable per available default type per server; later servers too', async () => {
		server = await LogstreamTestServer.start({backends: readmeBackends});
		const cfg = staticConfig(server);
		const secret = cfg.auth!.d;
		harness = await startSource(cfg, {debug: true});
		const h = harness;
		await until(() => enabledCount(h) === 4, 'four enabled pairs');

		expect(sent(server)).toEqual([
			{cmd: 'stream-environment', site: cfg.auth!.site, env: cfg.auth!.env, t: cfg.auth!.t, d: secret},
			{cmd: 'enable', type: 'varnish-request', server: 'bal-4'},
			{cmd: 'enable', type: 'apache-request', server: 'srv-6'},
			{cmd: 'enable', type: 'php-error', server: 'srv-6'},
			{cmd: 'enable', type: 'drupal-watchdog', server: 'srv-6'},
		]);

		// The trace, in order, as the original client prints it; the hmac never appears.
		expect(h.debug.slice(0, 15)).toEqual([
			'<- {"cmd":"connected","server":"logstream-api-61"}',
			`-> {"cmd":"stream-environment","site":"devcloud:mysite","env":"prod","t":${String(cfg.auth!.t)},"d":"[redacted]"}`,
			'<- {"cmd":"connected","server":"bal-4"}',
			'<- {"cmd":"available","type":"bal-request","server":"bal-4","display_type":"Balancer request"}',
			'<- {"cmd":"available","type":"varnish-request","server":"bal-4","display_type":"Varnish request"}',
			'-> {"cmd":"enable","type":"varnish-request","server":"bal-4"}',
			'<- {"cmd":"connected","server":"srv-6"}',
			'<- {"cmd":"available","type":"apache-request","server":"srv-6","display_type":"Apache request"}',
			'-> {"cmd":"enable","type":"apache-request","server":"srv-6"}',
			'<- {"cmd":"available","type":"apache-error","server":"srv-6","display_type":"Apache error"}',
			'<- {"cmd":"available","type":"php-error","server":"srv-6","display_type":"PHP error"}',
			'-> {"cmd":"enable","type":"php-error","server":"srv-6"}',
			'<- {"cmd":"available","type":"drupal-request","server":"srv-6","display_type":"Drupal request"}',
			'<- {"cmd":"available","type":"drupal-watchdog","server":"srv-6","display_type":"Drupal watchdog"}',
			'-> {"cmd":"enable","type":"drupal-watchdog","server":"srv-6"}',
		]);
		expect(h.debug.join('\n')).not.toContain(secret);
		expect(h.debug.filter(l => l.startsWith('<- {"cmd":"success"'))).toHaveLength(4);

		// A server that joins mid-stream is enabled as well, per type.
		server.addServer('bal-5', ['bal-request', 'varnish-request']);
		await until(() => enabledCount(h) === 5, 'bal-5 enabled');
		expect(sent(server).slice(5)).toEqual([{cmd: 'enable', type: 'varnish-request', server: 'bal-5'}]);
		expect(h.handle.health.details['servers']).toEqual(['bal-4', 'srv-6', 'bal-5']);
		expect(h.handle.health.state).toBe('live');
		expect(sent(server).filter(m => m['cmd'] === 'stream-environment')).toHaveLength(1);
	});

	test('auth is sent after a short fallback when the server does not greet first, and only once', async () => {
		server = await LogstreamTestServer.start({backends: readmeBackends, greet: false});
		harness = await startSource(staticConfig(server), {authFallbackMs: 200});
		const h = harness;
		await until(() => enabledCount(h) === 4, 'four enabled pairs');
		expect(sent(server).filter(m => m['cmd'] === 'stream-environment')).toHaveLength(1);
		expect(sent(server)[0]!['cmd']).toBe('stream-environment');
	});

	test('-t/--types and --servers select the pairs enabled', async () => {
		server = await LogstreamTestServer.start();
		harness = await startSource(staticConfig(server, {types: ['php-error', 'varnish-request', 'drupal-watchdog'], servers: ['web-2', 'bal-1']}));
		const h = harness;
		await until(() => enabledCount(h) === 3, 'three enabled pairs');
		const enabled = h.source.toggles.pairs().filter(p => p.state === 'enabled').map(p => `${p.server} ${p.type}`);
		expect(enabled).toEqual(['bal-1 varnish-request', 'web-2 drupal-watchdog', 'web-2 php-error']);
		expect(h.source.toggles.pairs().find(p => p.server === 'web-1' && p.type === 'php-error')?.state).toBe('available');
	});

	test('lines become events: log_type, server, site, http_status, disp_time in UTC, unix_time, varnish JSON', async () => {
		server = await LogstreamTestServer.start({backends: readmeBackends});
		harness = await startSource(staticConfig(server));
		const h = harness;
		await until(() => enabledCount(h) === 4, 'four enabled pairs');

		const at = Date.UTC(2014, 6, 7, 20, 28, 53);
		const apache = sampleLine('apache-request', 'srv-6', 7, at);
		expect(server.line({server: 'srv-6', type: 'apache-request', text: apache.text, httpStatus: 404, time: at})).toBe(1);
		server.line({server: 'srv-6', type: 'php-error', text: 'PHP Fatal error:  Allowed memory size exhausted', time: at + 1000, unixTime: true});
		const varnish = sampleLine('varnish-request', 'bal-4', 9, at);
		server.line({server: 'bal-4', type: 'varnish-request', text: varnish.text, time: at});
		// Not enabled: the server never sends it.
		expect(server.line({server: 'srv-6', type: 'apache-error', text: 'not enabled', time: at})).toBe(0);
		await until(() => h.lines().length === 3, 'three lines');

		const [a, p, v] = h.lines();
		expect(a).toMatchObject({
			time: at, type: 'apache-request', host: 'srv-6', service: 'devcloud:mysite', status: 404, level: 'WARN', message: apache.text, raw: apache.text, sourceKind: 'logstream',
		});
		expect(p).toMatchObject({time: at + 1000, type: 'php-error', host: 'srv-6', level: 'CRITICAL'});
		expect(v!.type).toBe('varnish-request');
		expect(v!.raw).toBe(varnish.text);
		expect(v!.status).toBe(varnish.httpStatus);
		expect(v!.message).toContain('"GET /node/12"');
		expect(v!.message).toContain('request_id=');
		expect((v!.record as {fields: Record<string, unknown>}).fields['client_ip']).toBe('10.0.0.9');
		expect(h.handle.health.parseErrors).toBe(0);
	});

	test('toggles send enable/disable and reflect success and error; list-available and list-enabled', async () => {
		server = await LogstreamTestServer.start({backends: readmeBackends});
		harness = await startSource(staticConfig(server));
		const h = harness;
		const t = h.source.toggles;
		let changes = 0;
		const off = t.onPairsChange(() => changes++);
		await until(() => enabledCount(h) === 4, 'four enabled pairs');
		const state = (s: string, type: string): string | undefined => t.pairs().find(p => p.server === s && p.type === type)?.state;
		const before = sent(server).length;

		t.setPair('srv-6', 'php-error', false);
		expect(state('srv-6', 'php-error')).toBe('pending-disable');
		await until(() => state('srv-6', 'php-error') === 'available', 'php-error disabled');

		t.setType('apache-error', true);
		expect(state('srv-6', 'apache-error')).toBe('pending-enable');
		await until(() => state('srv-6', 'apache-error') === 'enabled', 'apache-error enabled');

		t.setServer('bal-4', false);
		await until(() => state('bal-4', 'varnish-request') === 'available', 'bal-4 disabled');

		// A type the server does not have: the server's error shows on the pair.
		t.setPair('bal-4', 'mysql-slow', true);
		await until(() => state('bal-4', 'mysql-slow') === 'failed', 'mysql-slow failed');
		expect(t.pairs().find(p => p.type === 'mysql-slow')?.error).toBe('log type mysql-slow is not available on bal-4');

		expect(sent(server).slice(before)).toEqual([
			{cmd: 'disable', type: 'php-error', server: 'srv-6'},
			{cmd: 'enable', type: 'apache-error', server: 'srv-6'},
			{cmd: 'disable', type: 'varnish-request', server: 'bal-4'},
			{cmd: 'enable', type: 'mysql-slow', server: 'bal-4'},
		]);

		// Lines follow the toggles: php-error is off upstream now, apache-error on.
		expect(server.line({server: 'srv-6', type: 'php-error', text: 'off'})).toBe(0);
		expect(server.line({server: 'srv-6', type: 'apache-error', text: '[error] on'})).toBe(1);
		await until(() => h.lines().some(e => e.message === '[error] on'), 'the apache-error line');

		const n = sent(server).length;
		t.listAvailable('srv-6');
		t.listEnabled();
		await until(() => sent(server!).length === n + 2, 'the list requests');
		expect(sent(server).slice(n)).toEqual([{cmd: 'list-available', server: 'srv-6'}, {cmd: 'list-enabled'}]);
		// Repeated `available` replies do not re-enable anything.
		await until(() => h.handle.health.details['pairs'] !== undefined, 'pairs detail');
		expect(sent(server).slice(n + 2)).toEqual([]);
		expect(changes).toBeGreaterThan(0);
		expect(h.handle.health.details['pairs']).toEqual(t.pairs());
		off();
	});

	test('list-enabled replies reconcile the pair states with the server', async () => {
		server = await LogstreamTestServer.start({backends: readmeBackends});
		harness = await startSource(staticConfig(server));
		const h = harness;
		await until(() => enabledCount(h) === 4, 'four enabled pairs');
		// Someone else's view of the truth: drop php-error upstream without telling the client.
		server.connections[0]!.enabled.delete('srv-6 php-error');
		h.source.toggles.listEnabled('srv-6');
		await until(() => enabledCount(h) === 3, 'php-error shown as not enabled');
		expect(h.source.toggles.pairs().find(p => p.type === 'php-error')?.state).toBe('available');
	});

	test('idle keepalive successes are handled quietly', async () => {
		server = await LogstreamTestServer.start({backends: readmeBackends, keepaliveMs: 50});
		harness = await startSource(staticConfig(server), {debug: true});
		const h = harness;
		await until(() => h.debug.filter(l => l.includes('"keepalive"')).length >= 3, 'three keepalives');
		expect(h.handle.health.parseErrors).toBe(0);
		expect(h.bus.diagnostics.recent(50).filter(d => d.level === 'warn')).toEqual([]);
		expect(h.handle.health.state).toBe('live');
	});
});

describe('logstream test server', () => {
	test('feed() replays a log file at a rate, round-robin over the servers with that type', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-feed-'));
		try {
			const file = path.join(dir, 'Apache_small.log');
			const lines = Array.from({length: 40}, (_, i) => `[Sun Dec 04 04:47:${String(i).padStart(2, '0')} 2005] [error] line ${i}`);
			writeFileSync(file, lines.join('\n') + '\n');
			server = await LogstreamTestServer.start();
			harness = await startSource(staticConfig(server, {types: ['apache-error']}));
			const h = harness;
			await until(() => enabledCount(h) === 2, 'apache-error on web-1 and web-2');
			const feed = server.feed({file, type: 'apache-error', rate: 2000, loop: false});
			expect(await feed.done).toBe(40);
			await until(() => h.lines().length === 40, 'forty lines');
			expect(h.lines().map(e => e.message)).toEqual(lines);
			expect(h.lines().map(e => e.host).slice(0, 4)).toEqual(['web-1', 'web-2', 'web-1', 'web-2']);
			expect(h.lines().every(e => e.level === 'ERROR')).toBe(true);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	test('flood() sends N lines and resolves once the client has read them all', async () => {
		server = await LogstreamTestServer.start({backends: readmeBackends});
		harness = await startSource(staticConfig(server));
		const h = harness;
		await until(() => enabledCount(h) === 4, 'four enabled pairs');
		const {sent: n} = await server.flood(5000);
		expect(n).toBe(5000);
		await until(() => h.lines().length === 5000, 'all lines');
		expect(new Set(h.lines().map(e => `${e.host} ${e.type}`)).size).toBe(4);
		expect(h.handle.health.parseErrors).toBe(0);
	});
});
