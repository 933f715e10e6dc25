import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {alertmanagerSink} from '../../source/alerts/alertmanager.js';
import {type Sink} from '../../source/alerts/delivery.js';
import {type RunningAlertmanager, Receiver, alertmanagerBinary, requirePeers, startAlertmanager} from '../support/alert-peers.js';
import {notice, recordingContext, sinkConfig} from '../support/alert-notices.js';
import {until} from '../support/logmon.js';

// A real Alertmanager (Debian's prometheus-alertmanager, installed by
// scripts/ensure-alertmanager.sh) takes logmon's /api/v2/alerts and notifies a test
// receiver through its own webhook: firing, then resolved once logmon sends endsAt.
// Without Alertmanager the test is skipped loudly, or fails under LOGMON_REQUIRE_PEERS=1.

const binary = alertmanagerBinary();

type AmWebhook = {status: string; receiver: string; version: string; alerts: Array<{status: string; labels: Record<string, string>; annotations: Record<string, string>; endsAt: string}>};

describe.skipIf(!binary && !requirePeers)('alertmanager sink against a real Alertmanager', () => {
	let hook: Receiver;
	let am: RunningAlertmanager;
	let sink: Sink;

	beforeAll(async () => {
		if (!binary) {
			throw new Error('LOGMON_REQUIRE_PEERS=1 and no Alertmanager could be installed (scripts/ensure-alertmanager.sh)');
		}

		hook = await new Receiver().listen();
		am = await startAlertmanager(binary, hook.url);
	});

	afterAll(async () => {
		await sink?.stop();
		await am?.stop();
		await hook?.close();
	});

	test('firing, then resolved, arrive at Alertmanager\'s receiver', async () => {
		const context = recordingContext();
		sink = alertmanagerSink('am', sinkConfig<'alertmanager'>('am', {type: 'alertmanager', url: am.url}), {...context, generatorURL: 'http://127.0.0.1:8080/api/v1/alerts'});
		const firing = notice({startsAt: Date.now(), at: Date.now()});
		sink.offer(firing);
		await until(() => sink.delivery.health.sent === 1, 'Alertmanager to accept the alert');
		const first = await until(() => hook.bodies<AmWebhook>().find(b => b.status === 'firing'), 'the firing notification', 30_000);
		expect(first).toMatchObject({receiver: 'logmon-hook', version: '4'});
		expect(first.alerts[0]).toMatchObject({
			status: 'firing',
			labels: {alertname: 'db-errors', service: 'checkout', severity: 'critical', source: 'logmon', team: 'shop'},
			annotations: {summary: '12 events in 5m (alert at 10 or more)', sample: 'connection refused to db:5432'},
		});
		sink.offer({...firing, status: 'resolved', endsAt: Date.now(), at: Date.now()});
		const resolved = await until(() => hook.bodies<AmWebhook>().find(b => b.status === 'resolved'), 'the resolved notification', 30_000);
		expect(resolved.alerts[0]!.labels['alertname']).toBe('db-errors');
		expect(resolved.alerts[0]!.endsAt).not.toBe('0001-01-01T00:00:00Z');
		expect(context.failures).toEqual([]);
		expect(sink.delivery.health).toMatchObject({sent: 2, failed: 0});
	});

	test('a resolve kept from the sinks by a silence still ends the alert in Alertmanager', async () => {
		const context = recordingContext();
		const quiet = alertmanagerSink('am3', sinkConfig<'alertmanager'>('am3', {type: 'alertmanager', url: am.url}), context);
		const firing = notice({rule: 'silenced-later', startsAt: Date.now(), at: Date.now()});
		quiet.offer(firing);
		await until(() => hook.bodies<AmWebhook>().some(b => b.status === 'firing' && b.alerts[0]!.labels['alertname'] === 'silenced-later'), 'the firing notification', 30_000);
		quiet.settle!({...firing, status: 'resolved', endsAt: Date.now(), at: Date.now(), silenced: true});
		await until(() => hook.bodies<AmWebhook>().some(b => b.status === 'resolved' && b.alerts[0]!.labels['alertname'] === 'silenced-later'), 'the resolved notification', 30_000);
		// Settled once: a second settle of the same alert sends nothing.
		quiet.settle!({...firing, status: 'resolved', endsAt: Date.now(), at: Date.now(), silenced: true});
		expect(quiet.delivery.health.queued).toBe(0);
		await quiet.stop();
	});

	test('an alert Alertmanager refuses (400) is reported with its reason, not retried', async () => {
		const context = recordingContext();
		const bad = alertmanagerSink('am2', sinkConfig<'alertmanager'>('am2', {type: 'alertmanager', url: am.url}), context);
		// Resolved before it started: Alertmanager answers 400 with its reason.
		const at = Date.now();
		bad.offer(notice({status: 'resolved', startsAt: at, endsAt: at - 60_000, at}));
		await until(() => bad.delivery.health.failed === 1 || bad.delivery.health.sent === 1, 'an answer');
		await bad.stop();
		expect(bad.delivery.health).toMatchObject({failed: 1, retries: 0});
		expect(bad.delivery.health.lastError).toMatch(/^HTTP 400: .*start/i);
		expect(context.failures).toHaveLength(1);
	});
});
