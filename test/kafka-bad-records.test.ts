import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {type KafkaTool} from '../source/sources/kafka.js';
import {brokers, skipKafka, stateHome, tool, unique} from './support/kafka.js';
import {run} from './support/logmon.js';

// No single record can stop a Kafka partition: a record that throws anywhere while it
// is handled (mapping it, or a later stage such as the -o json writer) is counted and
// skipped, and the partition moves on. Against the real broker, through the built logmon.

describe.skipIf(skipKafka())('kafka records that break a later stage', () => {
	let address: string;
	let kafka: KafkaTool;
	const env = {XDG_STATE_HOME: stateHome()};

	beforeAll(async () => {
		address = await brokers();
		kafka = tool(address);
	});

	afterAll(async () => {
		await kafka?.disconnect();
	});

	// 5,000 levels deep: JSON.parse takes them, a recursive writer (JSON.stringify) does not.
	const deepArray = `{"a":${'['.repeat(4999)}${']'.repeat(4999)}}`;
	const deepObject = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
	const good = (i: number): string => JSON.stringify({service: 'api', level: 'info', message: `good ${i}`});

	test('deeply nested records among good ones, -o json: every good record once, exit 0 at the end, errors counted', async () => {
		const topic = unique('hostile');
		await kafka.createTopics([{topic}]);
		// One batch with hostile records in the middle; then a batch that starts with one;
		// then one that ends the topic with one, so --exit-at-end must get past it.
		await kafka.produce(topic, [
			...[0, 1, 2, 3, 4].map(i => ({value: good(i)})),
			{value: deepArray},
			...[5, 6, 7].map(i => ({value: good(i)})),
			{value: deepObject},
			...[8, 9].map(i => ({value: good(i)})),
		]);
		await kafka.produce(topic, [{value: deepObject}, ...[10, 11, 12].map(i => ({value: good(i)}))]);
		await kafka.produce(topic, [...[13, 14].map(i => ({value: good(i)})), {value: deepArray}]);

		const r = await run(['--no-ui', '--no-stdin', '--kafka', address, '--topic', topic, '-G', unique('g'), '--from-beginning', '--exit-at-end', '-o', 'json'], {env, timeoutMs: 90_000});
		expect(r.stderr).not.toMatch(/internal error|retrying/);
		expect(r.code).toBe(0);
		const events = r.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, any>);
		const messages = events.map(e => e['message'] as string);
		// Each good record exactly once, in offset order. A hostile one is either skipped,
		// or (once the depth is bounded where records are parsed) shown once as text.
		expect(messages.filter(m => m.startsWith('good '))).toEqual(Array.from({length: 15}, (_, i) => `good ${i}`));
		for (const hostile of [deepArray, deepObject]) {
			expect(events.filter(e => e['raw'] === hostile).length).toBeLessThanOrEqual(2);
		}

		expect(events.filter(e => !(e['message'] as string).startsWith('good ')).every(e => typeof e['raw'] === 'string' && e['raw'].length >= 10_000)).toBe(true);
		// Four hostile records, four errors in health, each named by its offset.
		expect(r.stderr).toMatch(/\(parse errors: 4\)/);
		expect(r.stderr).not.toMatch(/\(parse errors: 5\)/);
		for (const offset of [5, 9, 12, 18]) {
			expect(r.stderr).toContain(`${topic}/0@${offset}`);
		}
	}, 120_000);
});
