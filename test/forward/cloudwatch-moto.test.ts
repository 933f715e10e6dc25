import {CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand, GetLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs';
import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {cloudwatchForwardConfig} from '../../source/config/forward-cloudwatch.js';
import {Diagnostics} from '../../source/core/diagnostics.js';
import {type LogEvent} from '../../source/core/event.js';
import {createDestination} from '../../source/sinks/forward/cloudwatch.js';
import {type Destination} from '../../source/sinks/forward/destination.js';
import {event} from '../support/events.js';
import {haveMoto, type Moto, motoEnv, requirePeers, startMoto} from '../support/moto.js';

// The cloudwatch destination through the real AWS SDK to moto's CloudWatch Logs server
// (scripts/moto.sh): groups and streams named from templates are created, and the events
// are read back with GetLogEvents in time order. moto checks almost none of the limits:
// those are tested against the strict server (cloudwatch-strict.test.ts).

Object.assign(process.env, motoEnv, {LOGMON_TEST_TEAM: 'shop'});

const have = haveMoto();

describe.skipIf(!have && !requirePeers)('cloudwatch destination against moto', () => {
	let moto: Moto;
	let reader: CloudWatchLogsClient;
	const opened: Destination[] = [];

	beforeAll(async () => {
		if (!have) {
			throw new Error('LOGMON_REQUIRE_PEERS=1 and moto could not be installed (scripts/ensure-moto.sh)');
		}

		moto = await startMoto();
		reader = new CloudWatchLogsClient({region: 'us-east-1', endpoint: moto.endpoint});
	});

	afterEach(async () => {
		for (const d of opened.splice(0)) {
			await d.close();
		}

		await moto.reset();
	});

	afterAll(async () => {
		reader?.destroy();
		await moto?.stop();
	});

	async function destination(fields: Record<string, unknown>): Promise<Destination> {
		const d = await createDestination(cloudwatchForwardConfig.parse({type: 'cloudwatch', region: 'us-east-1', endpoint: moto.endpoint, ...fields}), {name: 'cw', diagnostics: new Diagnostics()});
		opened.push(d);
		return d;
	}

	async function read(group: string, stream: string): Promise<string[]> {
		const out = await reader.send(new GetLogEventsCommand({logGroupName: group, logStreamName: stream, startFromHead: true}));
		return (out.events ?? []).map(e => e.message ?? '');
	}

	/** What the delivery loop does: one send per partition. */
	async function sendByPartition(d: Destination, events: LogEvent[]): Promise<void> {
		const parts = new Map<string, LogEvent[]>();
		for (const e of events) {
			const key = d.partition!(e);
			parts.set(key, [...parts.get(key) ?? [], e]);
		}

		for (const batch of parts.values()) {
			expect(await d.send(batch)).toEqual({ok: true});
		}
	}

	test('groups and streams from templates are created, with retention; events read back in time order', async () => {
		const d = await destination({group: '/logmon/{env.LOGMON_TEST_TEAM}/{service}', stream: '{host}/{level}', retentionDays: 7});
		const base = Date.now() - 60_000;
		const sent: LogEvent[] = [];
		for (let i = 0; i < 200; i++) {
			const service = i % 2 === 0 ? 'checkout' : 'cart';
			const host = i % 3 === 0 ? 'web-1' : 'web-2';
			// Out of time order within each stream: the destination sorts.
			const time = base + ((i * 7919) % 200);
			sent.push(event({service, host, level: i % 5 === 0 ? 'ERROR' : 'INFO', time, message: `event ${i} at ${time}`, raw: `event ${i} at ${time}`}));
		}

		await sendByPartition(d, sent);
		const groups = await reader.send(new DescribeLogGroupsCommand({logGroupNamePrefix: '/logmon/'}));
		expect(groups.logGroups?.map(g => [g.logGroupName, g.retentionInDays]).sort()).toEqual([['/logmon/shop/cart', 7], ['/logmon/shop/checkout', 7]]);
		let total = 0;
		for (const group of ['/logmon/shop/cart', '/logmon/shop/checkout']) {
			const streams = await reader.send(new DescribeLogStreamsCommand({logGroupName: group}));
			for (const stream of streams.logStreams ?? []) {
				const name = stream.logStreamName!;
				const [host, level] = name.split('/');
				const expected = sent
					.filter(e => `/logmon/shop/${e.service}` === group && e.host === host && e.level === level)
					.sort((a, b) => a.time - b.time)
					.map(e => e.raw);
				expect(expected.length).toBeGreaterThan(0);
				expect(await read(group, name)).toEqual(expected);
				total += expected.length;
			}
		}

		expect(total).toBe(200);
		expect(d.details!()).toMatchObject({groupsCreated: 2, streamsCreated: 8, tooOld: 0, tooNew: 0});
	});

	test('a second batch to an existing stream appends; events too far ahead are counted', async () => {
		const d = await destination({group: 'logmon-test', stream: '{service}'});
		const now = Date.now();
		await sendByPartition(d, [event({service: 'api', time: now - 2, message: 'one', raw: 'one'})]);
		await sendByPartition(d, [
			event({service: 'api', time: now - 1, message: 'two', raw: 'two'}),
			event({service: 'api', time: now + (3 * 3_600_000), message: 'from the future', raw: 'from the future'}),
		]);
		expect(await read('logmon-test', 'api')).toEqual(['one', 'two']);
		expect(d.details!()).toMatchObject({requests: 3, tooNew: 1, groupsCreated: 1, streamsCreated: 1});
	});

	test('a 2 MB line arrives cut to the limit with its marker', async () => {
		const d = await destination({group: 'logmon-test'});
		const line = `${'0123456789'.repeat(200_000)}`;
		await sendByPartition(d, [event({service: 'big', time: Date.now(), message: line, raw: line})]);
		const [got] = await read('logmon-test', 'big');
		expect(got).toMatch(/^0123456789.* \[truncated by logmon: 2000000 bytes\]$/);
		expect(Buffer.byteLength(got!)).toBeLessThanOrEqual(1_048_550);
	});
});
