import {afterEach, describe, expect, test} from 'vitest';
import {type Sink} from '../../source/alerts/delivery.js';
import {slackSink} from '../../source/alerts/slack.js';
import {webhookSink} from '../../source/alerts/webhook.js';
import {type Reply, Receiver} from '../support/alert-peers.js';
import {notice, recordingContext, sinkConfig} from '../support/alert-notices.js';
import {until} from '../support/logmon.js';

// The HTTP sinks against a receiver on 127.0.0.1 scripted to answer 200, 500 then 200,
// 429 with Retry-After, 400, a hang and a reset: bodies, retry counts, and that a stuck
// peer holds up neither the caller nor another sink.

const open: Array<{close(): Promise<void>}> = [];
const sinks: Sink[] = [];

afterEach(async () => {
	await Promise.all(sinks.splice(0).map(async s => s.stop()));
	await Promise.all(open.splice(0).map(async r => r.close()));
});

async function receiver(script: Reply[] = []): Promise<Receiver> {
	const r = await new Receiver(script).listen();
	open.push(r);
	return r;
}

function webhook(url: string, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) {
	const context = recordingContext();
	const sink = webhookSink('hook', sinkConfig<'webhook'>('hook', {type: 'webhook', url, ...extra}, env), context);
	sinks.push(sink);
	return {sink, context, health: sink.delivery.health};
}

describe('webhook', () => {
	test('200: logmon\'s body, the configured headers (${ENV} expanded)', async () => {
		const r = await receiver();
		const {sink, health} = webhook(r.url, {headers: {authorization: 'Bearer ${HOOK_TOKEN}'}}, {HOOK_TOKEN: 's3cret'});
		const n = notice();
		sink.offer(n);
		await until(() => health.sent === 1, 'the delivery');
		expect(r.received).toHaveLength(1);
		const [req] = r.received;
		expect(req).toMatchObject({method: 'POST', path: '/hook'});
		expect(req!.headers['authorization']).toBe('Bearer s3cret');
		expect(req!.headers['content-type']).toBe('application/json');
		expect(req!.body).toMatchObject({
			version: 'logmon/1',
			receiver: 'hook',
			status: 'firing',
			alerts: [{
				rule: 'db-errors',
				kind: 'count',
				status: 'firing',
				group: {service: 'checkout'},
				summary: '12 events in 5m (alert at 10 or more)',
				severity: 'critical',
				startsAt: new Date(n.startsAt).toISOString(),
				sample: {service: 'checkout', message: 'connection refused to db:5432', level: 'ERROR'},
			}],
		});
		expect(health).toMatchObject({state: 'idle', sent: 1, notices: 1, retries: 0, failed: 0});
	});

	test('500 then 200: retried once, the same body twice', async () => {
		const r = await receiver([500]);
		const {sink, health} = webhook(r.url);
		sink.offer(notice());
		await until(() => health.sent === 1, 'the retried delivery');
		expect(r.received).toHaveLength(2);
		expect(r.received[1]!.text).toBe(r.received[0]!.text);
		expect(health).toMatchObject({retries: 1, failed: 0, lastError: 'HTTP 500: error 500'});
	});

	test('429 with Retry-After: waits as told, then delivers', async () => {
		const r = await receiver([{status: 429, headers: {'retry-after': '1'}, body: 'slow down'}]);
		const {sink, health} = webhook(r.url);
		sink.offer(notice());
		await until(() => health.state === 'retrying', 'the retry to be scheduled');
		expect(health.retryAt! - Date.now()).toBeGreaterThan(500);
		await until(() => health.sent === 1, 'the delivery after Retry-After');
		expect(r.received).toHaveLength(2);
		// Never sooner than the peer asked (a lower bound only).
		expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(950);
		expect(health.retries).toBe(1);
	});

	test('400: not retried, reported with the body', async () => {
		const r = await receiver([{status: 400, body: 'invalid_payload'}]);
		const {sink, health, context} = webhook(r.url);
		sink.offer(notice());
		await until(() => health.failed === 1, 'the refusal');
		expect(r.received).toHaveLength(1);
		expect(health).toMatchObject({state: 'failed', retries: 0, lastError: 'HTTP 400: invalid_payload'});
		expect(context.failures).toEqual(['hook: HTTP 400: invalid_payload']);
		// The next notice goes out as usual.
		sink.offer(notice());
		await until(() => health.sent === 1, 'the next delivery');
		expect(health.state).toBe('idle');
	});

	test('a hang: timed out and retried to the limit, while another sink and the caller carry on', async () => {
		const stuck = await receiver(['hang', 'hang']);
		const fine = await receiver();
		const a = webhook(stuck.url, {timeout: '1s', retries: 1});
		const b = webhook(fine.url);
		const started = Date.now();
		for (let i = 0; i < 5; i++) {
			a.sink.offer(notice());
			b.sink.offer(notice());
		}

		// offer() only queues: it returned at once, whatever the peer does.
		expect(Date.now() - started).toBeLessThan(500);
		await until(() => b.health.notices === 5, 'the healthy sink\'s deliveries');
		expect(stuck.received.length).toBeLessThanOrEqual(1);
		await until(() => a.health.failed >= 1, 'the stuck sink to give up on its first message', 30_000);
		expect(a.health.lastError).toBe('no answer within 1s (gave up after 2 attempts)');
		expect(a.health.retries).toBe(1);
		// The rest went out together once the peer answered again.
		await until(() => a.health.sent === 1, 'the held notices', 30_000);
		expect(a.health.notices).toBe(4);
		expect((stuck.received.at(-1)!.body as {alerts: unknown[]}).alerts).toHaveLength(4);
	});

	test('a reset connection is retried', async () => {
		const r = await receiver(['reset']);
		const {sink, health} = webhook(r.url);
		sink.offer(notice());
		await until(() => health.sent === 1, 'the delivery after the reset');
		expect(r.received).toHaveLength(2);
		expect(health.retries).toBe(1);
		expect(health.lastError).toMatch(/connection|socket|closed|reset/i);
	});

	test('connection refused: retried, then given up on with the reason', async () => {
		const r = await receiver();
		const url = r.url;
		await r.close();
		open.length = 0;
		const {sink, health} = webhook(url, {retries: 1});
		sink.offer(notice());
		await until(() => health.failed === 1, 'giving up', 20_000);
		expect(health.lastError).toBe('connection refused (gave up after 2 attempts)');
	});

	test('format alertmanager: the Alertmanager v4 webhook body', async () => {
		const r = await receiver();
		const {sink, health} = webhook(r.url, {format: 'alertmanager'});
		const n = notice({fingerprint: 'b5f0eb0d64278e7c'});
		sink.offer(n);
		await until(() => health.sent === 1, 'the delivery');
		const body = r.received[0]!.body as Record<string, unknown>;
		expect(Object.keys(body).sort()).toEqual(['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version']);
		expect(body).toMatchObject({
			receiver: 'hook',
			status: 'firing',
			version: '4',
			groupLabels: {alertname: 'db-errors'},
			groupKey: '{}:{alertname="db-errors"}',
			truncatedAlerts: 0,
			alerts: [{
				status: 'firing',
				labels: {alertname: 'db-errors', service: 'checkout', severity: 'critical', source: 'logmon', team: 'shop'},
				annotations: {summary: '12 events in 5m (alert at 10 or more)', sample: 'connection refused to db:5432'},
				startsAt: new Date(n.startsAt).toISOString(),
				endsAt: '0001-01-01T00:00:00Z',
				fingerprint: 'b5f0eb0d64278e7c',
			}],
		});
	});

	test('the queue is bounded: the oldest are dropped and counted', async () => {
		const r = await receiver(['hang']);
		const {sink, health} = webhook(r.url, {queue: 3, timeout: '1s', retries: 0});
		for (let i = 0; i < 10; i++) {
			sink.offer(notice());
		}

		// One in flight, three queued, six dropped.
		expect(health.dropped).toBe(6);
		expect(health.queued).toBe(3);
		await until(() => health.sent === 1, 'the queued three', 20_000);
		expect(health.notices).toBe(3);
	});
});

describe('slack', () => {
	function slack(url: string, extra: Record<string, unknown> = {}) {
		const context = recordingContext();
		const sink = slackSink('slack', sinkConfig<'slack'>('slack', {url, ...extra}), context);
		sinks.push(sink);
		return {sink, context, health: sink.delivery.health};
	}

	test('text and blocks; one message a second, what waited goes out as one summary', async () => {
		const r = await receiver();
		const {sink, health} = slack(r.url);
		for (let i = 0; i < 5; i++) {
			sink.offer(notice({rule: `rule-${i}`, group: {service: '<web&co>'}}));
		}

		await until(() => health.sent === 2, 'two messages');
		const [first, second] = r.bodies<{text: string; blocks: Array<{type: string}>}>();
		expect(first!.text).toBe(':rotating_light: FIRING rule-0 {service=&lt;web&amp;co&gt;}: 12 events in 5m (alert at 10 or more)');
		expect(first!.blocks.map(b => b.type)).toEqual(['section', 'context']);
		expect(second!.text).toMatch(/^:bell: 4 alert notices \(held back by the rate limit\):\n• FIRING rule-1/);
		expect(health).toMatchObject({heldBack: 4, notices: 5});
		expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(950);
	});

	test('Slack\'s plain-text errors: 404 channel_not_found is final; 429 waits for Retry-After', async () => {
		const r = await receiver([{status: 404, body: 'channel_not_found'}, {status: 429, body: 'rate_limited', headers: {'retry-after': '1'}}]);
		const {sink, health} = slack(r.url, {rateLimit: '100/s'});
		sink.offer(notice());
		await until(() => health.failed === 1, 'the refusal');
		expect(health.lastError).toBe('HTTP 404: channel_not_found');
		sink.offer(notice({status: 'resolved', endsAt: Date.now()}));
		await until(() => health.sent === 1, 'the delivery after 429');
		expect(r.received).toHaveLength(3);
		expect(r.bodies<{text: string}>()[2]!.text).toMatch(/^:white_check_mark: RESOLVED db-errors/);
	});
});
