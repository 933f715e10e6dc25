import {afterEach, describe, expect, test} from 'vitest';
import {Bus} from '../source/core/bus.js';
import {LogstreamTestServer} from '../source/testing/logstream-server.js';
import {config, freePort, type Harness, startSource, staticConfig, until} from './logstream-support.js';

// Untrusted input: every bad frame is counted and skipped and the good frames
// around it all arrive; fatal and network failures give one clear cause.

let cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
	for (const c of cleanups.reverse()) {
		await c();
	}

	cleanups = [];
});

async function live(options: Parameters<typeof LogstreamTestServer.start>[0] = {}, extra: Record<string, unknown> = {}): Promise<{server: LogstreamTestServer; h: Harness}> {
	const server = await LogstreamTestServer.start({backends: [{name: 'web-1', types: ['php-error']}], ...options});
	cleanups.push(async () => server.stop());
	const h = await startSource(staticConfig(server, {types: ['php-error'], ...extra}));
	cleanups.push(async () => h.stop());
	await until(() => h.source.toggles.pairs().some(p => p.state === 'enabled'), 'php-error enabled');
	return {server, h};
}

const line = (extra: Record<string, unknown>): string => JSON.stringify({cmd: 'line', log_type: 'php-error', server: 'web-1', disp_time: '2024-01-02 03:04:05', text: 'x', ...extra});

const badFrames: Array<[string, string | Buffer, {binary?: boolean}, RegExp]> = [
	['non-JSON text', 'this is not json {', {}, /not JSON/],
	['a JSON array', '[1,2,3]', {}, /not a JSON object/],
	['JSON without cmd', '{"server":"web-1","text":"hello"}', {}, /no "cmd"/],
	['an unknown cmd', '{"cmd":"frobnicate","server":"web-1"}', {}, /unknown cmd "frobnicate"/],
	['a line without text', JSON.stringify({cmd: 'line', log_type: 'php-error', server: 'web-1', disp_time: '2024-01-02 03:04:05'}), {}, /missing or mistyped text/],
	['a line without log_type', JSON.stringify({cmd: 'line', server: 'web-1', text: 'x'}), {}, /missing or mistyped log_type/],
	['a line with a numeric text', line({text: 42}), {}, /missing or mistyped text/],
	['a line with a numeric server', line({server: 7}), {}, /missing or mistyped server/],
	['a line with an object http_status', line({http_status: {code: 200}}), {}, /mistyped http_status/],
	['a line with a numeric disp_time', line({disp_time: 20_240_102}), {}, /mistyped disp_time/],
	['a line with a text unix_time', line({unix_time: 'yesterday'}), {}, /mistyped unix_time/],
	['a binary frame', Buffer.from(line({text: 'binary'})), {binary: true}, /binary frame/],
	['invalid UTF-8 in a text frame', Buffer.concat([Buffer.from(line({text: 'bad '}).slice(0, -2)), Buffer.from([0xC3, 0x28, 0xFF]), Buffer.from('"}')]), {}, /not valid UTF-8/],
	['an "available" without a type', '{"cmd":"available","server":"web-1"}', {}, /"available" without/],
	['an "enabled" that is not a list', '{"cmd":"enabled","server":"web-1","enabled":"php-error"}', {}, /"enabled" without/],
];

describe('logstream bad input', () => {
	test.each(badFrames)('%s is counted as a parse error and skipped; the frames around it arrive', async (_name, frame, options, reason) => {
		const {server, h} = await live();
		server.line({server: 'web-1', type: 'php-error', text: 'good before'});
		server.sendRaw(frame, options);
		server.line({server: 'web-1', type: 'php-error', text: 'good after'});
		await until(() => h.lines().length === 2, 'both good lines');
		expect(h.lines().map(e => e.message)).toEqual(['good before', 'good after']);
		expect(h.handle.health.parseErrors).toBe(1);
		expect(h.handle.health.lastParseError).toMatch(reason);
		// Same connection, still live.
		expect(server.connections).toHaveLength(1);
		expect(h.handle.health.state).toBe('live');
		expect(h.bus.diagnostics.recent(10).some(d => d.level === 'warn' && reason.test(d.text))).toBe(true);
	});

	test('a frame over maxPayload is counted and the connection is re-established', async () => {
		const {server, h} = await live({}, {maxPayload: 4096});
		server.line({server: 'web-1', type: 'php-error', text: 'good before'});
		server.line({server: 'web-1', type: 'php-error', text: 'x'.repeat(8000)});
		await until(() => server.connections.length === 2 && h.handle.health.state === 'live' && server.liveClients.length === 1, 'reconnected');
		await until(() => h.source.toggles.pairs().some(p => p.state === 'enabled'), 'enabled again');
		server.line({server: 'web-1', type: 'php-error', text: 'good after'});
		await until(() => h.lines().length === 2, 'both good lines');
		expect(h.lines().map(e => e.message)).toEqual(['good before', 'good after']);
		expect(h.handle.health.parseErrors).toBe(1);
		expect(h.handle.health.lastParseError).toMatch(/larger than maxPayload \(4096 bytes\)/);
	});

	test('a 3 MiB line among 5,000 good ones: same connection, every good line, the big one cut to maxLine and counted', async () => {
		// Odd, so that the cap falls inside a two-byte character and the cut must step back to a whole one.
		const maxLine = 64 * 1024 + 1;
		const server = await LogstreamTestServer.start({backends: [{name: 'web-1', types: ['php-error']}]});
		cleanups.push(async () => server.stop());
		const h = await startSource(staticConfig(server, {types: ['php-error']}), {maxLine});
		cleanups.push(async () => h.stop());
		await until(() => h.source.toggles.pairs().some(p => p.state === 'enabled'), 'php-error enabled');
		const big = 'é'.repeat(1.5 * 1024 * 1024) + 'the end';
		for (let i = 0; i < 5000; i++) {
			if (i === 2500) {
				server.line({server: 'web-1', type: 'php-error', text: big});
			}

			server.line({server: 'web-1', type: 'php-error', text: `good ${i}`});
		}

		await until(() => h.lines().length === 5001, 'all 5,001 lines', 30_000);
		const lines = h.lines();
		expect(lines.filter((_, i) => i !== 2500).map(e => e.message)).toEqual(Array.from({length: 5000}, (_, i) => `good ${i}`));
		const kept = 'é'.repeat((maxLine - 1) / 2);
		const cut = Buffer.byteLength(big) - Buffer.byteLength(kept);
		expect(lines[2500]!.message).toBe(`${kept} …[truncated ${cut} bytes]`);
		expect(lines[2500]!.raw).toBe(lines[2500]!.message);
		expect((lines[2500]!.record as {text: string}).text).toBe(lines[2500]!.raw);
		expect(h.handle.health.parseErrors).toBe(1);
		expect(h.handle.health.lastParseError).toBe(`line longer than the cap (--max-line ${maxLine} bytes), ${cut} bytes cut`);
		expect(server.connections).toHaveLength(1);
		expect(h.handle.health.reconnects).toBe(0);
		expect(h.handle.health.state).toBe('live');
	});

	test('a malformed disp_time keeps the line, stamped on arrival', async () => {
		const {server, h} = await live();
		const t0 = Date.now();
		server.sendRaw(line({disp_time: 'yesterday', text: 'odd time'}));
		await until(() => h.lines().length === 1, 'the line');
		expect(h.lines()[0]!.time).toBeGreaterThanOrEqual(t0);
		expect(h.handle.health.parseErrors).toBe(0);
	});

	test('control characters and escapes in fields are neutralised; raw keeps the original', async () => {
		const {server, h} = await live();
		server.sendRaw(line({text: 'evil \u001B]52;c;ZXZpbA==\u0007 \u001B[31mred\u001B[0m', server: 'web-1'}));
		await until(() => h.lines().length === 1, 'the line');
		expect(h.lines()[0]!.message).not.toMatch(/\u001B/);
		expect(h.lines()[0]!.raw).toContain('\u001B]52');
	});

	test('an auth error from the API front fails the source with the server description, no retry', async () => {
		const server = await LogstreamTestServer.start();
		cleanups.push(async () => server.stop());
		const h = await startSource(config({url: server.url, auth: {...server.auth(), d: 'f'.repeat(64)}}));
		cleanups.push(async () => h.stop());
		await until(() => h.handle.health.state === 'failed', 'failed');
		expect(h.handle.health.reason).toBe('authentication refused by logstream-api-61: invalid authentication token');
		await until(() => server.liveClients.length === 0 && [...server.connections].length === 1, 'one connection only');
	});

	test('connection refused shows as retrying with the cause', async () => {
		const port = await freePort();
		const h = await startSource(config({url: `ws://127.0.0.1:${port}/`, auth: {site: 's', env: 'e', t: 1, d: 'd'}}));
		cleanups.push(async () => h.stop());
		await until(() => h.handle.health.state === 'retrying' && h.handle.health.reason === 'connection refused', 'retrying (connection refused)');
		expect(h.handle.health.retryAt).toBeDefined();
	});

	test('a TLS failure shows as retrying with the cause', async () => {
		// TLS spoken to a plain WebSocket server.
		const server = await LogstreamTestServer.start();
		cleanups.push(async () => server.stop());
		const h = await startSource(config({url: server.url.replace('ws://', 'wss://'), auth: server.auth()}));
		cleanups.push(async () => h.stop());
		await until(() => h.handle.health.state === 'retrying' && h.handle.health.reason === 'TLS: wrong version number', 'retrying (TLS)');
	});

	test('one failed source does not stop another', async () => {
		const server = await LogstreamTestServer.start({backends: [{name: 'web-1', types: ['php-error']}]});
		cleanups.push(async () => server.stop());
		const bus = new Bus();
		const bad = await startSource(config({url: server.url, auth: {...server.auth(), d: '0'.repeat(64)}}), {bus, id: 'bad'});
		cleanups.push(async () => bad.stop());
		const good = await startSource(staticConfig(server, {types: ['php-error']}), {bus, id: 'good'});
		cleanups.push(async () => good.stop());
		await until(() => bad.handle.health.state === 'failed' && good.source.toggles.pairs().some(p => p.state === 'enabled'), 'one failed, one live');
		server.line({server: 'web-1', type: 'php-error', text: 'still flowing'});
		await until(() => good.lines().length === 1, 'the line');
		expect(good.handle.health.state).toBe('live');
	});
});
