import {chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {DockerDouble} from '../support/docker-double.js';
import {brokers, skipKafka} from '../support/kafka.js';
import {collect, root, start, until, waitFor} from '../support/logmon.js';

it('--demo brings up the embedded logstream server and logio publishers, replaying real logs', async () => {
	const child = start(['--demo', '--no-ui', '--demo-rate', '400', '-o', 'json', '--no-stdin']);
	// Wait until both embedded sources have delivered, then stop.
	const seen = await waitFor(child.stdout!, /"source":"logstream"[\s\S]*"source":"logio"|"source":"logio"[\s\S]*"source":"logstream"/, 30_000);
	child.kill('SIGTERM');
	const r = await collect(child);
	expect(r.code).toBe(143);
	const events = (seen + r.stdout).trim().split('\n').map(l => JSON.parse(l) as {source: string; service: string; type: string; host: string});
	const logio = events.filter(e => e.source === 'logio');
	const logstream = events.filter(e => e.source === 'logstream');
	expect(logio.length).toBeGreaterThan(0);
	expect(logstream.length).toBeGreaterThan(0);
	expect(new Set(logstream.map(e => e.type)).size).toBeGreaterThan(1);
	expect(logio[0]!.service).toMatch(/^(zookeeper|hadoop|spark|openstack|hdfs|sshd)$/);
});

describe.skipIf(skipKafka())('--demo with KAFKA_BROKERS', () => {
	it('Kafka joins the demo: demo services produce records and logmon consumes them', async () => {
		const address = await brokers();
		const child = start(['--demo', '--no-ui', '--demo-rate', '400', '-o', 'json', '--no-stdin'], {env: {KAFKA_BROKERS: address}});
		const seen = await waitFor(child.stdout!, /"source":"kafka"/, 90_000);
		child.kill('SIGTERM');
		const r = await collect(child);
		const events = (seen + r.stdout).trim().split('\n').map(l => JSON.parse(l) as {source: string; service: string});
		const kafka = events.filter(e => e.source === 'kafka');
		expect(kafka.length).toBeGreaterThan(0);
		expect(kafka[0]!.service).toMatch(/^(orders|payments|auth)$/);
	});
});

type SourceHealth = {id: string; kind: string; state: string; events: number; details: Record<string, unknown>};

it('--demo follows a file it writes and rotates, with stack traces joined, and receives OTLP posted over loopback', async () => {
	// Only the file's and OTLP's events on stdout; a high rate so the file passes 1 MiB and is rotated soon.
	const child = start(['--demo', '--no-ui', '--demo-rate', '3000', '-o', 'json', '--no-stdin', '--source', 'file', '--source', 'otlp']);
	let stderr = '';
	child.stderr!.on('data', (d: Buffer) => {
		stderr += d.toString();
	});
	try {
		// The start-up line names the new sources, and Docker and journald: joined, or skipped with why.
		const line = await until(() => /^logmon: demo: sources .*$/m.exec(stderr)?.[0], 'the demo\'s start-up line');
		expect(line).toMatch(/file \(\/\S+\/yarn-app\.log, rotated every 1 MiB or 1 min\), otlp/);
		expect(line).toMatch(/docker( \(unix:| skipped \()/);
		expect(line).toMatch(/journald( skipped \(|,|$)/);
		const url = await until(() => /^logmon: dashboard: (\S+)\/$/m.exec(stderr)?.[1], 'the dashboard\'s address');

		const seen = await waitFor(child.stdout!, /"source":"file"[^\n]*\\n\\tat [\s\S]*"source":"otlp"|"source":"otlp"[\s\S]*"source":"file"[^\n]*\\n\\tat /, 30_000);
		child.stdout!.on('data', () => undefined); // keep reading: a full pipe would hold the sources back
		const events = seen.slice(0, seen.lastIndexOf('\n')).split('\n').map(l => JSON.parse(l) as {source: string; service: string; host: string; message: string; raw: string; level: string; record?: Record<string, unknown>});
		const file = events.filter(e => e.source === 'file');
		const otlp = events.filter(e => e.source === 'otlp');
		expect(file[0]!.service).toBe('yarn-app'); // the file's base name
		// A Java stack trace is one event: its first line, then the trace.
		const trace = file.find(e => e.raw.includes('\n\tat '))!;
		expect(trace.raw.split('\n')[0]).toMatch(/ (ERROR|FATAL) /);
		expect(trace.raw.split('\n')[1]).toMatch(/^[\w.]+(Exception|Error): /);
		expect(trace.level).toMatch(/ERROR|CRITICAL/);
		expect(otlp[0]!.service).toMatch(/^(checkout|cart|frontend)$/);
		expect(otlp[0]!.host).toMatch(/^(checkout-5d8f|cart-7b2c|web-fe-1)$/);
		expect(otlp[0]!.record?.['traceId']).toMatch(/^[\da-f]{32}$/);

		// Health at the demo's HTTP port: both live; the OTLP listener took requests; the file was rotated.
		const health = async (): Promise<SourceHealth[]> => ((await (await fetch(`${url}/api/v1/health`)).json()) as {sources: SourceHealth[]}).sources;
		let sources: SourceHealth[] = [];
		const deadline = Date.now() + 90_000;
		for (;;) {
			sources = await health(); // eslint-disable-line no-await-in-loop
			if (Number(sources.find(s => s.kind === 'file')?.details['renamedAway'] ?? 0) >= 1 || Date.now() > deadline) {
				break;
			}

			await new Promise(resolve => setTimeout(resolve, 500)); // eslint-disable-line no-await-in-loop
		}

		const fileHealth = sources.find(s => s.kind === 'file')!;
		const otlpHealth = sources.find(s => s.kind === 'otlp')!;
		expect(fileHealth.state).toBe('live');
		expect(fileHealth.details['renamedAway']).toBeGreaterThanOrEqual(1);
		expect(fileHealth.details['files']).toEqual([expect.objectContaining({path: expect.stringMatching(/yarn-app\.log$/), state: 'following'})]);
		expect(otlpHealth.state).toBe('live');
		expect(otlpHealth.details['listen']).toMatch(/^127\.0\.0\.1:\d+$/);
		expect((otlpHealth.details['requests'] as {requests: number}).requests).toBeGreaterThan(0);
		expect(otlpHealth.events).toBeGreaterThan(0);
	} finally {
		child.kill('SIGTERM');
		await collect(child, 60_000);
	}

	// The followed file's directory went with the demo.
	const dir = /file \((\/\S+)\/yarn-app\.log/.exec(stderr)![1]!;
	expect(existsSync(dir)).toBe(false);
}, 150_000);

it('--demo with a Docker engine answering on DOCKER_HOST: the docker source joins and follows its containers', async () => {
	// The in-repo engine double (test/support/docker-double.ts): enough for /_ping, the container list and a log stream.
	const engine = await new DockerDouble().start();
	const c = engine.add('demo-web', {labels: {'com.docker.compose.service': 'web'}});
	const child = start(['--demo', '--no-ui', '--demo-rate', '50', '-o', 'json', '--no-stdin', '--source', 'docker'], {env: {DOCKER_HOST: engine.host}});
	try {
		await waitFor(child.stderr!, new RegExp(`demo: sources .*docker \\(unix://${engine.socket.replaceAll('.', '\\.')}\\)`), 30_000);
		// The stream opens with tail=0: print once it is open.
		for (let i = 0; i < 200 && !engine.requests.some(r => r.includes(`/containers/${c.id}/logs`)); i++) {
			await new Promise(resolve => setTimeout(resolve, 50)); // eslint-disable-line no-await-in-loop
		}

		const seen = waitFor(child.stdout!, 'hello from a demo container');
		engine.print(c, 1, ['hello from a demo container']);
		const line = (await seen).trim().split('\n').find(l => l.includes('hello from a demo container'))!;
		expect(JSON.parse(line)).toMatchObject({source: 'docker', service: 'web', proc: 'stdout'});
	} finally {
		child.kill('SIGTERM');
		await collect(child, 60_000);
		await engine.destroy();
	}
}, 120_000);

it('--demo where journalctl reads a journal: the journald source joins', async () => {
	// A journalctl on PATH that prints entries captured from a real one (and, with -f, waits as journalctl does).
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-demo-journal-'));
	const fixture = path.join(root, 'test', 'fixtures', 'journald', 'journalctl-json.ndjson');
	writeFileSync(path.join(dir, 'journalctl'), `#!/bin/sh\ncat '${fixture}'\ncase " $* " in *" -f "*) exec sleep 600;; esac\n`);
	chmodSync(path.join(dir, 'journalctl'), 0o755);
	const child = start(['--demo', '--no-ui', '--demo-rate', '50', '-o', 'json', '--no-stdin', '--source', 'journald'], {env: {PATH: `${dir}:${process.env['PATH'] ?? ''}`}});
	try {
		await waitFor(child.stderr!, /demo: sources .*, journald(,|\n)/, 30_000);
		const seen = await waitFor(child.stdout!, /"source":"journald"[^\n]*\n/, 30_000);
		const first = JSON.parse(seen.split('\n').find(l => l.includes('"source":"journald"'))!) as {service: string; host: string};
		expect(first).toMatchObject({service: 'systemd-journald', host: 'vm'});
	} finally {
		child.kill('SIGTERM');
		await collect(child, 60_000);
		rmSync(dir, {recursive: true, force: true});
	}
}, 120_000);

it('logmon serve --demo: the demo\'s sources feed the service, and its temporary files go at exit', async () => {
	// It served nothing before: the demo started only beside the UI or the pipe.
	const child = start(['serve', '--demo', '--http', '127.0.0.1:0']);
	let stderr = '';
	child.stderr!.on('data', (d: Buffer) => {
		stderr += d.toString();
	});
	try {
		const [, url, sources] = (await until(() => /^logmon: serving (\S+)\/api\/v1\/ \((.*)\)$/m.exec(stderr) ?? undefined, 'the serving line'));
		expect(sources).toMatch(/logstream, logio, file/);
		let total = 0;
		for (const deadline = Date.now() + 30_000; total <= 20 && Date.now() < deadline;) {
			await new Promise(resolve => setTimeout(resolve, 250)); // eslint-disable-line no-await-in-loop
			total = (await fetch(`${url!}/api/v1/logs/stats`).then(async r => r.json()) as {total: number}).total; // eslint-disable-line no-await-in-loop
		}

		expect(total).toBeGreaterThan(20);
	} finally {
		child.kill('SIGTERM');
		await collect(child, 60_000);
	}

	const dir = /file \((\/\S+)\/yarn-app\.log/.exec(stderr)![1]!;
	expect(existsSync(dir)).toBe(false);
}, 90_000);
