import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {LogioPublisher} from '../../source/publish/logio.js';
import {Receiver} from '../support/alert-peers.js';
import {collect, freePort, run, start, until, waitFor} from '../support/logmon.js';
import {Tmux, paneCommand, prepare, shellQuote} from '../support/tmux.js';

// Alerts end to end, with the built logmon: a logio publisher's burst of errors gives
// the webhook exactly one firing notice and, once the window has passed, one resolved
// notice; pipe mode keeps stdout for the stream (alerts on stderr); the demo's rules
// fire within a minute; the UI in tmux shows the banner, the alert in the tail and the
// alerts list, and silences a rule.

const dir = mkdtempSync(path.join(tmpdir(), 'logmon-alerts-e2e-'));

function configFile(name: string, config: unknown): string {
	const file = path.join(dir, name);
	writeFileSync(file, JSON.stringify(config));
	return file;
}

describe('alerts with the built logmon', () => {
	let hook: Receiver;

	beforeAll(async () => {
		hook = await new Receiver().listen();
	});

	afterAll(async () => {
		await hook.close();
	});

	afterEach(() => {
		hook.received.length = 0;
	});

	test('a burst of errors from a logio publisher: one firing, then one resolved, at the webhook', async () => {
		const port = await freePort();
		const config = configFile('burst.json', {
			sources: [{type: 'logio-listen', listen: `127.0.0.1:${port}`}],
			alerts: {
				rules: [{name: 'checkout-errors', when: 'level>=error', groupBy: 'service', count: {atLeast: 10, window: '3s'}, cooldown: '1m', notify: ['hook', 'terminal']}],
				sinks: {hook: {type: 'webhook', url: hook.url}},
			},
		});
		const child = start(['--config', config, '--no-ui'], {stdin: 'ignore'});
		const result = collect(child, 60_000);
		await waitFor(child.stderr!, `listening on 127.0.0.1:${port}`);
		const publisher = new LogioPublisher({host: '127.0.0.1', port, topic: {app: 'checkout', proc: 'web', host: 'web-1'}});
		for (let i = 0; i < 30; i++) {
			publisher.send(`ERROR connection refused to db:5432 (attempt ${i})\n`);
			publisher.send(`INFO request ${i} served\n`);
		}

		await publisher.drained();
		await until(() => hook.received.some(r => (r.body as {status: string}).status === 'resolved'), 'the resolved notice', 30_000);
		await publisher.close();
		child.kill('SIGTERM');
		const r = await result;
		type Body = {status: string; alerts: Array<{rule: string; status: string; group: Record<string, string>; sample?: {message: string}}>};
		const bodies = hook.bodies<Body>();
		expect(bodies.map(b => b.alerts.map(a => a.status))).toEqual([['firing'], ['resolved']]);
		expect(bodies[0]!.alerts[0]).toMatchObject({rule: 'checkout-errors', group: {service: 'checkout'}});
		expect(bodies[0]!.alerts[0]!.sample!.message).toMatch(/^ERROR connection refused to db:5432/);
		// The stream itself went to stdout, the notices to stderr.
		expect(r.stdout).toContain('INFO request 29 served');
		expect(r.stdout).not.toMatch(/FIRING|RESOLVED/);
		expect(r.stderr).toMatch(/logmon: alert \S+ FIRING checkout-errors \{service=checkout\}: \d+ events in 3s \(alert at 10 or more\)/);
		expect(r.stderr).toMatch(/logmon: alert \S+ RESOLVED checkout-errors \{service=checkout\}/);
	});

	test('pipe mode: stdout is the stream byte for byte; each alert is one line on stderr', async () => {
		const input = ['boot ok', 'CRITICAL disk full on /dev/sda1', 'ERROR x', 'CRITICAL disk full on /dev/sdb1', 'bye', ''].join('\n');
		const r = await run(['-o', 'raw', '--alert', 'level>=critical', '--alert', '"disk full"'], {input});
		expect(r.code).toBe(0);
		expect(r.stdout).toBe(input);
		const alerts = r.stderr.split('\n').filter(l => l.startsWith('logmon: alert '));
		expect(alerts).toHaveLength(2);
		expect(alerts[0]).toMatch(/FIRING level>=critical: \d+ matching events? \(level>=critical\) — CRITICAL disk full on \/dev\/sda1$/);
		expect(alerts[1]).toMatch(/FIRING "disk full": /);
	});

	test('--alert with a bad expression names the flag and exits 2', async () => {
		const r = await run(['--alert', 'level>=loud']);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/^logmon: --alert: when: .*unknown level "loud"/);
	});

	test('a config rule with a bad field is named in the error', async () => {
		const config = configFile('bad.json', {alerts: {rules: [{name: 'ok'}, {name: 'db-errors', count: {atLeast: 10, window: '5 minutes'}}]}});
		const r = await run(['--config', config]);
		expect(r.code).toBe(2);
		expect(r.stderr).toContain(`${config}: alerts.rules[1] ("db-errors").count.window: expected a duration such as "90s", "5m" or "1h", got "5 minutes"`);
	});

	test('--demo: both demo rules fire within the first minute', async () => {
		const child = start(['--demo', '--no-ui', '-o', 'json'], {stdin: 'ignore'});
		const result = collect(child, 90_000);
		const seen = await waitFor(child.stderr!, /FIRING demo-critical[\s\S]*FIRING demo-5xx-rate|FIRING demo-5xx-rate[\s\S]*FIRING demo-critical/, 60_000);
		child.kill('SIGTERM');
		const r = await result;
		expect(seen).toMatch(/FIRING demo-critical \{service=demo:drupalsite\}/);
		expect(r.stdout).not.toContain('"type":"alert"');
	});
});

describe('alerts in the UI (tmux)', () => {
	let tmux: Tmux | undefined;

	beforeAll(() => {
		prepare();
	});

	afterEach(() => {
		tmux?.kill();
		tmux = undefined;
	});

	test('the banner, the alert in the tail, the alerts list and a silence', async () => {
		const input = path.join(dir, 'ui-input.log');
		writeFileSync(input, ['starting', 'CRITICAL payment gateway unreachable', 'still going'].join('\n') + '\n');
		tmux = new Tmux(paneCommand(`--ui --no-bell --alert ${shellQuote('level>=critical')}`, {input: [input]}), 120, 30);
		// Each wait names every line checked after it: a frame may be captured half drawn.
		let screen = await tmux.waitFor(s => s.includes('ALERT FIRING level>=critical') && s.includes('alerts: 1 firing') && s.includes('A: alerts'));
		expect(screen).toContain('A: alerts');
		expect(screen).toMatch(/!! FIRING level>=critical: 1 matching event/);
		expect(screen).toContain('alerts: 1 firing');
		expect(tmux.format('#{window_bell_flag}')).toBe('0'); // --no-bell
		tmux.keys(['A']);
		screen = await tmux.waitFor(s => s.includes(' Alerts ') && s.includes('CRITICAL: CRITICAL payment gateway unreachable') && /FIRING\s+since/.test(s));
		expect(screen).toMatch(/FIRING\s+since \d\d:\d\d:\d\d \(\d+s\)\s+level>=critical/);
		expect(screen).toContain('CRITICAL: CRITICAL payment gateway unreachable');
		tmux.keys(['m']);
		screen = await tmux.waitFor(s => s.includes('silenced for 1 h') && /SILENCED\s+since/.test(s) && /silenced: level>=critical until/.test(s));
		expect(screen).toMatch(/SILENCED\s+since/);
		expect(screen).toMatch(/silenced: level>=critical until \d\d:\d\d/);
		tmux.keys(['Escape']);
		await tmux.waitFor(s => !s.includes(' Alerts ') && s.includes('Tail'));
		tmux.keys(['q']);
		await tmux.waitFor('EXIT=0');
	});

	test('the bell rings when an alert fires', async () => {
		const input = path.join(dir, 'ui-bell.log');
		writeFileSync(input, 'CRITICAL payment gateway unreachable\n');
		tmux = new Tmux(paneCommand(`--ui --alert ${shellQuote('level>=critical')}`, {input: [input]}), 100, 24);
		await tmux.waitFor('ALERT FIRING level>=critical');
		await until(() => tmux!.format('#{window_bell_flag}') === '1', 'the bell');
		tmux.keys(['q']);
		await tmux.waitFor('EXIT=0');
	});
});
