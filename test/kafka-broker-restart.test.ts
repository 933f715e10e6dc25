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
	}, 150_000);
});
