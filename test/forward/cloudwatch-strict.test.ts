import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {type CloudwatchForwardConfig, cloudwatchForwardConfig} from '../../source/config/forward-cloudwatch.js';
import {Diagnostics} from '../../source/core/diagnostics.js';
import {type LogEvent} from '../../source/core/event.js';
import {type Destination} from '../../source/sinks/forward/destination.js';
import {createDestination} from '../../source/sinks/forward/cloudwatch.js';
import {StrictCloudwatch, strictLimits} from '../support/cloudwatch-strict.js';
import {event} from '../support/events.js';
import {freePort} from '../support/logmon.js';
import {motoEnv} from '../support/moto.js';

// The cloudwatch destination against a server as strict as AWS (test/support/cloudwatch-strict.ts):
// batches built to sit exactly at each limit of PutLogEvents and one byte, one event or one
// millisecond over. The packing must never send a request the server refuses.

Object.assign(process.env, motoEnv);

const hour = 3_600_000;
let server: StrictCloudwatch;
const opened: Destination[] = [];

beforeAll(async () => {
	server = await new StrictCloudwatch().listen();
});

afterAll(async () => {
	await server.close();
});

afterEach(async () => {
	for (const d of opened.splice(0)) {
		await d.close();
	}

	server.calls.length = 0;
	server.script.length = 0;
	server.groups.clear();
});

async function destination(fields: Record<string, unknown> = {}, endpoint = server.endpoint): Promise<{d: Destination; diagnostics: Diagnostics}> {
	const config: CloudwatchForwardConfig = cloudwatchForwardConfig.parse({type: 'cloudwatch', region: 'us-east-1', endpoint, group: 'logmon', ...fields});
	const diagnostics = new Diagnostics();
	const d = await createDestination(config, {name: 'cw', diagnostics});
	opened.push(d);
	return {d, diagnostics};
}

/** `count` events of one service, `bytes` message bytes each, a millisecond apart from `start`. */
function events(count: number, bytes: number, start = Date.now() - hour, service = 'api'): LogEvent[] {
	return Array.from({length: count}, (_, i) => {
		const message = `${String(i).padStart(8, '0')} ${'x'.repeat(Math.max(0, bytes - 9))}`.slice(0, bytes);
		return event({service, time: start + i, message, raw: message});
	});
}

/** Refusals other than the missing group and stream of a first put. */
const refusals = (): string[] => server.calls.filter(c => c.error && c.error !== 'ResourceNotFoundException').map(c => `${c.operation}: ${c.error}`);

describe('the strict server refuses what AWS refuses', () => {
	async function put(logEvents: Array<{timestamp: number; message: string}>): Promise<{status: number; type?: string}> {
		const r = await fetch(server.endpoint, {
			method: 'POST',
			headers: {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.PutLogEvents'},
			body: JSON.stringify({logGroupName: 'g', logStreamName: 's', logEvents}),
		});
		const body = await r.json() as {__type?: string};
		return {status: r.status, type: body.__type};
	}

	test('at each limit accepted, one over refused', async () => {
		server.groups.set('g', {streams: new Map([['s', []]])});
		const now = Date.now() - hour;
		const many = (n: number) => Array.from({length: n}, (_, i) => ({timestamp: now, message: String(i)}));
		expect(await put(many(10_000))).toEqual({status: 200, type: undefined});
		expect(await put(many(10_001))).toEqual({status: 400, type: 'InvalidParameterException'});
		const size = strictLimits.maxBytes - strictLimits.overhead;
		expect(await put([{timestamp: now, message: 'x'.repeat(size)}])).toEqual({status: 200, type: undefined});
		expect(await put([{timestamp: now, message: 'x'.repeat(size + 1)}])).toEqual({status: 400, type: 'InvalidParameterException'});
		expect(await put([{timestamp: now - (24 * hour), message: 'a'}, {timestamp: now, message: 'b'}])).toEqual({status: 200, type: undefined});
		expect(await put([{timestamp: now - (24 * hour) - 1, message: 'a'}, {timestamp: now, message: 'b'}])).toEqual({status: 400, type: 'InvalidParameterException'});
		expect(await put([{timestamp: now, message: 'b'}, {timestamp: now - 1, message: 'a'}])).toEqual({status: 400, type: 'InvalidParameterException'});
		expect(await put([{timestamp: now, message: ''}])).toEqual({status: 400, type: 'InvalidParameterException'});
	});
});

describe('cloudwatch destination against the strict server', () => {
	test('a missing group and stream are created (with the retention asked) and the batch put again, sorted by time', async () => {
		const {d, diagnostics} = await destination({retentionDays: 14, stream: '{host}-{service}'});
		const base = Date.now() - hour;
		const batch = [3, 1, 2].map(n => event({service: 'shop', host: 'web-1', time: base + n, message: `line ${n}`, raw: `line ${n}`}));
		expect(d.partition!(batch[0]!)).toBe('logmon:web-1-shop');
		expect(await d.send(batch)).toEqual({ok: true});
		expect(server.calls.map(c => `${c.operation}${c.error ? `: ${c.error}` : ''}`)).toEqual([
			'PutLogEvents: ResourceNotFoundException',
			'CreateLogGroup',
			'PutRetentionPolicy',
			'CreateLogStream',
			'PutLogEvents',
		]);
		expect(server.groups.get('logmon')?.retentionDays).toBe(14);
		expect(server.events('logmon', 'web-1-shop').map(e => e.message)).toEqual(['line 1', 'line 2', 'line 3']);
		expect(d.details!()).toMatchObject({requests: 2, groupsCreated: 1, streamsCreated: 1});
		expect(diagnostics.recent(5).map(x => x.text)).toContain('created log group logmon');
		// The group exists now: a new stream only needs the stream created.
		server.calls.length = 0;
		expect(await d.send([event({service: 'cart', host: 'web-1', time: base, message: 'm'})])).toEqual({ok: true});
		expect(server.calls.map(c => `${c.operation}${c.error ? `: ${c.error}` : ''}`)).toEqual([
			'PutLogEvents: ResourceNotFoundException',
			'CreateLogGroup: ResourceAlreadyExistsException',
			'CreateLogStream',
			'PutLogEvents',
		]);
	});

	test('exactly 10,000 events go in one request; 10,001 in two; none refused', async () => {
		const {d} = await destination();
		expect(d.limits.maxEvents).toBe(10_000);
		expect(await d.send(events(10_000, 10))).toEqual({ok: true});
		expect(server.puts().filter(c => !c.error).map(c => c.events)).toEqual([10_000]);
		server.calls.length = 0;
		expect(await d.send(events(10_001, 10))).toEqual({ok: true});
		expect(server.puts().map(c => c.events)).toEqual([10_000, 1]);
		expect(refusals()).toEqual([]);
		expect(server.events('logmon', 'api')).toHaveLength(20_001);
	});

	test('a batch of exactly 1,048,576 bytes with the 26-byte overhead is one request; a byte over is two', async () => {
		const {d} = await destination();
		// 1,048,576 = 64 × (16,358 + 26)
		const exact = events(64, 16_358);
		expect(exact.reduce((sum, e) => sum + d.measure(e), 0)).toBe(d.limits.maxBytes);
		expect(await d.send(exact)).toEqual({ok: true});
		expect(server.puts().filter(c => !c.error).map(c => c.bytes)).toEqual([1_048_576]);
		server.calls.length = 0;
		const over = events(64, 16_358);
		over[63] = {...over[63]!, raw: `${over[63]!.raw}!`, message: `${over[63]!.message}!`};
		expect(await d.send(over)).toEqual({ok: true});
		expect(server.puts().map(c => [c.events, c.bytes])).toEqual([[63, 1_048_576 - 16_384], [1, 16_385]]);
		expect(refusals()).toEqual([]);
	});

	test('a batch spanning exactly 24 hours is one request; a millisecond more, two', async () => {
		const {d} = await destination();
		const end = Date.now() - hour;
		const pair = (span: number) => [event({time: end, message: 'late'}), event({time: end - span, message: 'early'})];
		expect(await d.send(pair(24 * hour))).toEqual({ok: true});
		expect(server.puts().filter(c => !c.error).map(c => c.events)).toEqual([2]);
		server.calls.length = 0;
		expect(await d.send(pair((24 * hour) + 1))).toEqual({ok: true});
		expect(server.puts().map(c => c.events)).toEqual([1, 1]);
		expect(server.events('logmon', 'api').map(e => e.message)).toEqual(['early', 'late', 'early', 'late']);
		expect(refusals()).toEqual([]);
	});

	test('a single event over the limit is cut with a marker and accepted', async () => {
		const {d} = await destination();
		const huge = 'é'.repeat(600_000);
		const e = event({time: Date.now(), message: huge, raw: huge});
		expect(d.measure(e)).toBeLessThanOrEqual(d.limits.maxBytes);
		expect(await d.send([e])).toEqual({ok: true});
		const [stored] = server.events('logmon', 'api');
		expect(stored!.message).toMatch(/é \[truncated by logmon: 1200000 bytes\]$/);
		expect(d.details!()).toMatchObject({truncated: 1});
		expect(refusals()).toEqual([]);
	});

	test('events too old and too new are counted from rejectedLogEventsInfo, and said once', async () => {
		const {d, diagnostics} = await destination();
		const now = Date.now();
		const batch = [now - (15 * 24 * hour), now - (14 * 24 * hour) - hour, now, now + (3 * hour)].map(time => event({time, message: String(time)}));
		// Too old and in-range spans over 24 h: two requests, the old pair and the rest.
		expect(await d.send(batch)).toEqual({ok: true});
		expect(d.details!()).toMatchObject({tooOld: 2, tooNew: 1, expired: 0});
		expect(server.events('logmon', 'api')).toHaveLength(1);
		expect(await d.send(batch.map(e => ({...e})))).toEqual({ok: true});
		expect(d.details!()).toMatchObject({tooOld: 4, tooNew: 2, expired: 0});
		expect(diagnostics.recent(10).filter(x => x.level === 'warn').map(x => x.text)).toEqual([
			'CloudWatch left out 2 event(s) of logmon/api for being over 14 days old; counted in health as tooOld (said once)',
			'CloudWatch left out 1 event(s) of logmon/api for being over 2 hours ahead; counted in health as tooNew (said once)',
		]);
	});

	test('throttling, unavailability and a reset connection are retryable; a bad parameter is not, with its message', async () => {
		const {d} = await destination();
		const one = () => [event({time: Date.now(), message: 'm'})];
		expect(await d.send(one())).toEqual({ok: true});
		server.script.push({status: 400, type: 'ThrottlingException', message: 'Rate exceeded'});
		expect(await d.send(one())).toEqual({ok: false, retry: true, reason: 'PutLogEvents to logmon/api at us-east-1: ThrottlingException (400): Rate exceeded'});
		server.script.push({status: 503, type: 'ServiceUnavailableException', message: 'try later'});
		expect(await d.send(one())).toMatchObject({ok: false, retry: true});
		server.script.push('reset');
		expect(await d.send(one())).toMatchObject({ok: false, retry: true});
		server.script.push({status: 400, type: 'InvalidParameterException', message: 'Log event too large'});
		expect(await d.send(one())).toEqual({ok: false, retry: false, reason: 'PutLogEvents to logmon/api at us-east-1: InvalidParameterException (400): Log event too large'});
		server.script.push({status: 400, type: 'AccessDeniedException', message: 'not authorized to perform logs:PutLogEvents'});
		expect(await d.send(one())).toMatchObject({ok: false, retry: false, reason: expect.stringContaining('not authorized') as unknown});
		expect(await d.send(one())).toEqual({ok: true});
	});

	test('a batch failing after some of its requests went through is tried again without them', async () => {
		const {d} = await destination();
		const batch = events(25_000, 10);
		server.script.push('pass', 'pass', {status: 400, type: 'ThrottlingException', message: 'Rate exceeded'});
		// The first put finds no stream (and creates it), the second holds 10,000 events, the third is throttled.
		expect(await d.send(batch)).toMatchObject({ok: false, retry: true});
		expect(server.events('logmon', 'api')).toHaveLength(10_000);
		expect(await d.send(batch)).toEqual({ok: true});
		expect(server.puts().filter(c => !c.error).map(c => c.events)).toEqual([10_000, 10_000, 5000]);
		expect(server.events('logmon', 'api').map(e => e.message)).toEqual(batch.map(e => e.raw));
		expect(d.details!()).toMatchObject({notResent: 10_000});
		// Events read back from a spool are new objects: they go again (at least once).
		expect(await d.send(batch.map(e => ({...e})))).toEqual({ok: true});
		expect(server.events('logmon', 'api')).toHaveLength(50_000);
	});

	test('nothing listening is retryable', async () => {
		const {d} = await destination({}, `http://127.0.0.1:${await freePort()}`);
		expect(await d.send([event({time: Date.now()})])).toMatchObject({ok: false, retry: true, reason: expect.stringContaining('ECONNREFUSED') as unknown});
	});

	test('no region anywhere is an error at start naming the ways to give one; no credentials is retried, saying so', async () => {
		const saved = {...process.env};
		try {
			delete process.env['AWS_REGION'];
			delete process.env['AWS_DEFAULT_REGION'];
			delete process.env['AWS_ACCESS_KEY_ID'];
			delete process.env['AWS_SECRET_ACCESS_KEY'];
			delete process.env['AWS_PROFILE'];
			process.env['AWS_CONFIG_FILE'] = '/nonexistent/config';
			process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/credentials';
			await expect(destination({region: undefined})).rejects.toThrow('forward cw: no AWS region for cloudwatch: give one (cloudwatch://REGION, or "region" in the config) or set AWS_REGION');
			const {d} = await destination();
			expect(await d.send([event({time: Date.now()})])).toMatchObject({ok: false, retry: true, reason: expect.stringMatching(/credentials/i) as unknown});
			expect(server.calls).toEqual([]);
		} finally {
			process.env = saved;
		}
	});

	test('createGroup false: a missing group is not retried', async () => {
		const {d} = await destination({createGroup: false});
		expect(await d.send([event({time: Date.now()})])).toEqual({ok: false, retry: false, reason: 'log group logmon does not exist at us-east-1 (createGroup is false)'});
		expect(server.calls.map(c => c.operation)).toEqual(['PutLogEvents', 'CreateLogStream']);
	});

	test('the defaults: the group is logmon\'s host name, the stream the service; names cleaned; a 4 s delay', async () => {
		const os = await import('node:os');
		const {d} = await destination({group: undefined});
		expect(d.limits).toEqual({maxEvents: 10_000, maxBytes: 1_048_576, delayMs: 4000});
		expect(d.target).toBe(`us-east-1/${os.hostname()}`);
		const e = event({service: 'pay:ments', time: Date.now()});
		expect(d.partition!(e)).toBe(`${os.hostname()}:pay_ments`);
		expect(await d.send([e, event({service: '', time: Date.now()})])).toEqual({ok: true});
		expect([...server.groups.get(os.hostname())!.streams.keys()].sort()).toEqual(['pay_ments', 'unknown']);
	});
});
