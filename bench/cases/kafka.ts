// Kafka consumption: logmon against kcat on the same topics, same broker, same run.
//
//   300,000 records of about 250 bytes (JSON in the logging handler's shape, the messages
//   taken from the loghub corpus) go to a 1-partition and a 4-partition topic. Then
//     logmon --no-ui --kafka B -t T --from-beginning --ephemeral --exit-at-end -o text > /dev/null
//     kcat -C -b B -t T -o beginning -e -q > /dev/null
//   are timed, wall clock, start to exit, five times each in turn after three untimed runs
//   of each; the best run of each tool counts. Goal: logmon at least 0.5x kcat's msgs/s.
//
// The broker: KAFKA_BROKERS, else one started with scripts/kafka.sh (java and mvn).
// kcat: Debian's package, installed with apt-get when missing.
import {spawn} from 'node:child_process';
import {existsSync, openSync, readdirSync, readFileSync, closeSync} from 'node:fs';
import {hostname} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {detectLevel} from '../../source/core/level.js';
import {KafkaTool} from '../../source/sources/kafka.js';
import {benchBroker, ensureKcat} from '../support/kafka.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const total = 300_000;
const recordSize = 250;
const rounds = 5;
const warmups = 3;

function corpusLines(): Array<{service: string; line: string}> {
	const dirs = [path.join(root, 'test', 'fixtures', 'loghub'), path.resolve(root, '..', 'shared', 'corpus', 'loghub')];
	const dir = dirs.find(d => existsSync(d) && readdirSync(d).some(f => f.endsWith('.log')));
	if (!dir) {
		throw new Error(`no loghub *.log files in ${dirs.join(' or ')}`);
	}

	return readdirSync(dir).filter(f => f.endsWith('.log')).sort().flatMap(f => {
		const service = f.replace(/_2k\.log$/, '').toLowerCase();
		return readFileSync(path.join(dir, f), 'utf8').split(/\r?\n/).filter(Boolean).map(line => ({service, line}));
	});
}

/** Records in the logging handler's shape, each about `recordSize` bytes. */
function records(): string[] {
	const lines = corpusLines();
	const host = hostname();
	const out: string[] = [];
	const t0 = Date.parse('2025-01-02T00:00:00Z');
	for (let i = 0; i < total; i++) {
		const {service, line} = lines[i % lines.length]!;
		const head = {timestamp: new Date(t0 + i).toISOString(), service, host, level: detectLevel({text: line}), logger: `${service}.main`, message: ''};
		const room = Math.max(20, recordSize - JSON.stringify(head).length);
		const message = line.length >= room ? line.slice(0, room) : line + ' '.repeat(room - line.length);
		out.push(JSON.stringify({...head, message}));
	}

	return out;
}

async function produceAll(brokers: string, topics: Array<{topic: string; partitions: number}>): Promise<void> {
	const kafka = new KafkaTool({brokers: [brokers]});
	try {
		const values = records();
		const avg = Math.round(values.reduce((n, v) => n + Buffer.byteLength(v), 0) / values.length);
		await kafka.createTopics(topics);
		for (const {topic, partitions} of topics) {
			const started = Date.now();
			for (let i = 0; i < total; i += 10_000) {
				await kafka.produce(topic, values.slice(i, i + 10_000).map((value, j) => ({value, partition: (i + j) % partitions})));
			}

			console.log(`produced ${total} records (avg ${avg} bytes) to ${topic} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
		}
	} finally {
		await kafka.disconnect();
	}
}

async function timed(command: string, args: string[]): Promise<{seconds: number; code: number | null; stderr: string}> {
	const out = openSync('/dev/null', 'w');
	const started = process.hrtime.bigint();
	const child = spawn(command, args, {stdio: ['ignore', out, 'pipe']});
	let stderr = '';
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
	});
	const code = await new Promise<number | null>(resolve => child.once('close', resolve));
	closeSync(out);
	return {seconds: Number(process.hrtime.bigint() - started) / 1e9, code, stderr};
}

export async function run(): Promise<void> {
	ensureKcat();
	const broker = benchBroker('logmon-bench-kafka-');
	const {brokers} = broker;

	try {
		const stamp = Date.now().toString(36);
		const topics = [{topic: `bench-1p-${stamp}`, partitions: 1}, {topic: `bench-4p-${stamp}`, partitions: 4}];
		await produceAll(brokers, topics);
		// logmon is CPU-bound and kcat is not: collect this process's garbage (the produced
		// records) now, so the collector does not run beside logmon while it is timed.
		(globalThis as {gc?: () => void}).gc?.();
		await new Promise(resolve => setTimeout(resolve, 3000));
		const node = process.execPath;
		const bin = path.join(root, 'bin', 'logmon.js');
		// LOGMON_BENCH_BASELINE=/path/to/other/bin/logmon.js: that build too, in the same rounds.
		const baseline = process.env['LOGMON_BENCH_BASELINE'];
		for (const {topic, partitions} of topics) {
			const logmonRuns: number[] = [];
			const kcatRuns: number[] = [];
			const baselineRuns: number[] = [];
			// Untimed runs of each first: a broker that has just started is still compiling its
			// fetch path (JIT), as a broker in service is not. kcat prefetches and barely notices;
			// logmon, fetching and then mapping, is slower against a cold broker.
			for (let round = 0; round < warmups; round++) {
				await timed(node, [bin, '--no-ui', '--kafka', brokers, '-t', topic, '--from-beginning', '--ephemeral', '--exit-at-end', '-o', 'text']);
				await timed('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q']);
			}

			// Alternating runs; the best of each tool counts (the machine is shared and noisy).
			for (let round = 0; round < rounds; round++) {
				const l = await timed(node, [bin, '--no-ui', '--kafka', brokers, '-t', topic, '--from-beginning', '--ephemeral', '--exit-at-end', '-o', 'text']);
				if (l.code !== 0 || /dropped/.test(l.stderr)) {
					throw new Error(`logmon failed (${l.code}):\n${l.stderr}`);
				}

				logmonRuns.push(l.seconds);
				const k = await timed('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q']);
				if (k.code !== 0) {
					throw new Error(`kcat failed (${k.code}):\n${k.stderr}`);
				}

				kcatRuns.push(k.seconds);
				if (baseline) {
					const b = await timed(node, [baseline, '--no-ui', '--kafka', brokers, '-t', topic, '--from-beginning', '--ephemeral', '--exit-at-end', '-o', 'text']);
					baselineRuns.push(b.seconds);
				}
			}

			const rate = (s: number): number => Math.round(total / s);
			const l = Math.min(...logmonRuns);
			const k = Math.min(...kcatRuns);
			console.log(`${partitions} partition${partitions > 1 ? 's' : ''}: logmon ${rate(l).toLocaleString('en')} msgs/s (${l.toFixed(2)} s; runs ${logmonRuns.map(s => s.toFixed(2)).join(', ')}), `
				+ `kcat ${rate(k).toLocaleString('en')} msgs/s (${k.toFixed(2)} s; runs ${kcatRuns.map(s => s.toFixed(2)).join(', ')}), `
				+ `ratio ${(rate(l) / rate(k)).toFixed(2)}x (goal >= 0.5x)`);
			if (baseline) {
				const b = Math.min(...baselineRuns);
				console.log(`  baseline ${baseline}: ${rate(b).toLocaleString('en')} msgs/s (${b.toFixed(2)} s; runs ${baselineRuns.map(s => s.toFixed(2)).join(', ')}), ratio ${(rate(b) / rate(k)).toFixed(2)}x`);
			}
		}
	} finally {
		broker.stop();
	}
}
