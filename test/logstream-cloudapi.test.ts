import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import {type AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {CloudApiTestServer, LogstreamTestServer, type StreamParams} from '../source/testing/logstream-server.js';
import {testApplication} from '../source/testing/cloud-api-server.js';
import {config, freePort, type Harness, sent, startSource, until} from './logstream-support.js';

// The Cloud API v2 sign-in (protocols.md §1.1) against the local Cloud API.

let server: LogstreamTestServer;
let cloud: CloudApiTestServer;
let dir: string;
let issued: StreamParams[] = [];
let harness: Harness | undefined;

beforeAll(async () => {
	server = await LogstreamTestServer.start({backends: [{name: 'web-1', types: ['php-error', 'apache-request']}]});
	cloud = await CloudApiTestServer.start({
		logstream() {
			const params = server.params();
			issued.push(params);
			return {url: server.url, params};
		},
	});
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-cloud-'));
});

afterEach(async () => {
	await harness?.stop();
	harness = undefined;
	issued = [];
});

afterAll(async () => {
	await server.stop();
	await cloud.stop();
	rmSync(dir, {recursive: true, force: true});
});

let files = 0;
function credentialsFile(contents: unknown, mode = 0o600): string {
	const file = path.join(dir, `creds-${files++}.conf`);
	writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents));
	chmodSync(file, mode);
	return file;
}

function acquia(extra: Record<string, unknown> = {}): Record<string, unknown> {
	return {acquia: {application: testApplication, environment: 'prod', credentials: credentialsFile(cloud.credentials()), tokenUrl: cloud.tokenUrl, apiUrl: cloud.apiUrl, ...extra}};
}

async function failure(raw: Record<string, unknown>): Promise<string> {
	harness = await startSource(config(raw));
	const h = harness;
	await until(() => h.handle.health.state === 'failed', 'failed');
	return h.handle.health.reason ?? '';
}

describe('logstream Cloud API sign-in', () => {
	test('token, environment by name, logstream params, and the field renames in stream-environment', async () => {
		const connectionsBefore = server.connections.length;
		harness = await startSource(config(acquia()), {debug: true});
		const h = harness;
		await until(() => h.source.toggles.pairs().filter(p => p.state === 'enabled').length === 2, 'enabled');
		expect(issued).toHaveLength(1);
		const p = issued[0]!;
		expect(sent(server, connectionsBefore)[0]).toEqual({cmd: 'stream-environment', site: p.site, env: p.environment, t: p.t, d: p.hmac});
		expect(typeof sent(server, connectionsBefore)[0]!['t']).toBe('number');
		server.line({server: 'web-1', type: 'php-error', text: 'PHP Warning:  x'});
		await until(() => h.lines().length === 1, 'a line');
		expect(h.lines()[0]).toMatchObject({service: 'devcloud:mysite', host: 'web-1', type: 'php-error', level: 'WARN'});

		// --debug shows the HTTP exchange with every secret redacted.
		const trace = h.debug.join('\n');
		expect(trace).toContain(`-> POST ${cloud.tokenUrl} client_id=test-api-key&client_secret=[redacted]&grant_type=client_credentials`);
		expect(trace).toContain('"access_token":"[redacted]"');
		expect(trace).toContain('(Authorization: Bearer [redacted])');
		expect(trace).toContain('"hmac":"[redacted]"');
		expect(trace).not.toContain(cloud.apiSecret);
		expect(trace).not.toContain(p.hmac);
		expect(trace).not.toMatch(/[0-9a-f]{48}/); // no bearer token (48 hex) anywhere
	});

	test('a bad secret fails the source with the 401', async () => {
		const reason = await failure(acquia({credentials: credentialsFile({api_key: 'test-api-key', api_secret: 'wrong'})}));
		expect(reason).toBe('Cloud API token: HTTP 401: invalid_client: Client authentication failed');
	});

	test('an unknown application fails with the 404', async () => {
		const reason = await failure(acquia({application: '00000000-0000-0000-0000-000000000000'}));
		expect(reason).toBe('Cloud API environments: HTTP 404: not_found: The application you are trying to access does not exist, or you do not have permission to access it.');
	});

	test('an unknown environment name fails and lists the names there are', async () => {
		const reason = await failure(acquia({environment: 'staging'}));
		expect(reason).toBe(`Cloud API: application ${testApplication} has no environment named "staging" (it has: dev, test, prod, ra)`);
	});

	test('a non-hosted environment fails with the 404 message', async () => {
		const reason = await failure(acquia({environment: 'ra'}));
		expect(reason).toBe('Cloud API logstream: HTTP 404: not_found: Logs cannot be accessed on non-hosted environments.');
	});

	test('a missing or invalid credentials file fails with the original hint', async () => {
		const missing = path.join(dir, 'nope.conf');
		expect(await failure(acquia({credentials: missing}))).toBe(`${missing} is missing or invalid (ENOENT). Please configure your Cloud API v2 credentials`);
		await harness?.stop();
		const garbled = credentialsFile('{"api_key": ');
		expect(await failure(acquia({credentials: garbled}))).toBe(`${garbled} is missing or invalid (not JSON). Please configure your Cloud API v2 credentials`);
	});

	test('a credentials file readable by group or others gives a warning, and still works', async () => {
		const loose = credentialsFile(cloud.credentials(), 0o644);
		harness = await startSource(config(acquia({credentials: loose})));
		const h = harness;
		await until(() => h.handle.health.state === 'live', 'live');
		const warnings = h.bus.diagnostics.recent(20).filter(d => d.level === 'warn').map(d => `${d.origin}: ${d.text}`);
		expect(warnings).toEqual([`logstream: ${loose} is readable by group or others; it holds your Cloud API secret (chmod 600 it)`]);
	});

	test('an unreachable Cloud API is retried, not fatal', async () => {
		harness = await startSource(config(acquia({tokenUrl: `http://127.0.0.1:${await freePort()}/api/auth/oauth/token`})));
		const h = harness;
		await until(() => h.handle.health.state === 'retrying', 'retrying');
		expect(h.handle.health.reason).toBe('Cloud API token: connection refused');
	});

	test('a token answer without end is cut off, and one that drips is given up at the time limit: retried, memory bounded', async () => {
		const peers: http.Server[] = [];
		const peer = async (drip: boolean): Promise<string> => {
			const s = http.createServer((_request, res) => {
				res.writeHead(200, {'content-type': 'application/json'});
				res.write('{"access_token":"');
				const timer = setInterval(() => {
					res.write(drip ? 'a' : Buffer.alloc(64 * 1024, 0x61));
				}, drip ? 1000 : 1);
				res.once('close', () => clearInterval(timer));
			});
			peers.push(s);
			await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve));
			return `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/auth/oauth/token`;
		};

		try {
			harness = await startSource(config(acquia({tokenUrl: await peer(false)})));
			const endless = harness;
			await until(() => endless.handle.health.state === 'retrying', 'retrying');
			expect(endless.handle.health.reason).toBe('Cloud API token: an answer larger than 1024 KiB');
			await harness.stop();
			harness = await startSource(config(acquia({tokenUrl: await peer(true)})));
			const dripping = harness;
			await until(() => dripping.handle.health.state === 'retrying', 'retrying after the 15 s limit', 30_000);
			expect(dripping.handle.health.reason).toBe('Cloud API token: timed out');
		} finally {
			for (const s of peers) {
				s.closeAllConnections();
				s.close();
			}
		}
	}, 60_000);

	test('streamUrl overrides the WebSocket URL from the API', async () => {
		const other = await LogstreamTestServer.start({backends: [{name: 'web-9', types: ['php-error']}]});
		try {
			// The other server must accept this server's params: share them through its own signer.
			const otherCloud = await CloudApiTestServer.start({logstream: () => ({url: 'ws://127.0.0.1:1/unused', params: other.params()})});
			try {
				harness = await startSource(config({acquia: {application: testApplication, environment: 'prod', credentials: credentialsFile(otherCloud.credentials()), tokenUrl: otherCloud.tokenUrl, apiUrl: otherCloud.apiUrl, streamUrl: other.url}}));
				const h = harness;
				await until(() => h.source.toggles.pairs().some(p => p.server === 'web-9' && p.state === 'enabled'), 'enabled on the overriding server');
			} finally {
				await harness?.stop();
				harness = undefined;
				await otherCloud.stop();
			}
		} finally {
			await other.stop();
		}
	});
});
