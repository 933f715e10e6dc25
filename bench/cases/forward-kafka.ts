// Forwarding to Kafka: logmon against kcat -P, same broker, same records, same run.
//
//   A logio publisher (bench/support/logio-feed.ts, its own process) sends real log lines at
//   100,000 a second for 10 s into
//     logmon serve --listen 127.0.0.1:0 --no-history --forward kafka://B/T1
//   which forwards them as JSON records in the logging handler's shape. Delivered: the topic's
//   high watermark, polled; events/s = records / (first line sent .. last record on the broker).
//   Then the records logmon wrote are read back (kcat -C) and produced again by kcat to T2:
//     paced    fed to kcat -P's stdin at the same 100,000 a second
//     at once  kcat -P -l FILE, as fast as it goes
//   Both tools use the same keys (the service), acks from all replicas and no compression.
//   A run of logmon without the forwarder first gives its CPU for reading the stream alone.
//   CPU time per record (user + system, of logmon's process; of kcat's) is the robust figure on
//   a shared machine; events/s are reported too. Goal: logmon at least 0.5x kcat's events/s.
//
// LOGMON_BENCH_FWD_RATE and LOGMON_BENCH_FWD_SECONDS change the pace and length;
// LOGMON_BENCH_FWD_QUERY adds parameters to the --forward URL (e.g. spool=0).
// `npm run bench -- forward-kafka` runs only this case.
import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {KafkaTool} from '../../source/sources/kafka.js';
import {benchBroker, ensureKcat} from '../support/kafka.js';
import {bin, root, sample} from '../support/measure.js';

const rate = Number(process.env['LOGMON_BENCH_FWD_RATE'] ?? 100_000);
const seconds = Number(process.env['LOGMON_BENCH_FWD_SECONDS'] ?? 10);
/** Parameters for the --forward URL, e.g. `spool=0&compression=gzip`. */
const query = process.env['LOGMON_BENCH_FWD_QUERY'] ?? '';
const ticksPerSecond = 100;
const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

type Run = {records: number; seconds: number; cpuSeconds: number};

function report(name: string, r: Run): string {
	return `${name}: ${Math.round(r.records / r.seconds).toLocaleString('en')} events/s (${r.records.toLocaleString('en')} in ${r.seconds.toFixed(2)} s), `
		+ `CPU ${r.cpuSeconds.toFixed(2)} s = ${(r.cpuSeconds / r.records * 1e6).toFixed(2)} µs/event`;
}

async function total(kafka: KafkaTool, topic: string): Promise<number> {
	return Object.values(await kafka.highWatermarks(topic)).reduce((a, b) => a + b, 0);
}

/** Polls the topic until it holds `count` records (or stops growing for 30 s); the time it got there. */
async function delivered(kafka: KafkaTool, topic: string, count: () => number | undefined): Promise<{at: number; records: number}> {
	let last = -1;
	let lastChange = performance.now();
	for (;;) {
		const n = await total(kafka, topic);
		const now = performance.now();
		if (n !== last) {
			last = n;
			lastChange = now;
		}

		const want = count();
		if (want !== undefined && n >= want) {
			return {at: now, records: n};
		}

		if (want !== undefined && now - lastChange > 30_000) {
			return {at: lastChange, records: n};
		}

		await sleep(50);
	}
}

/** Without a forwarder: once logmon's CPU time stops growing, it has read everything. */
async function quiet(pid: number, sent: number): Promise<{at: number; records: number}> {
	let last = sample(pid)!.cpuTicks;
	let at = performance.now();
	for (;;) {
		await sleep(250);
		const now = sample(pid)!.cpuTicks;
		if (now - last <= 2) {
			return {at, records: sent};
		}

		last = now;
		at = performance.now();
	}
}

async function waitForText(child: ChildProcess, re: RegExp, sink: {text: string}): Promise<RegExpExecArray> {
	for (let i = 0; i < 1500; i++) {
		const m = re.exec(sink.text);
		if (m) {
			return m;
		}

		if (child.exitCode !== null) {
			break;
		}

		await sleep(20);
	}

	throw new Error(`logmon did not print ${String(re)}; stderr: ${sink.text}`);
}

/**
 * logmon serve fed by the logio publisher; with a topic, forwarding to it (the records delivered
 * are counted on the broker), without, the same run with no forwarder (the events read are counted).
 */
async function logmonRun(kafka: KafkaTool, brokers: string, topic: string | undefined): Promise<Run> {
	const state = mkdtempSync(path.join(tmpdir(), 'logmon-bench-fwd-state-'));
	const devNull = openSync('/dev/null', 'w');
	const forward = topic === undefined ? [] : ['--forward', `kafka://${brokers}/${topic}${query ? `?${query}` : ''}`];
	const logmon = spawn(process.execPath, [bin, 'serve', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--no-history', ...forward], {
		cwd: root,
		stdio: ['ignore', devNull, 'pipe'],
		env: {...process.env, XDG_STATE_HOME: state},
	});
	const stderr = {text: ''};
	logmon.stderr!.on('data', (d: Buffer) => {
		stderr.text += d.toString();
	});
	try {
		const port = Number((await waitForText(logmon, /listening on 127\.0\.0\.1:(\d+)/, stderr))[1]);
		await sleep(1000);
		const cpuBefore = sample(logmon.pid!)!.cpuTicks;
		const started = performance.now();
		const feed = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'support', 'logio-feed.ts'), String(port), String(rate)], {cwd: root, stdio: ['ignore', 'pipe', 'inherit']});
		let feedOut = '';
		feed.stdout!.on('data', (d: Buffer) => {
			feedOut += d.toString();
		});
		let sent: number | undefined;
		const done = topic === undefined ? undefined : delivered(kafka, topic, () => sent);
		await sleep(seconds * 1000);
		feed.kill('SIGTERM');
		await new Promise(resolve => feed.once('close', resolve));
		sent = Number(feedOut.trim());
		const {at, records} = done ? await done : await quiet(logmon.pid!, sent);
		const cpuAfter = sample(logmon.pid!)!.cpuTicks;
		if (records < sent) {
			throw new Error(`logmon delivered ${records} of ${sent} events; stderr:\n${stderr.text.slice(-3000)}`);
		}

		return {records, seconds: (at - started) / 1000, cpuSeconds: (cpuAfter - cpuBefore) / ticksPerSecond};
	} finally {
		logmon.kill('SIGTERM');
		await new Promise(resolve => logmon.once('close', resolve));
		rmSync(state, {recursive: true, force: true});
	}
}

/** Runs `kcat args` under bash, whose `times` gives kcat's CPU time; `lines` paced into its stdin, or none. */
async function kcatRun(args: string[], records: number, lines?: string[]): Promise<Run> {
	const quoted = args.map(a => `'${a.replaceAll('\'', '\'\\\'\'')}'`).join(' ');
	const started = performance.now();
	const child = spawn('bash', ['-c', `kcat ${quoted} && times`], {stdio: [lines ? 'pipe' : 'ignore', 'pipe', 'pipe']});
	let out = '';
	let err = '';
	child.stdout!.on('data', (d: Buffer) => {
		out += d.toString();
	});
	child.stderr!.on('data', (d: Buffer) => {
		err += d.toString();
	});
	const closed = new Promise<number | null>(resolve => child.once('close', resolve));
	if (lines) {
		// The same pace as the logio feed: 10 ms ticks, catching up to the clock.
		let next = 0;
		while (next < lines.length) {
			const due = Math.min(lines.length, Math.floor(((performance.now() - started) / 1000) * rate));
			if (due > next) {
				const ok = child.stdin!.write(lines.slice(next, due).join(''));
				next = due;
				if (!ok) {
					await new Promise(resolve => child.stdin!.once('drain', resolve));
				}
			}

			await sleep(10);
		}

		child.stdin!.end();
	}

	const code = await closed;
	const wall = (performance.now() - started) / 1000;
	if (code !== 0) {
		throw new Error(`kcat failed (${code}): ${err}`);
	}

	// `times`: the shell's user and system times, then its children's: "0m1.234s 0m0.567s".
	const children = out.trim().split('\n').at(-1)!.split(' ').map(t => {
		const m = /(\d+)m([\d.]+)s/.exec(t);
		return m ? (Number(m[1]) * 60) + Number(m[2]) : 0;
	});
	return {records, seconds: wall, cpuSeconds: children[0]! + children[1]!};
}

async function readBack(brokers: string, topic: string, file: string): Promise<string[]> {
	const out = openSync(file, 'w');
	const child = spawn('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'], {stdio: ['ignore', out, 'inherit']});
	await new Promise(resolve => child.once('close', resolve));
	return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(l => `${l}\n`);
}

export async function run(): Promise<void> {
	ensureKcat();
	const broker = benchBroker('logmon-bench-fwd-kafka-');
	const {brokers} = broker;
	const kafka = new KafkaTool({brokers: [brokers]});
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-fwd-'));
	try {
		const stamp = Date.now().toString(36);
		const topics = {logmon: `fwd-logmon-${stamp}`, paced: `fwd-kcat-paced-${stamp}`, once: `fwd-kcat-once-${stamp}`};
		await kafka.createTopics(Object.values(topics).map(topic => ({topic})));
		console.log(`${rate.toLocaleString('en')} events/s for ${seconds} s, broker ${brokers}`);
		const base = await logmonRun(kafka, brokers, undefined);
		console.log(report('logmon without a forwarder (its CPU for reading the stream)', base));
		const l = await logmonRun(kafka, brokers, topics.logmon);
		console.log(report('logmon --forward kafka://', l));
		console.log(`forwarding's own CPU: ${((l.cpuSeconds / l.records - base.cpuSeconds / base.records) * 1e6).toFixed(2)} µs/event`);

		const file = path.join(dir, 'records.tsv');
		const lines = await readBack(brokers, topics.logmon, file);
		writeFileSync(file, lines.join(''));
		const bytes = lines.reduce((n, line) => n + Buffer.byteLength(line), 0);
		console.log(`records: ${lines.length.toLocaleString('en')}, ${Math.round(bytes / lines.length)} bytes each on average (key and JSON)`);
		const produce = ['-P', '-b', brokers, '-K', '\t', '-X', 'acks=all', '-X', 'compression.codec=none'];
		const paced = await kcatRun([...produce, '-t', topics.paced], lines.length, lines);
		console.log(report('kcat -P, paced', paced));
		const once = await kcatRun([...produce, '-t', topics.once, '-l', file], lines.length);
		console.log(report('kcat -P -l, at once', once));
		for (const [name, k] of [['paced', paced], ['at once', once]] as const) {
			console.log(`logmon vs kcat ${name}: events/s ${((l.records / l.seconds) / (k.records / k.seconds)).toFixed(2)}x (goal >= 0.5x), `
				+ `CPU per event ${((l.cpuSeconds / l.records) / (k.cpuSeconds / k.records)).toFixed(1)}x kcat's`);
		}

		for (const topic of [topics.paced, topics.once]) {
			const n = await total(kafka, topic);
			if (n !== lines.length) {
				throw new Error(`kcat delivered ${n} of ${lines.length} records to ${topic}`);
			}
		}
	} finally {
		await kafka.disconnect();
		rmSync(dir, {recursive: true, force: true});
		broker.stop();
	}
}
