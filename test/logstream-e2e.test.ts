import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {CloudApiTestServer, LogstreamTestServer} from '../source/testing/logstream-server.js';
import {testApplication} from '../source/testing/cloud-api-server.js';
import {collect, root, run, start, waitFor} from './support/logmon.js';
import {freePort, until} from './logstream-support.js';

// The built binary against the local Cloud API and logstream server, over real sockets.

let server: LogstreamTestServer;
let cloud: CloudApiTestServer;
let dir: string;
let children: Array<ReturnType<typeof start>> = [];

beforeAll(async () => {
	server = await LogstreamTestServer.start({
		backends: [{name: 'bal-4', types: ['bal-request', 'varnish-request']}, {name: 'web-1', types: ['apache-request', 'php-error']}, {name: 'web-2', types: ['apache-request', 'php-error']}],
	});
	cloud = await CloudApiTestServer.start({logstream: () => ({url: server.url, params: server.params()})});
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-e2e-'));
});

afterEach(() => {
	for (const c of children) {
		c.kill('SIGKILL');
	}

	children = [];
});

afterAll(async () => {
	await server.stop();
	await cloud.stop();
	rmSync(dir, {recursive: true, force: true});
});

function writeJson(name: string, value: unknown, mode = 0o600): string {
	const file = path.join(dir, name);
	writeFileSync(file, JSON.stringify(value));
	chmodSync(file, mode);
	return file;
}

function tailConfig(secret = cloud.apiSecret): string {
	const credentials = writeJson(`creds-${secret}.conf`, {api_key: cloud.apiKey, api_secret: secret});
	return writeJson(`tail-${secret}.json`, {
		sources: [{type: 'logstream', acquia: {application: 'from-the-command-line', environment: 'from-the-command-line', credentials, tokenUrl: cloud.tokenUrl, apiUrl: cloud.apiUrl}}],
	});
}

/** Waits until the newest connection has `count` pairs enabled. */
async function enabled(count: number): Promise<Set<string>> {
	return until(() => {
		const c = server.liveClients.at(-1);
		return c && c.enabled.size === count ? c.enabled : undefined;
	}, `${count} pairs enabled`);
}

describe('logmon with a logstream source (built binary)', () => {
	test('logmon tail <uuid> <env> --debug: pipe output on stdout, the redacted exchange on stderr', async () => {
		const child = start(['tail', testApplication, 'prod', '--config', tailConfig(), '--no-ui', '-o', 'text', '--color', 'never', '--debug']);
		children.push(child);
		const result = collect(child, 30_000);
		// Default types: apache-request on both web servers, php-error on both, varnish-request on bal-4.
		expect([...await enabled(5)].sort()).toEqual(['bal-4 varnish-request', 'web-1 apache-request', 'web-1 php-error', 'web-2 apache-request', 'web-2 php-error']);
		const at = Date.UTC(2014, 6, 7, 20, 28, 53);
		server.line({server: 'web-1', type: 'apache-request', text: '107.0.255.129 - - [07/Jul/2014:20:28:53 +0000] "GET / HTTP/1.0" 200 2454', httpStatus: 200, time: at});
		server.line({server: 'web-2', type: 'php-error', text: 'PHP Fatal error:  Allowed memory size exhausted', time: at + 1000});
		server.line({server: 'bal-4', type: 'varnish-request', text: JSON.stringify({status: '503', method: 'GET', url: '/x', client_ip: '10.0.0.1', host: 'a.example'}), time: at + 2000});
		const hmac = (server.connections.at(-1)!.received[0] as {d: string}).d;
		// Once the lines are through, stop logmon as a user would.
		await waitFor(child.stdout!, 'host=a.example');
		child.kill('SIGTERM');
		const {code, stdout, stderr} = await result;
		expect(code).toBe(143);
		expect(stdout.split('\n').filter(Boolean)).toEqual([
			'2014-07-07T20:28:53.000Z devcloud:mysite web-1 INFO: 107.0.255.129 - - [07/Jul/2014:20:28:53 +0000] "GET / HTTP/1.0" 200 2454',
			'2014-07-07T20:28:54.000Z devcloud:mysite web-2 CRITICAL: PHP Fatal error:  Allowed memory size exhausted',
			'2014-07-07T20:28:55.000Z devcloud:mysite bal-4 ERROR: 10.0.0.1 "GET /x" 503 - host=a.example',
		]);
		const lines = stderr.split('\n');
		const ws = lines.filter(l => l.startsWith('-> {') || l.startsWith('<- {'));
		expect(ws[0]).toBe('<- {"cmd":"connected","server":"logstream-api-61"}');
		expect(ws[1]).toMatch(/^-> \{"cmd":"stream-environment","site":"devcloud:mysite","env":"prod","t":\d+,"d":"\[redacted\]"\}$/);
		expect(ws.filter(l => l.startsWith('-> {"cmd":"enable"'))).toHaveLength(5);
		expect(lines).toContain('-> {"cmd":"enable","type":"varnish-request","server":"bal-4"}');
		expect(lines.some(l => l.startsWith(`-> POST ${cloud.tokenUrl} `))).toBe(true);
		expect(stderr).not.toContain(hmac);
		expect(stderr).not.toContain(cloud.apiSecret);
		expect(stderr).toContain('"d":"[redacted]"');
	});

	test('--logstream URL with the auth message in the config, -t and --servers', async () => {
		const config = writeJson('static.json', {sources: [{type: 'logstream', url: 'ws://127.0.0.1:9/not-this-one', auth: server.auth()}]});
		const child = start(['--logstream', server.url, '--config', config, '--no-ui', '-o', 'raw', '-t', 'php-error', '--servers', 'web-2']);
		children.push(child);
		const result = collect(child, 30_000);
		expect([...await enabled(1)]).toEqual(['web-2 php-error']);
		server.line({server: 'web-2', type: 'php-error', text: 'PHP Warning:  raw line'});
		server.line({server: 'web-1', type: 'php-error', text: 'never sent: not enabled'});
		await waitFor(child.stdout!, 'raw line');
		child.kill('SIGTERM');
		const {stdout} = await result;
		expect(stdout).toBe('PHP Warning:  raw line\n');
	});

	test('a 3 MiB frame among 5,000 good lines: the connection stays up, every good line arrives, the big line is cut to --max-line and counted', async () => {
		const config = writeJson('big-frame.json', {sources: [{type: 'logstream', url: server.url, auth: server.auth()}]});
		const connectionsBefore = server.connections.length;
		const child = start(['--logstream', server.url, '--config', config, '--no-ui', '-o', 'raw', '-t', 'php-error', '--servers', 'web-1', '--max-line', '100000']);
		children.push(child);
		const result = collect(child, 60_000);
		await enabled(1);
		const big = 'B'.repeat(3 * 1024 * 1024);
		for (let i = 0; i < 5000; i++) {
			if (i === 2500) {
				server.line({server: 'web-1', type: 'php-error', text: big});
			}

			server.line({server: 'web-1', type: 'php-error', text: `good ${i}`});
		}

		await waitFor(child.stdout!, 'good 4999\n', 30_000);
		child.kill('SIGTERM');
		const {stdout, stderr} = await result;
		const lines = stdout.split('\n').filter(Boolean);
		expect(lines.filter((_, i) => i !== 2500)).toEqual(Array.from({length: 5000}, (_, i) => `good ${i}`));
		const cut = big.length - 100_000;
		expect(lines[2500]).toBe(`${'B'.repeat(100_000)} …[truncated ${cut} bytes]`);
		expect(stderr).toContain(`logmon: logstream: line longer than the cap (--max-line 100000 bytes), ${cut} bytes cut (parse errors: 1)`);
		expect(server.connections.length - connectionsBefore).toBe(1);
	});

	test('-o json: records nested 5,000 deep, in a varnish line and in the frame itself, are written with the deep part as text; nothing after them is lost', async () => {
		const config = writeJson('deep.json', {sources: [{type: 'logstream', url: server.url, auth: server.auth()}]});
		const child = start(['--logstream', server.url, '--config', config, '--no-ui', '-o', 'json', '-t', 'varnish-request', '--servers', 'bal-4']);
		children.push(child);
		const result = collect(child, 30_000);
		await enabled(1);
		const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
		server.line({server: 'bal-4', type: 'varnish-request', text: 'before'});
		server.line({server: 'bal-4', type: 'varnish-request', text: `{"status":200,"deep":${deep}}`});
		server.sendRaw(`{"cmd":"line","log_type":"varnish-request","server":"bal-4","disp_time":"2024-01-02 03:04:05","text":"frame","extra":${deep}}`);
		server.line({server: 'bal-4', type: 'varnish-request', text: 'after'});
		await waitFor(child.stdout!, '"message":"after"');
		child.kill('SIGTERM');
		const {code, stdout, stderr} = await result;
		expect(code).toBe(143);
		const events = stdout.trim().split('\n').map(l => JSON.parse(l) as {raw: string});
		expect(events.map(e => e.raw.slice(0, 12))).toEqual(['before', '{"status":20', 'frame', 'after']);
		expect(stderr.match(/nested deeper than 64 levels; the deeper part is kept as text/g)).toHaveLength(2);
		expect(stderr).not.toMatch(/RangeError|internal error/);
	});

	test('a bad secret: one line naming the source and the cause, exit 1', async () => {
		const {code, stdout, stderr} = await run(['tail', testApplication, 'prod', '--config', tailConfig('wrong-secret'), '--no-ui']);
		expect(code).toBe(1);
		expect(stdout).toBe('');
		expect(stderr.split('\n').filter(l => l.includes('failed'))).toEqual(['logmon: logstream: failed: Cloud API token: HTTP 401: invalid_client: Client authentication failed']);
		expect(stderr).not.toContain('wrong-secret');
	});

	test('secrets a server echoes back never reach stderr: a Cloud API 401 repeating the client secret, a logstream error repeating the hmac', async () => {
		const echoing = await CloudApiTestServer.start({logstream: () => ({url: server.url, params: server.params()}), echoSecret: true});
		const echoingStream = await LogstreamTestServer.start({backends: [{name: 'web-1', types: ['php-error']}], echoAuth: true});
		try {
			const secret = 'wrong-s3cret/with+chars';
			const credentials = writeJson('echo-creds.conf', {api_key: echoing.apiKey, api_secret: secret});
			const config = writeJson('echo-tail.json', {sources: [{type: 'logstream', acquia: {application: 'x', environment: 'x', credentials, tokenUrl: echoing.tokenUrl, apiUrl: echoing.apiUrl}}]});
			const cloudRun = await run(['tail', testApplication, 'prod', '--config', config, '--no-ui', '-o', 'json']);
			expect(cloudRun.code).toBe(1);
			expect(cloudRun.stderr).toContain('Client authentication failed for client_secret=[redacted]');
			for (const form of [secret, encodeURIComponent(secret)]) {
				expect(cloudRun.stderr).not.toContain(form);
			}

			const d = 'c'.repeat(64);
			const streamConfig = writeJson('echo-auth.json', {sources: [{type: 'logstream', url: echoingStream.url, auth: {...echoingStream.auth(), d}}]});
			const streamRun = await run(['--config', streamConfig, '--no-ui', '--no-stdin']);
			expect(streamRun.code).toBe(1);
			expect(streamRun.stderr).toContain('invalid authentication token [redacted]');
			expect(streamRun.stderr).not.toContain(d);
		} finally {
			await echoing.stop();
			await echoingStream.stop();
		}
	});

	test('an auth refusal: one line naming the source and the server description, exit 1', async () => {
		const config = writeJson('bad-auth.json', {sources: [{type: 'logstream', url: server.url, auth: {...server.auth(), d: 'a'.repeat(64)}}]});
		const {code, stderr} = await run(['--config', config, '--no-ui', '--no-stdin']);
		expect(code).toBe(1);
		expect(stderr.split('\n').filter(l => l.includes('failed'))).toEqual(['logmon: logstream: failed: authentication refused by logstream-api-61: invalid authentication token']);
	});

	// Run from a script, stdin is not a terminal, so a config-only run adds a stdin source; empty, it ends
	// at once. Having read nothing, it must not turn "every source failed" into exit 0.
	test('refused credentials from the config file, stdin empty: exit 1', async () => {
		const config = writeJson('bad-auth-stdin.json', {sources: [{type: 'logstream', url: server.url, auth: {...server.auth(), d: 'b'.repeat(64)}}]});
		const {code, stdout, stderr} = await run(['--config', config, '--no-ui'], {input: ''});
		expect(stderr.split('\n').filter(l => l.includes('failed'))).toEqual(['logmon: logstream: failed: authentication refused by logstream-api-61: invalid authentication token']);
		expect(stdout).toBe('');
		expect(code).toBe(1);
	});

	test('a Cloud API token endpoint answering 401, from the config file, stdin empty: exit 1', async () => {
		const credentials = writeJson('creds-401.conf', {api_key: cloud.apiKey, api_secret: 'not-the-secret'});
		const config = writeJson('cloud-401.json', {sources: [{type: 'logstream', acquia: {application: testApplication, environment: 'prod', credentials, tokenUrl: cloud.tokenUrl, apiUrl: cloud.apiUrl}}]});
		const {code, stdout, stderr} = await run(['--config', config, '--no-ui'], {input: ''});
		expect(stderr.split('\n').filter(l => l.includes('failed'))).toEqual(['logmon: logstream: failed: Cloud API token: HTTP 401: invalid_client: Client authentication failed']);
		expect(stdout).toBe('');
		expect(code).toBe(1);
	});

	test('refused credentials while stdin delivers lines: not every source failed, exit 0', async () => {
		const config = writeJson('bad-auth-with-lines.json', {sources: [{type: 'logstream', url: server.url, auth: {...server.auth(), d: 'c'.repeat(64)}}]});
		const {code, stdout, stderr} = await run(['--config', config, '--no-ui', '-o', 'raw'], {input: 'one\ntwo\n'});
		expect(stderr).toContain('logmon: logstream: failed: authentication refused');
		expect(stdout).toBe('one\ntwo\n');
		expect(code).toBe(0);
	});

	test('connection refused: the source says it is retrying and why', async () => {
		const config = writeJson('refused.json', {sources: [{type: 'logstream', name: 'acquia-prod', url: `ws://127.0.0.1:${await freePort()}/`, auth: server.auth()}]});
		const child = start(['--config', config, '--no-ui', '--no-stdin']);
		children.push(child);
		const result = collect(child, 30_000);
		await waitFor(child.stderr!, /logmon: acquia-prod: retrying in \d+ s \(connection refused\)/);
		child.kill('SIGTERM');
		expect((await result).stdout).toBe('');
	});

	test('wss:// to a certificate nobody vouches for: retrying with the reason; trusted with NODE_EXTRA_CA_CERTS', async () => {
		// A self-signed certificate for 127.0.0.1 (test/fixtures/tls, made with openssl for this test).
		const tls = path.join(root, 'test', 'fixtures', 'tls');
		const secure = await LogstreamTestServer.start({backends: [{name: 'web-1', types: ['php-error']}], tls: {key: readFileSync(path.join(tls, 'key.pem')), cert: readFileSync(path.join(tls, 'cert.pem'))}});
		try {
			const config = writeJson('wss.json', {sources: [{type: 'logstream', name: 'acquia-tls', url: secure.url, auth: secure.auth(), types: ['php-error']}]});
			const untrusted = start(['--config', config, '--no-ui', '--no-stdin', '-o', 'raw']);
			children.push(untrusted);
			const refused = collect(untrusted, 30_000);
			await waitFor(untrusted.stderr!, /logmon: acquia-tls: retrying in \d+ s \(TLS: self-signed certificate\)/);
			untrusted.kill('SIGTERM');
			expect((await refused).stdout).toBe('');

			const trusted = start(['--config', config, '--no-ui', '--no-stdin', '-o', 'raw'], {env: {NODE_EXTRA_CA_CERTS: path.join(tls, 'cert.pem')}});
			children.push(trusted);
			const result = collect(trusted, 30_000);
			await until(() => secure.liveClients.at(-1)?.enabled.has('web-1 php-error'), 'php-error enabled over wss');
			secure.line({server: 'web-1', type: 'php-error', text: 'PHP Warning:  over TLS'});
			await waitFor(trusted.stdout!, 'over TLS');
			trusted.kill('SIGTERM');
			expect((await result).stdout).toBe('PHP Warning:  over TLS\n');
		} finally {
			await secure.stop();
		}
	});

	test('tail without an environment is a usage error', async () => {
		const {code, stderr} = await run(['tail', testApplication, '--no-ui']);
		expect(code).toBe(2);
		expect(stderr).toContain('usage: logmon tail <application-uuid> <environment>');
	});
});
