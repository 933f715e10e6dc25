import {afterEach, expect, test} from 'vitest';
import {Diagnostics} from '../../source/core/diagnostics.js';
import {logstreamConfig} from '../../source/config/logstream.js';
import {LogstreamSource} from '../../source/sources/logstream.js';
import {LogstreamTestServer} from '../../source/testing/logstream-server.js';
import {setup} from './harness.js';

// The toggles panel driving the real logstream source against the real test server:
// a key press puts enable/disable frames on the wire, the panel shows the pair pending,
// then the server's reply; once disabled, the server sends nothing for that pair.

let h: ReturnType<typeof setup> | undefined;
let server: LogstreamTestServer | undefined;
let source: LogstreamSource | undefined;

afterEach(async () => {
	h?.close();
	await source?.stop();
	await server?.stop();
	h = undefined;
	source = undefined;
	server = undefined;
});

function sent(cmd: string): string[] {
	return server!.connections.flatMap(c => c.received)
		.filter((m): m is {cmd: string; server: string; type: string} => typeof m === 'object' && m !== null && (m as {cmd?: unknown}).cmd === cmd)
		.map(m => `${m.server}/${m.type}`)
		.sort();
}

test('toggling a type sends disable then enable to the real server, and the panel follows its replies', async () => {
	const types = ['apache-request', 'drupal-watchdog', 'php-error'];
	server = await LogstreamTestServer.start({backends: [{name: 'web-1', types}, {name: 'web-2', types}]});
	const config = logstreamConfig.parse({type: 'logstream', url: server.url, auth: server.auth(), types});
	source = new LogstreamSource('logstream', config, {diagnostics: new Diagnostics(), debug: false, maxLine: 1024 * 1024});
	h = setup({columns: 160, rows: 30, sources: [{id: 'logstream', toggles: source.toggles}]});
	await source.start(h.app.bus.addSource('logstream', 'logstream'));

	await h.press('t');
	await h.waitFor(/3 ● php-error 2\/2/);
	expect(sent('enable')).toEqual(['web-1/apache-request', 'web-1/drupal-watchdog', 'web-1/php-error', 'web-2/apache-request', 'web-2/drupal-watchdog', 'web-2/php-error']);

	await h.press('3');
	await h.waitFor(/3 ○ php-error 0\/2/); // after pending, the server's success replies settle it
	expect(sent('disable')).toEqual(['web-1/php-error', 'web-2/php-error']);
	expect(server.line({server: 'web-1', type: 'php-error', text: 'PHP Warning: x'})).toBe(0); // the server stopped sending
	expect(server.line({server: 'web-1', type: 'apache-request', text: 'GET / 200'})).toBe(1);

	await h.press('3');
	await h.waitFor(/3 ● php-error 2\/2/);
	expect(sent('enable').filter(p => p.endsWith('php-error'))).toEqual(['web-1/php-error', 'web-1/php-error', 'web-2/php-error', 'web-2/php-error']);
	expect(server.line({server: 'web-2', type: 'php-error', text: 'PHP Warning: y'})).toBe(1);
});
