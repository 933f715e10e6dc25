import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {eventually, request, serve, stop, type Served} from '../support/http.js';
import {freePort, root, run} from '../support/logmon.js';

// The HTTP server of the built logmon over real HTTP: routing, errors, health, serve's stop.

describe('logmon serve: the server', () => {
	let s: Served;
	beforeAll(async () => {
		s = await serve();
		s.child.stdin!.write('{"level":"error","service":"billing","message":"card declined"}\n');
	});
	afterAll(async () => {
		await stop(s);
	});

	it('GET /api/v1/health: sources, history, redaction, version, uptime', async () => {
		const health = await eventually(async () => {
			const r = await request(`${s.base}/api/v1/health`);
			return r.json?.sources?.[0]?.events === 1 ? r : undefined;
		}, 'the event counted');
		expect(health.status).toBe(200);
		expect(health.headers['content-type']).toBe('application/json; charset=utf-8');
		expect(health.headers['x-content-type-options']).toBe('nosniff');
		expect(health.json).toMatchObject({
			status: 'ok',
			version: expect.stringMatching(/^\d+\.\d+\.\d+/),
			uptimeSeconds: expect.any(Number),
			sources: [{id: 'stdin', kind: 'stdin', state: 'live', events: 1, parseErrors: 0, drops: 0}],
			history: {state: 'off'},
			redaction: {enabled: true, mode: 'mask', changed: 0},
		});
		expect(health.json.redaction.rules.map((r: {name: string}) => r.name)).toContain('aws-key');
	});

	it('answers JSON 404 for an unknown path and 405 with Allow for another method', async () => {
		const missing = await request(`${s.base}/api/v1/nope`);
		expect(missing.status).toBe(404);
		expect(missing.json).toEqual({error: 'no such path: /api/v1/nope', message: 'no such path: /api/v1/nope', status: 404});
		const post = await request(`${s.base}/api/v1/health`, {method: 'POST', body: '{}'});
		expect(post.status).toBe(405);
		expect(post.headers.allow).toBe('GET');
		expect(post.json.error).toMatch(/POST is not allowed here; use GET/);
		// No CORS configured: a preflight is just another method, and no Access-Control header is sent.
		const preflight = await request(`${s.base}/api/v1/health`, {method: 'OPTIONS', headers: {Origin: 'https://grafana.example', 'Access-Control-Request-Method': 'GET'}});
		expect(preflight.status).toBe(405);
		expect(Object.keys(preflight.headers).filter(h => h.startsWith('access-control'))).toEqual([]);
	});

	it('a path segment holding %2F is one segment: a service named k8s/web', async () => {
		s.child.stdin!.write('{"level":"error","service":"k8s/web","message":"pod evicted"}\n');
		const r = await eventually(async () => {
			const answer = await request(`${s.base}/api/v1/logs/errors/k8s%2Fweb`);
			return answer.json?.events?.length === 1 ? answer : undefined;
		}, 'the k8s/web error listed');
		expect(r.status).toBe(200);
		expect(r.json.events[0]).toMatchObject({service: 'k8s/web', message: 'pod evicted'});
		expect((await request(`${s.base}/api/v1/logs/errors/%E2%82`)).status).toBe(400);
	});

	it('a time past what a date can hold is a 400 naming the parameter, not a 500', async () => {
		for (const [route, parameter] of [['/api/v1/logs/stats?since=300000000d', 'since'], ['/api/v1/logs/series?since=99999999999999999d', 'since'], ['/api/v1/logs/groups?until=300000000d', 'until']] as const) {
			// eslint-disable-next-line no-await-in-loop
			const r = await request(`${s.base}${route}`);
			expect([route, r.status, r.json?.parameter]).toEqual([route, 400, parameter]);
		}

		const grafana = await request(`${s.base}/api/v1/grafana/query`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"range":{"from":-1e308,"to":1e308},"targets":[{"target":"error_count"}]}'});
		expect(grafana.status).toBe(400);
		expect(grafana.json).toMatchObject({parameter: 'range.from', message: expect.stringMatching(/^range\.from: /)});
		// Grafana shows an error's `message`: a body that is not JSON has one too.
		const notJson = await request(`${s.base}/api/v1/grafana/query`, {method: 'POST', body: 'nope'});
		expect(notJson.status).toBe(400);
		expect(notJson.json).toMatchObject({parameter: 'body', message: expect.stringMatching(/^body: not valid JSON/)});
	});

	it('refuses Host names that are not loopback when there is no token (DNS rebinding)', async () => {
		const r = await request(`${s.base}/api/v1/health`, {headers: {Host: 'evil.example:80'}});
		expect(r.status).toBe(403);
		expect(r.json.error).toMatch(/^Host: /);
	});
});

describe('logmon serve: stopping', () => {
	it('SIGTERM stops it cleanly: exit 0, state lines on stderr, nothing on stdout', async () => {
		const s = await serve();
		s.child.stdin!.write('hello\n');
		await eventually(async () => (await request(`${s.base}/api/v1/health`)).json?.sources?.[0]?.events === 1, 'the event counted');
		const code = await stop(s, 'SIGTERM');
		expect(code).toBe(0);
		expect(s.stdout()).toBe('');
		expect(s.stderr()).toMatch(/logmon: serving http:\/\/127\.0\.0\.1:\d+\/api\/v1\/ \(stdin\)\n/);
		expect(s.stderr()).toMatch(/logmon: SIGTERM: stopping\n[^]*logmon: stopped: 1 events read/);
	});

	it('SIGINT too', async () => {
		const s = await serve();
		expect(await stop(s, 'SIGINT')).toBe(0);
	});
});

describe('loading', () => {
	it('pipe mode loads no HTTP code without --http, and no React or Ink with it', async () => {
		const chunks = path.join(root, 'dist', 'bundle', 'chunks');
		const httpChunk = readdirSync(chunks).find(f => readFileSync(path.join(chunks, f), 'utf8').includes('no such path: '));
		expect(httpChunk).toBeDefined();
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-imports-'));
		const recorder = ['--import', path.join(root, 'test', 'support', 'record-imports.mjs')];
		const without = await run(['--no-ui'], {input: 'a line\n', env: {LOGMON_IMPORT_LOG: path.join(dir, 'without.txt')}, nodeArgs: recorder});
		expect(without.code).toBe(0);
		expect(readFileSync(path.join(dir, 'without.txt'), 'utf8')).not.toContain(httpChunk!);
		const port = await freePort();
		const withHttp = await run(['--no-ui', '--http', String(port)], {input: 'a line\n', env: {LOGMON_IMPORT_LOG: path.join(dir, 'with.txt')}, nodeArgs: recorder});
		expect(withHttp.code).toBe(0);
		expect(withHttp.stderr).toMatch(new RegExp(`logmon: http: serving http://127\\.0\\.0\\.1:${port}/api/v1/`));
		const urls = readFileSync(path.join(dir, 'with.txt'), 'utf8');
		expect(urls).toContain(httpChunk!);
		expect(urls).not.toMatch(/node_modules\/(ink|react|react-reconciler)\//);
		rmSync(dir, {recursive: true, force: true});
	});

	it('--help shows the HTTP flags and serve, with examples', async () => {
		const help = await run(['--help']);
		expect(help.stdout).toMatch(/logmon serve \[options\]/);
		expect(help.stdout).toMatch(/--http \[HOST:\]PORT/);
		expect(help.stdout).toMatch(/--http-token TOKEN/);
		expect(help.stdout).toMatch(/\$ logmon serve --kafka/);
	});
});
