import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {request, serve, stop} from '../support/http.js';
import {freePort, run} from '../support/logmon.js';

// Loopback by default; a token needed off loopback and checked on every API call; never logged;
// CORS only when configured; bodies capped.

const dirs: string[] = [];
afterAll(() => {
	for (const d of dirs) {
		rmSync(d, {recursive: true, force: true});
	}
});

function config(value: unknown): string {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-http-security-'));
	dirs.push(dir);
	const file = path.join(dir, 'config.json');
	writeFileSync(file, JSON.stringify(value));
	return file;
}

const token = 'c0ffee-0123456789abcdef-token';

describe('the token', () => {
	it('a non-loopback address without a token is refused, saying how to set one', async () => {
		const port = await freePort();
		const r = await run(['serve', '--no-history', '--http', `0.0.0.0:${port}`]);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/^logmon: --http: 0\.0\.0\.0:\d+ is reachable from other machines, so the API needs a token: set a token with --http-token TOKEN or, better \(a flag shows in ps\), "http": \{"token": "\$\{LOGMON_HTTP_TOKEN\}"\} in the config; make one with: openssl rand -hex 32\n$/);
		const fromConfig = await run(['serve', '--no-history', '--config', config({http: {listen: `[::]:${port}`}})]);
		expect(fromConfig.code).toBe(2);
		expect(fromConfig.stderr).toMatch(/^logmon: http\.listen: \[::\]:\d+ is reachable from other machines/);
		const short = await run(['serve', '--no-history', '--http', `0.0.0.0:${port}`, '--http-token', 'abc']);
		expect(short.code).toBe(2);
		expect(short.stderr).toMatch(/--http-token: expected at least 16 characters/);
	});

	it('with a token every API call needs it; it never shows in logs or answers', async () => {
		const s = await serve(['--no-history', '--http-token', token, '--debug'], {host: '0.0.0.0'});
		const none = await request(`${s.base}/api/v1/health`);
		expect(none.status).toBe(401);
		expect(none.headers['www-authenticate']).toBe('Bearer realm="logmon"');
		expect(none.json).toMatchObject({status: 401, parameter: 'Authorization'});
		const wrong = await request(`${s.base}/api/v1/logs/events`, {headers: {Authorization: `Bearer ${token}x`}});
		expect(wrong.status).toBe(401);
		expect(wrong.text).not.toContain(token);
		expect((await request(`${s.base}/api/v1/logs/events`, {headers: {Authorization: `Basic ${token}`}})).status).toBe(401);
		expect((await request(`${s.base}/api/v1/stream`, {headers: {Authorization: 'Bearer short'}})).status).toBe(401);
		// Unknown paths too: nothing is told without the token.
		expect((await request(`${s.base}/api/v1/nope`)).status).toBe(401);
		const ok = await request(`${s.base}/api/v1/health`, {headers: {Authorization: `Bearer ${token}`}});
		expect(ok.status).toBe(200);
		expect(ok.json.http.unauthorized).toBe(5);
		// With a token the Host check is not needed: a name other machines use is fine.
		expect((await request(`${s.base}/api/v1/health`, {headers: {Authorization: `Bearer ${token}`, Host: 'logs.example:5004'}})).status).toBe(200);
		expect(JSON.stringify(ok.json)).not.toContain(token);
		await stop(s);
		expect(s.stderr()).not.toContain(token);
		expect(s.stderr()).toMatch(/serving http:\/\/0\.0\.0\.0:\d+\/api\/v1\//);
	});

	it('http.token from the config, with ${ENV}; an unset variable is an error naming it', async () => {
		const file = config({http: {token: '${LOGMON_TEST_HTTP_TOKEN}'}});
		const s = await serve(['--no-history', '--config', file], {host: '0.0.0.0', env: {LOGMON_TEST_HTTP_TOKEN: token}});
		expect((await request(`${s.base}/api/v1/health`)).status).toBe(401);
		expect((await request(`${s.base}/api/v1/health`, {headers: {Authorization: `Bearer ${token}`}})).status).toBe(200);
		await stop(s);
		const unset = await run(['serve', '--no-history', '--config', file]);
		expect(unset.code).toBe(2);
		expect(unset.stderr).toMatch(/http\.token: environment variable LOGMON_TEST_HTTP_TOKEN is not set/);
	});
});

describe('CORS and limits', () => {
	it('CORS headers and preflights only for the configured origins', async () => {
		const file = config({http: {cors: ['https://grafana.example']}});
		const s = await serve(['--no-history', '--config', file]);
		const preflight = await request(`${s.base}/api/v1/logs/stats`, {method: 'OPTIONS', headers: {Origin: 'https://grafana.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization'}});
		expect(preflight.status).toBe(204);
		expect(preflight.headers).toMatchObject({
			'access-control-allow-origin': 'https://grafana.example',
			'access-control-allow-methods': 'GET, OPTIONS',
			'access-control-allow-headers': 'accept, authorization, content-type, last-event-id',
			vary: 'Origin',
		});
		const get = await request(`${s.base}/api/v1/logs/stats`, {headers: {Origin: 'https://grafana.example'}});
		expect(get.headers['access-control-allow-origin']).toBe('https://grafana.example');
		const other = await request(`${s.base}/api/v1/logs/stats`, {headers: {Origin: 'https://evil.example'}});
		expect(other.status).toBe(200);
		expect(other.headers['access-control-allow-origin']).toBeUndefined();
		const otherPreflight = await request(`${s.base}/api/v1/logs/stats`, {method: 'OPTIONS', headers: {Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET'}});
		expect(otherPreflight.headers['access-control-allow-origin']).toBeUndefined();
		await stop(s);

		const any = await serve(['--no-history', '--config', config({http: {cors: '*'}})]);
		const star = await request(`${any.base}/api/v1/health`, {headers: {Origin: 'https://anywhere.example'}});
		expect(star.headers['access-control-allow-origin']).toBe('*');
		await stop(any);
	});

	it('a body over 1 MiB gets a 413 before it is read', async () => {
		const s = await serve(['--no-history']);
		const r = await request(`${s.base}/api/v1/health`, {method: 'POST', headers: {'Content-Type': 'application/json', 'Content-Length': String(2 * 1024 * 1024)}, body: ''});
		expect(r.status).toBe(413);
		expect(r.json).toMatchObject({status: 413, parameter: 'body', error: 'body: larger than 1048576 bytes'});
		await stop(s);
	});

	it('a chunked body (no Content-Length) over 1 MiB gets a 413 once read that far, and logmon goes on', async () => {
		const s = await serve(['--no-history']);
		// The server closes the connection with its answer, maybe while the body is still going out.
		const answer = await request(`${s.base}/api/v1/grafana/query`, {method: 'POST', headers: {'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked'}, body: Buffer.alloc(2_000_000, 0x20)})
			.catch((error: NodeJS.ErrnoException) => error.code ?? error.message);
		expect([413, 'ECONNRESET', 'EPIPE']).toContain(typeof answer === 'string' ? answer : answer.status);
		const health = await request(`${s.base}/api/v1/health`);
		expect(health.status).toBe(200);
		expect(health.json.http.byStatus['4xx']).toBe(1);
		expect(s.child.exitCode).toBeNull();
		await stop(s);
	});

	it('a request Node cannot parse gets a 400, and a query string past 16 KiB a 431, each with a JSON message, counted in health', async () => {
		const s = await serve(['--no-history']);
		const send = async (raw: string) => new Promise<string>((resolve, reject) => {
			const socket = net.connect(s.port, '127.0.0.1', () => socket.end(raw));
			let text = '';
			socket.setEncoding('utf8').on('data', (d: string) => {
				text += d;
			}).on('close', () => resolve(text)).on('error', reject);
		});
		const reply = await send('NOT HTTP AT ALL\r\n\r\n');
		expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nContent-Type: application\/json; charset=utf-8\r\n/);
		expect(JSON.parse(reply.split('\r\n\r\n')[1]!)).toMatchObject({status: 400, message: expect.any(String)});
		const long = await send(`GET /api/v1/logs/events?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
		expect(long).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
		expect(JSON.parse(long.split('\r\n\r\n')[1]!)).toMatchObject({status: 431, message: expect.stringMatching(/past 16 KiB/)});
		const health = await request(`${s.base}/api/v1/health`);
		expect(health.json.http.byStatus['4xx']).toBe(2);
		await stop(s);
	});

	it('text a client sent or a log line held comes back as \\u escapes for line separators, bidi overrides and tag characters: curl in a terminal shows it in order', async () => {
		const s = await serve(['--no-history']);
		s.child.stdin!.write('pay \u202Eevil\u202C here \u2028 \u{1D173}\n');
		let body = '';
		for (let i = 0; i < 100 && !body.includes('here'); i++) {
			body = (await request(`${s.base}/api/v1/logs/events`)).text;
			await new Promise(resolve => setTimeout(resolve, 50));
		}

		expect(body).toContain('pay \\u202eevil\\u202c here \\u2028 \\ud834\\udd73');
		expect(body).not.toMatch(/[\u0080-\u009F\u2028\u202C\u202E]|\u{1D173}/u);
		// The raw line keeps the text as it came (the message shows it escaped): the same value, written safely.
		expect((JSON.parse(body) as {events: Array<{raw: string}>}).events[0]!.raw).toBe('pay \u202Eevil\u202C here \u2028 \u{1D173}');
		// An error that quotes a parameter: the same.
		const bad = await request(`${s.base}/api/v1/logs/events?since=${encodeURIComponent('x\u202Ey\u{E0041}')}`);
		expect(bad.status).toBe(400);
		expect(bad.text).toContain('got \\"x\\u202ey\\udb40\\udc41\\"');
		expect(bad.json.message).toContain('got "x\u202Ey\u{E0041}"');
		await stop(s);
	});
});
