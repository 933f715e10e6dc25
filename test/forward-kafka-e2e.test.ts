import {type ChildProcess} from 'node:child_process';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {type KafkaTool} from '../source/sources/kafka.js';
import {DedicatedBroker, brokers, canStartBrokers, skipKafka, stateHome, tool, unique} from './support/kafka.js';
import {Running} from './support/kafka-logmon.js';
import {start} from './support/logmon.js';

// `--forward kafka://…` through the built logmon: lines in on stdin, records out on a real
// broker, read back by logmon's own Kafka source. A clean run delivers every event exactly
// once; across a broker crash every event arrives at least once, the duplicates counted.

/** A forwarding logmon reading lines from its stdin, which stays open until it is stopped. */
class Forwarding {
	readonly child: ChildProcess;
	stderr = '';
	private readonly exited: Promise<number | null>;

	constructor(args: string[]) {
		this.child = start(['--no-ui', '--stdin', '-o', 'raw', ...args]);
		this.child.stdout!.resume();
		// Stopped before it read every line (a failed wait): what is left unread is no error of the run.
		this.child.stdin!.on('error', () => undefined);
		this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
			this.stderr += d;
		});
		this.exited = new Promise(resolve => {
			this.child.once('close', resolve);
		});
	}

	write(lines: string[]): void {
		this.child.stdin!.write(lines.map(l => `${l}\n`).join(''));
	}

	async stop(): Promise<number | null> {
		if (this.child.exitCode === null) {
			this.child.kill('SIGTERM');
		}

		return this.exited;
	}
}

async function recordsOn(kafka: KafkaTool, topic: string): Promise<number> {
	return Object.values(await kafka.highWatermarks(topic)).reduce((a, b) => a + b, 0);
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs: number, f?: Forwarding): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!await check()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}${f ? `; stderr:\n${f.stderr.slice(-3000)}` : ''}`);
		}

		await new Promise(resolve => setTimeout(resolve, 200));
	}
}

/** Lines "<prefix> n" with a level each: every 10th an ERROR. */
function lines(prefix: string, from: number, count: number): string[] {
	return Array.from({length: count}, (_, i) => {
		const n = from + i;
		return n % 10 === 0 ? `ERROR ${prefix} ${n} payment failed` : `INFO ${prefix} ${n} request served`;
	});
}

/** Each line's number -> how many times it arrived. */
function tally(messages: string[], prefix: string): Map<number, number> {
	const seen = new Map<number, number>();
	for (const m of messages) {
		const n = Number(new RegExp(`${prefix} (\\d+) `).exec(m)?.[1]);
		seen.set(n, (seen.get(n) ?? 0) + 1);
	}

	return seen;
}

describe.skipIf(skipKafka())('forwarding to kafka through the binary', () => {
	let address: string;
	let kafka: KafkaTool;
	const env = {XDG_STATE_HOME: stateHome()};

	const readBack = async (broker: string, topics: string[]): Promise<Array<Record<string, any>>> => {
		const r = new Running(['--kafka', broker, ...topics.flatMap(t => ['--topic', t]), '--from-beginning', '--ephemeral', '--exit-at-end', '-o', 'json', '--no-history'], env);
		expect(await r.exit()).toBe(0);
		return r.json();
	};

	beforeAll(async () => {
		address = await brokers();
		kafka = tool(address);
	});

	afterAll(async () => {
		await kafka?.disconnect();
	});

	test('a clean run: every event exactly once, errors also on the errors topic', async () => {
		const topic = unique('fwd-e2e');
		const errors = `${topic}-errors`;
		await kafka.createTopics([{topic, partitions: 3}, {topic: errors}]);
		const total = 20_000;
		const f = new Forwarding(['--forward', `kafka://${address}/${topic}?errors=1`]);
		try {
			for (let i = 0; i < total; i += 2000) {
				f.write(lines('e2e', i, 2000));
			}

			await until(async () => await recordsOn(kafka, topic) >= total && await recordsOn(kafka, errors) >= total / 10, 'every record on the broker', 60_000, f);
			expect(await f.stop()).toBe(143);
		} finally {
			await f.stop();
		}

		expect(await recordsOn(kafka, topic)).toBe(total);
		expect(await recordsOn(kafka, errors)).toBe(total / 10);
		const events = await readBack(address, [topic]);
		const seen = tally(events.map(e => e['message'] as string), 'e2e');
		expect(seen.size).toBe(total);
		expect([...seen.values()].every(n => n === 1)).toBe(true);
		const first = events.find(e => (e['message'] as string).startsWith('ERROR e2e 0 '))!;
		expect(first).toMatchObject({service: 'stdin', level: 'ERROR'});
		expect(first['record']).toMatchObject({key: 'stdin', value: {service: 'stdin', level: 'ERROR', message: 'ERROR e2e 0 payment failed'}});
		expect(Object.keys(first['record']['value']).sort()).toEqual(['host', 'id', 'level', 'logger', 'message', 'service', 'timestamp']);

		// Both topics read together: the errors' copies are recognised by their id and shown once.
		const both = await readBack(address, [topic, errors]);
		expect(both).toHaveLength(total);
	}, 180_000);

	describe.skipIf(!canStartBrokers())('across a broker crash', () => {
		const broker = new DedicatedBroker();
		let own: KafkaTool;

		beforeAll(async () => {
			own = tool(await broker.start());
		});

		afterAll(async () => {
			await own?.disconnect();
			await broker.stop();
		});

		test('every event at least once, duplicates counted', async () => {
			const topic = unique('fwd-crash');
			await own.createTopics([{topic, partitions: 2}]);
			const f = new Forwarding(['--forward', `kafka://${broker.address}/${topic}`]);
			const total = 60_000;
			let written = 0;
			try {
				// A steady stream: the crash catches batches in flight.
				const writer = setInterval(() => {
					if (written < total) {
						f.write(lines('crash', written, 1000));
						written += 1000;
					}
				}, 50);
				await until(async () => await recordsOn(own, topic) >= 10_000, 'the first records', 60_000, f);
				await own.disconnect();
				await broker.crash();
				await until(() => /retrying in \d+ s/.test(f.stderr), 'the forwarder retrying', 60_000, f);
				await broker.start();
				own = tool(broker.address);
				await until(() => written >= total, 'every line written', 60_000, f);
				clearInterval(writer);
				await until(async () => await recordsOn(own, topic) >= total, 'every record on the broker again', 120_000, f);
				expect(await f.stop()).toBe(143);
			} finally {
				await f.stop();
			}

			const seen = tally((await readBack(broker.address, [topic])).map(e => e['message'] as string), 'crash');
			const missing = Array.from({length: total}, (_, n) => n).filter(n => !seen.has(n));
			expect(missing).toEqual([]);
			const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
			console.log(`forward across a broker crash: ${total} events, all delivered, ${duplicates} duplicates`);
			expect(duplicates).toBeGreaterThanOrEqual(0);
		}, 300_000);
	});
});
