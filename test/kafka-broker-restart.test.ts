import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {type KafkaTool} from '../source/sources/kafka.js';
import {DedicatedBroker, canStartBrokers, skipKafka, stateHome, tool, unique} from './support/kafka.js';
import {Running} from './support/kafka-logmon.js';

// The broker goes away in the middle of a stream and comes back. A broker of its own,
// so the shared one other tests use is never disturbed.

describe.skipIf(skipKafka() || !canStartBrokers())('kafka source across a broker restart', () => {
	const broker = new DedicatedBroker();
	let kafka: KafkaTool;
	let m: Running | undefined;

	beforeAll(async () => {
		kafka = tool(await broker.start());
	});

	afterAll(async () => {
		await m?.stop('SIGKILL');
		await kafka?.disconnect();
		await broker.stop();
	});

	test('logmon shows it is retrying, then resumes with nothing lost', async () => {
		const topic = unique('outage');
		await kafka.createTopics([{topic}]);
		m = new Running(['--kafka', broker.address, '--topic', topic, '-G', unique('g'), '--from-beginning', '-o', 'raw'], {XDG_STATE_HOME: stateHome()});
		await m.joined();
		await kafka.produce(topic, Array.from({length: 50}, (_, i) => ({value: `before ${i}`})));
		await m.lineCount(50);

		await kafka.disconnect();
		await broker.stop(true);
		await m.until(() => /kafka: retrying in \d+ s \(/.test(m!.stderr), 'the retrying state on stderr');

		await broker.start();
		kafka = tool(broker.address);
		await kafka.produce(topic, Array.from({length: 50}, (_, i) => ({value: `after ${i}`})));
		await m.lineCount(100, 90_000);
		expect(m.lines).toEqual([
			...Array.from({length: 50}, (_, i) => `before ${i}`),
			...Array.from({length: 50}, (_, i) => `after ${i}`),
		]);
		expect(m.stderr).toMatch(/joined group[^\n]*\n[\s\S]*retrying in \d+ s[\s\S]*joined group/);
		expect(await m.stop()).toBe(143);
		m = undefined;
	}, 150_000);

	test('records the broker sends again after it crashed are skipped and counted, never shown twice', async () => {
		// A crash while logmon works through a backlog: the offsets of the batch it was
		// showing were never committed, so the broker sends that batch again after the restart.
		const topic = unique('crash');
		const total = 400_000;
		await kafka.createTopics([{topic, partitions: 2}]);
		const pad = 'x'.repeat(80);
		for (let i = 0; i < total; i += 10_000) {
			await kafka.produce(topic, Array.from({length: 10_000}, (_, j) => ({value: `r ${i + j} ${pad}`})));
		}

		await kafka.disconnect();
		const logmon = new Running(['--kafka', broker.address, '--topic', topic, '-G', unique('g'), '--from-beginning', '-o', 'raw'], {XDG_STATE_HOME: stateHome()});
		m = logmon;
		await logmon.joined();
		const repeated = /records on [^ ]+ \(offsets \d+–\d+\) were already shown by this run; skipped \(repeats: (\d+)\)/;
		// A crash does not always catch a batch between shown and committed: crash again, up to 6 times.
		for (let crash = 1; crash <= 6 && !repeated.test(logmon.stderr) && logmon.lines.length < total - 100_000; crash++) {
			const at = logmon.lines.length;
			await logmon.until(() => logmon.lines.length >= at + 10_000, 'the consumer busy with the backlog');
			await broker.crash();
			await broker.start();
			// After a crash the broker takes a while to recover, and logmon's backoff grows meanwhile.
			await logmon.until(() => (logmon.stderr.match(/joined group/g) ?? []).length > crash, 'joined again', 120_000);
		}

		await logmon.lineCount(total, 120_000);
		expect(await logmon.stop()).toBe(143);
		expect(logmon.lines).toHaveLength(total);
		expect(new Set(logmon.lines).size).toBe(total);
		expect(logmon.stderr).toMatch(repeated);
		const skipped = Number(/(\d+) repeats of records already shown skipped/.exec(logmon.stderr)?.[1]);
		expect(skipped).toBeGreaterThan(0);
		kafka = tool(broker.address);
		// Up to six crashes, each a broker restart and a rejoin: 95-185 s in CI runs, so room to spare on a slower host.
	}, 420_000);
});
