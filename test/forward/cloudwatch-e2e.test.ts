import {CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand, GetLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs';
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {StrictCloudwatch} from '../support/cloudwatch-strict.js';
import {collect, corpus, root, run, start, until} from '../support/logmon.js';
import {haveMoto, type Moto, requirePeers, startMoto} from '../support/moto.js';

// `--forward cloudwatch://…` and the config's `forward` through the built logmon: to moto (the
// AWS SDK on the wire; events read back in order), to the strict server (the delivery loop's
// batches and the destination's requests never over a limit), and the SDK loaded only when a
// cloudwatch forwarder is configured.

/** What the AWS chain reads; no instance-metadata lookups from tests. The SDK's Node-version warning is left on: logmon must silence it. */
const awsEnv = {AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined, AWS_REGION: undefined};

// The test's own SDK client (reading moto back) is quiet; the logmon it starts is not told to be.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const fixture = (name: string): string => readFileSync(path.join(corpus, name), 'utf8');
const lines = (text: string): string[] => text.split(/\r?\n/).filter(Boolean);
type Out = {level: string; raw: string; message: string; service: string};
const json = (stdout: string): Out[] => lines(stdout).map(l => JSON.parse(l) as Out);

/** The bundle's chunks holding the AWS SDK. */
function sdkChunks(): string[] {
	const dir = path.join(root, 'dist', 'bundle', 'chunks');
	return readdirSync(dir).filter(f => readFileSync(path.join(dir, f), 'utf8').includes('node_modules/@aws-sdk/'));
}

describe.skipIf(!haveMoto() && !requirePeers)('--forward cloudwatch:// to moto through the built logmon', () => {
	let moto: Moto;
	let reader: CloudWatchLogsClient;

	beforeAll(async () => {
		if (!haveMoto()) {
			throw new Error('LOGMON_REQUIRE_PEERS=1 and moto could not be installed (scripts/ensure-moto.sh)');
		}

		moto = await startMoto();
		reader = new CloudWatchLogsClient({region: 'us-east-1', endpoint: moto.endpoint, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}});
	});

	afterAll(async () => {
		reader?.destroy();
		await moto?.stop();
	});

	async function read(group: string, stream: string): Promise<string[]> {
		const out: string[] = [];
		let token: string | undefined;
		for (;;) {
			// eslint-disable-next-line no-await-in-loop -- pages in order
			const page = await reader.send(new GetLogEventsCommand({logGroupName: group, logStreamName: stream, startFromHead: true, nextToken: token}));
			out.push(...(page.events ?? []).map(e => e.message ?? ''));
			if (!page.events?.length || page.nextForwardToken === token) {
				return out;
			}

			token = page.nextForwardToken;
		}
	}

	/** Events stored in `group`, over all its streams. */
	async function stored(group: string): Promise<number> {
		try {
			const streams = await reader.send(new DescribeLogStreamsCommand({logGroupName: group}));
			let total = 0;
			for (const stream of streams.logStreams ?? []) {
				// eslint-disable-next-line no-await-in-loop
				total += (await read(group, stream.logStreamName!)).length;
			}

			return total;
		} catch {
			return 0;
		}
	}

	/** Run logmon on `input`, its stdin held open until moto has `expected` events in `group` (the exit gives a busy machine 2 s only). */
	async function forward(args: string[], input: string, env: Record<string, string | undefined>, group: string, expected: number) {
		const child = start(args, {env: {...awsEnv, ...env}, nodeArgs: env['LOGMON_IMPORT_LOG'] ? ['--import', path.join(root, 'test', 'support', 'record-imports.mjs')] : []});
		const result = collect(child, 90_000);
		// Whole lines only: a last line without its newline would wait for the end of input.
		child.stdin!.write(input.endsWith('\n') ? input : `${input}\n`);
		for (const deadline = Date.now() + 60_000; ;) {
			// eslint-disable-next-line no-await-in-loop
			if (await stored(group) >= expected || child.exitCode !== null) {
				break;
			}

			if (Date.now() > deadline) {
				throw new Error(`moto holds ${await stored(group)} of ${expected} events in ${group}`);
			}

			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => setTimeout(resolve, 200));
		}

		child.stdin!.end();
		return result;
	}

	test('pipe mode: every line of a fixture in the stream of its level, in order, groups and streams created from templates; the SDK loads, quietly', async () => {
		const input = fixture('Apache_2k.log');
		const log = path.join(mkdtempSync(path.join(tmpdir(), 'logmon-imports-')), 'imports.txt');
		const url = `cloudwatch://us-east-1?endpoint=${moto.endpoint}&group=/logmon/{env.LOGMON_E2E_STAGE}&stream={service}-{level}&retentionDays=3&delay=0.5`;
		const r = await forward(['-o', 'json', '--forward', url], input, {LOGMON_E2E_STAGE: 'e2e', LOGMON_IMPORT_LOG: log}, '/logmon/e2e', lines(input).length);
		expect(r.code, r.stderr).toBe(0);
		expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|internal error|failed/);
		const out = json(r.stdout);
		expect(out).toHaveLength(lines(input).length);
		const groups = await reader.send(new DescribeLogGroupsCommand({}));
		expect(groups.logGroups?.map(g => [g.logGroupName, g.retentionInDays])).toEqual([['/logmon/e2e', 3]]);
		const streams = await reader.send(new DescribeLogStreamsCommand({logGroupName: '/logmon/e2e'}));
		const levels = [...new Set(out.map(e => e.level))].sort();
		expect(levels.length).toBeGreaterThan(1);
		expect(streams.logStreams?.map(s => s.logStreamName).sort()).toEqual(levels.map(l => `stdin-${l}`));
		for (const level of levels) {
			// eslint-disable-next-line no-await-in-loop
			expect(await read('/logmon/e2e', `stdin-${level}`)).toEqual(out.filter(e => e.level === level).map(e => e.raw.replace(/\r$/, '')));
		}

		const loaded = readFileSync(log, 'utf8');
		expect(sdkChunks().filter(c => loaded.includes(`/chunks/${c}`)).length).toBeGreaterThan(0);
	});

	test('the config\'s forward entry, with a filter: only the errors go', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-cw-config-'));
		const config = path.join(dir, 'config.json');
		writeFileSync(config, JSON.stringify({forward: [{name: 'errors-to-cw', type: 'cloudwatch', region: 'us-east-1', endpoint: moto.endpoint, group: 'config-test', stream: 'errors', filter: 'level>=error', delay: '1s'}]}));
		const input = fixture('Apache_2k.log');
		const expected = lines(input).filter(l => l.includes('[error]')).length;
		const r = await forward(['--config', config, '-o', 'json'], input, {}, 'config-test', expected);
		expect(r.code, r.stderr).toBe(0);
		const errors = json(r.stdout).filter(e => e.level === 'ERROR' || e.level === 'CRITICAL');
		expect(errors).toHaveLength(expected);
		expect(errors.length).toBeGreaterThan(0);
		expect(await read('config-test', 'errors')).toEqual(errors.map(e => e.raw.replace(/\r$/, '')));
	});
});

describe('cloudwatch through the built logmon, without moto', () => {
	let server: StrictCloudwatch;

	beforeAll(async () => {
		server = await new StrictCloudwatch().listen();
	});

	afterAll(async () => {
		await server.close();
	});

	test('30,000 lines to the strict server: every request within the limits, every line once, in order', async () => {
		const all = lines(fixture('HDFS_2k.log') + fixture('Spark_2k.log') + fixture('Hadoop_2k.log'));
		const input = Array.from({length: 30_000}, (_, i) => all[i % all.length]!).join('\n') + '\n';
		const child = start(['-o', 'raw', '--forward', `cloudwatch://us-east-1?endpoint=${server.endpoint}&group=strict&delay=0.5`], {env: awsEnv});
		const result = collect(child, 90_000);
		child.stdin!.write(input);
		await until(() => server.events('strict', 'stdin').length >= 30_000, 'every line at the server', 60_000);
		child.stdin!.end();
		const r = await result;
		expect(r.code, r.stderr).toBe(0);
		expect(server.calls.filter(c => c.error && c.error !== 'ResourceNotFoundException')).toEqual([]);
		const puts = server.puts().filter(c => !c.error);
		expect(puts.every(c => c.events! <= 10_000 && c.bytes! <= 1_048_576)).toBe(true);
		expect(puts.length).toBeGreaterThanOrEqual(3);
		expect(server.events('strict', 'stdin').map(e => e.message)).toEqual(lines(input));
	});

	test('throttling and unavailability are retried until the lines go; a refused batch is dead-lettered and counted', async () => {
		server.groups.clear();
		server.calls.length = 0;
		const sent = lines(fixture('Zookeeper_2k.log')).slice(0, 300);
		server.script.push({status: 400, type: 'ThrottlingException', message: 'Rate exceeded'}, {status: 503, type: 'ServiceUnavailableException', message: 'try later'});
		const url = `cloudwatch://us-east-1?endpoint=${server.endpoint}&group=retry&delay=0.2`;
		const child = start(['-o', 'raw', '--forward', url], {env: awsEnv});
		child.stdin!.write(sent.join('\n') + '\n');
		await until(() => server.events('retry', 'stdin').length >= sent.length, 'every line at the server', 30_000);
		child.stdin!.end();
		const r = await collect(child);
		expect(r.code, r.stderr).toBe(0);
		expect(server.events('retry', 'stdin').map(e => e.message)).toEqual(sent);
		expect(server.puts().slice(0, 2).map(c => c.error)).toEqual(['ThrottlingException', 'ServiceUnavailableException']);
		expect(r.stderr).not.toMatch(/dead-lettered/);

		server.script.push({status: 400, type: 'InvalidParameterException', message: 'Log events in a single PutLogEvents request must be in chronological order.'});
		const refused = await run(['-o', 'raw', '--forward', url], {input: sent.slice(0, 10).join('\n') + '\n', env: awsEnv});
		expect(refused.code, refused.stderr).toBe(0);
		expect(refused.stderr).toMatch(/forward cloudwatch: .*10 dead-lettered/);
		expect(refused.stderr).toMatch(/InvalidParameterException \(400\): Log events in a single PutLogEvents request must be in chronological order/);
		expect(server.events('retry', 'stdin')).toHaveLength(sent.length);
	});

	test('without a cloudwatch forwarder the SDK is never loaded', async () => {
		const chunks = sdkChunks();
		expect(chunks.length).toBeGreaterThan(0);
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-imports-'));
		const log = path.join(dir, 'imports.txt');
		const r = await run(['-o', 'raw', '--forward', `file://${path.join(dir, 'all.ndjson')}`], {
			input: fixture('Apache_2k.log'),
			env: {LOGMON_IMPORT_LOG: log},
			nodeArgs: ['--import', path.join(root, 'test', 'support', 'record-imports.mjs')],
		});
		expect(r.code, r.stderr).toBe(0);
		const loaded = readFileSync(log, 'utf8');
		expect(loaded).toMatch(/\/dist\/bundle\/chunks\/file-\w+\.js/);
		expect(chunks.filter(c => loaded.includes(`/chunks/${c}`))).toEqual([]);
	});

	test('a template CloudWatch would refuse, an unknown placeholder or a bad retention is an error naming the flag', async () => {
		for (const [url, why] of [
			['cloudwatch://us-east-1?group=my logs', /--forward.*log group name template "my logs" has " ": CloudWatch allows letters, digits and \. - _ \/ #/],
			['cloudwatch://us-east-1?stream={host}:{service}', /--forward.*":"/],
			['cloudwatch://us-east-1?stream={nope}', /--forward.*unknown placeholder \{nope\}/],
			['cloudwatch://us-east-1?retentionDays=2', /--forward.*retention periods: 1, 3, 5, 7, 14/],
		] as const) {
			// eslint-disable-next-line no-await-in-loop
			const r = await run(['-o', 'raw', '--forward', url], {input: 'x\n', env: awsEnv});
			expect(r.code, url).not.toBe(0);
			expect(r.stderr, url).toMatch(why);
		}
	});
});
