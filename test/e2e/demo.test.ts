import {describe, expect, it} from 'vitest';
import {brokers, skipKafka} from '../support/kafka.js';
import {collect, start, waitFor} from '../support/logmon.js';

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
