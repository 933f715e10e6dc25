import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {type KafkaTool} from '../source/sources/kafka.js';
import {brokers, securedListeners, type SecuredListeners, skipKafka, stateHome, tool, unique} from './support/kafka.js';
import {Running} from './support/kafka-logmon.js';
import {run} from './support/logmon.js';

// SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and SSL against the real test broker's
// secured listeners (scripts/kafka.sh starts them). The password reaches logmon only
// through ${ENV} interpolation in its config file, as the README tells users to do.

describe.skipIf(skipKafka())('kafka over SASL and SSL', () => {
	let kafka: KafkaTool;
	let secured: SecuredListeners | undefined;
	const records = ['{"service":"api","level":"info","message":"over a secured listener"}', 'plain text over a secured listener'];
	const topic = unique('secured');
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-secured-'));
	const env = {XDG_STATE_HOME: stateHome(), LOGMON_TEST_KAFKA_PASSWORD: ''};

	/** A config file with one Kafka source; the password is left to the environment. */
	const config = (source: Record<string, unknown>): string => {
		const file = path.join(dir, `${unique('config')}.json`);
		writeFileSync(file, JSON.stringify({sources: [{type: 'kafka', topics: [topic], group: unique('g'), from: 'beginning', exitAtEnd: true, ...source}]}));
		return file;
	};

	/** logmon reads the topic to its end through `source` and prints every record, with no complaint. */
	const readsAll = async (source: Record<string, unknown>): Promise<void> => {
		const r = await run(['--no-ui', '--no-stdin', '--config', config(source), '-o', 'raw'], {env});
		expect(r.stderr).not.toMatch(/retrying|failed/);
		expect(r.code).toBe(0);
		expect(r.stdout.trim().split('\n')).toEqual(records);
	};

	beforeAll(async () => {
		const address = await brokers();
		secured = securedListeners();
		if (!secured && process.env['LOGMON_REQUIRE_KAFKA'] === '1') {
			throw new Error('LOGMON_REQUIRE_KAFKA=1, but the broker was not started by scripts/kafka.sh, so it has no SASL and SSL listeners to test');
		}

		kafka = tool(address);
		await kafka.createTopics([{topic}]);
		await kafka.produce(topic, records.map(value => ({value})));
		env.LOGMON_TEST_KAFKA_PASSWORD = secured?.password ?? '';
	});

	afterAll(async () => {
		await kafka?.disconnect();
	});

	test.each(['plain', 'scram-sha-256', 'scram-sha-512'])('SASL %s, the password from ${ENV}', async mechanism => {
		if (!secured) {
			console.warn('!!! logmon: the broker was not started by scripts/kafka.sh; SASL and SSL tests SKIPPED');
			return;
		}

		// The config file holds the ${ENV} reference, never the password itself.
		await readsAll({brokers: [secured.sasl], sasl: {mechanism, username: secured.username, password: '${LOGMON_TEST_KAFKA_PASSWORD}'}});
	});

	test('a wrong SASL password fails the source with the reason, and logmon exits 1', async () => {
		if (!secured) {
			return;
		}

		const file = config({brokers: [secured.sasl], sasl: {mechanism: 'scram-sha-256', username: secured.username, password: '${LOGMON_TEST_KAFKA_PASSWORD}'}});
		const r = await run(['--no-ui', '--no-stdin', '--config', file, '-o', 'raw'], {env: {...env, LOGMON_TEST_KAFKA_PASSWORD: 'not-the-password'}});
		expect(r.code).toBe(1);
		expect(r.stdout).toBe('');
		expect(r.stderr).toMatch(/kafka: failed.*authentication failed/i);
		expect(r.stderr).not.toContain('not-the-password');
	});

	test('a wrong SASL password, run from a script (stdin not a terminal, nothing on it): exit 1, one line naming the source and the cause', async () => {
		if (!secured) {
			return;
		}

		// No --no-stdin: stdin is an empty pipe, so logmon also reads it, and it ends at once.
		const file = config({name: 'orders-kafka', brokers: [secured.sasl], sasl: {mechanism: 'plain', username: secured.username, password: '${LOGMON_TEST_KAFKA_PASSWORD}'}});
		const r = await run(['--no-ui', '--config', file, '-o', 'raw'], {env: {...env, LOGMON_TEST_KAFKA_PASSWORD: 'not-the-password'}});
		expect(r.stdout).toBe('');
		expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^logmon: orders-kafka: failed: SASL PLAIN authentication failed: .*invalid username or password/i)]);
		expect(r.code).toBe(1);
	});

	test('SSL with the broker\'s CA file', async () => {
		if (!secured) {
			return;
		}

		await readsAll({brokers: [secured.ssl], ssl: {ca: secured.ca}});
	});

	test('SSL to a certificate nobody vouches for: retrying, with the reason', async () => {
		if (!secured) {
			return;
		}

		const m = new Running(['--no-stdin', '--config', config({brokers: [secured.ssl], ssl: true})], env);
		await m.until(() => /kafka: retrying in \d+ s \(.*self-signed certificate/.test(m.stderr), 'retrying with the certificate error');
		expect(await m.stop()).toBe(143);
		expect(m.lines).toEqual([]);
	});
});
