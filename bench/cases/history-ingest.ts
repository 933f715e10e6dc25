// History ingest: pipe mode from a logio listener with the history on against the same with it
// off, alternating in the same run (goal: history on keeps at least 85% of the throughput).
//
//   Four publishers push 1,000,000 real log lines (the loghub fixtures, repeated) over loopback into
//     logmon --no-ui -o raw --listen 127.0.0.1:0 [--no-history | --history-dir DIR] > file
//   Throughput is lines that reached stdout per second, from the first send until the last byte
//   landed in the output file (polled every 10 ms; done when it has stopped growing and logmon's
//   CPU has gone quiet, so a seal running in the background is part of the run). Each round runs
//   both, off then on or on then off in turn, so the machine's load drifts over both alike. The
//   figure is the median of the rounds' on/off ratios; the ratio of each one's fastest run is
//   shown beside it (on a shared host some runs go slower throughout, whichever variant they are).
// Also shown per run: logmon's CPU seconds (all its threads, and its main thread's: the one that
// reads the sources and writes stdout, which the history must leave as free as it can), the time
// that main thread waited for a CPU while it had work (schedstat: on two cores it takes turns with
// the history's threads and V8's GC helpers, which is most of what the history costs in wall time), lines
// lost on stdout, and for the history on: the lines it holds once logmon has exited (goal: every
// one), and bytes per event on disk (sealed segments, from their sidecars; the active segment's
// raw bytes shown apart).
//
// LOGMON_BENCH_INGEST_LINES and LOGMON_BENCH_INGEST_ROUNDS change the size and the rounds;
// LOGMON_BENCH_BASELINE=/path/to/other/bin/logmon.js runs that build's history on in the same rounds.
// `npm run bench -- history-ingest` runs only this case.
import {spawn} from 'node:child_process';
import {closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {bin, corpusLines, cpuTicks, threadCpuTicks, threadWaitMs} from '../support/measure.js';

const total = Number(process.env['LOGMON_BENCH_INGEST_LINES'] ?? 1_000_000);
const rounds = Number(process.env['LOGMON_BENCH_INGEST_ROUNDS'] ?? 5);
const publishers = 4;

const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

type Variant = {name: string; bin: string; history: boolean};

type Result = {linesPerSecond: number; lines: number; seconds: number; cpuSeconds: number; mainCpuSeconds: number; mainWaitMs: number; disk?: string};

/** Each publisher's byte stream, encoded once before anything is timed. */
function publisherStreams(): Buffer[] {
	const lines = corpusLines();
	const base = Date.now();
	return Array.from({length: publishers}, (_, k) => {
		const parts = [JSON.stringify({app: `bench${k}`, proc: 'web', host: 'bench'})];
		for (let i = k; i < total; i += publishers) {
			parts.push(JSON.stringify({time: new Date(base + i).toISOString(), raw: lines[i % lines.length]! + '\n'}));
		}

		return Buffer.from(parts.join(''));
	});
}

async function listeningPort(stderr: {text: string}, exited: () => boolean): Promise<number> {
	for (let i = 0; i < 1000; i++) {
		const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr.text);
		if (m) {
			return Number(m[1]);
		}

		if (exited()) {
			break;
		}

		await sleep(10);
	}

	throw new Error(`logmon did not start listening; stderr: ${stderr.text}`);
}

async function publish(port: number, streams: Buffer[]): Promise<void> {
	await Promise.all(streams.map(async stream => {
		const socket = net.connect(port, '127.0.0.1');
		await new Promise(resolve => socket.once('connect', resolve));
		// 64 KiB writes cut at any byte, as a real publisher's segments are.
		for (let i = 0; i < stream.length; i += 65_536) {
			if (!socket.write(stream.subarray(i, i + 65_536))) {
				await new Promise(resolve => socket.once('drain', resolve));
			}
		}

		await new Promise(resolve => {
			socket.end(() => {
				resolve(undefined);
			});
		});
	}));
}

function countLines(file: string): number {
	const buf = readFileSync(file);
	let n = 0;
	for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) {
		n++;
	}

	return n;
}

/** The lines the history holds (sealed ones from their sidecars), bytes per event of the sealed segments, what is still raw. */
function diskFigures(dir: string): string {
	const all = path.join(dir, 'all');
	let events = 0;
	let gzBytes = 0;
	let rawBytes = 0;
	let rawLines = 0;
	let segments = 0;
	for (const name of readdirSync(all)) {
		if (name.endsWith('.idx.json')) {
			const index = JSON.parse(readFileSync(path.join(all, name), 'utf8')) as {events: number; gzBytes: number};
			events += index.events;
			gzBytes += index.gzBytes;
			segments++;
		} else if (name.endsWith('.ndjson')) {
			rawBytes += statSync(path.join(all, name)).size;
			rawLines += countLines(path.join(all, name));
		}
	}

	const held = events + rawLines;
	const sealed = events > 0 ? `${segments} sealed segments, ${(gzBytes / events).toFixed(1)} B/event gzip` : 'nothing sealed yet';
	return `${held === total ? 'every line' : `${held.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} lines`}; ${sealed}; ${(rawBytes / 1024 / 1024).toFixed(1)} MiB still raw`;
}

async function once(variant: Variant, streams: Buffer[]): Promise<Result> {
	const work = mkdtempSync(path.join(tmpdir(), 'logmon-bench-ingest-'));
	const outFile = path.join(work, 'out');
	const historyDir = path.join(work, 'history');
	const args = [variant.bin, '--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0', ...(variant.history ? ['--history-dir', historyDir] : ['--no-history'])];
	const out = openSync(outFile, 'w');
	const env = {...process.env, NODE_ENV: 'production', XDG_CONFIG_HOME: '/nonexistent', XDG_STATE_HOME: path.join(work, 'state')};
	const logmon = spawn(process.execPath, args, {stdio: ['ignore', out, 'pipe'], env});
	closeSync(out);
	const stderr = {text: ''};
	logmon.stderr!.on('data', (d: Buffer) => {
		stderr.text += d.toString();
	});
	const port = await listeningPort(stderr, () => logmon.exitCode !== null);
	const pid = logmon.pid!;

	const start = performance.now();
	const startTicks = cpuTicks(pid);
	const startMainTicks = threadCpuTicks(pid, pid);
	const startMainWait = threadWaitMs(pid, pid);
	let size = 0;
	let lastGrowth = start;
	let ticks = startTicks;
	let lastTick = start;
	let sending = true;
	const poll = (async () => {
		// Done when the output has stopped growing and logmon's CPU is quiet, both for 500 ms.
		for (;;) {
			await sleep(10);
			const now = performance.now();
			const s = statSync(outFile).size;
			if (s !== size) {
				size = s;
				lastGrowth = now;
			}

			const t = cpuTicks(pid);
			if (t !== ticks) {
				ticks = t;
				lastTick = now;
			}

			if (!sending && now - lastGrowth > 500 && now - lastTick > 500) {
				return;
			}
		}
	})();
	await publish(port, streams);
	sending = false;
	await poll;

	const seconds = (lastGrowth - start) / 1000;
	const cpuSeconds = (ticks - startTicks) / 100;
	const mainCpuSeconds = (threadCpuTicks(pid, pid) - startMainTicks) / 100;
	const mainWaitMs = threadWaitMs(pid, pid) - startMainWait;
	const exited = new Promise(resolve => logmon.once('close', resolve));
	logmon.kill('SIGTERM');
	await exited;
	const lines = countLines(outFile);
	const result: Result = {linesPerSecond: lines / seconds, lines, seconds, cpuSeconds, mainCpuSeconds, mainWaitMs};
	if (variant.history) {
		result.disk = diskFigures(historyDir);
	}

	rmSync(work, {recursive: true, force: true});
	return result;
}

function describe(r: Result): string {
	const lost = total - r.lines;
	return `${Math.round(r.linesPerSecond).toLocaleString('en-US')} lines/s (${r.seconds.toFixed(2)} s, CPU ${r.cpuSeconds.toFixed(2)} s, main thread ${r.mainCpuSeconds.toFixed(2)} s, waited ${Math.round(r.mainWaitMs)} ms${lost === 0 ? '' : `, ${lost.toLocaleString('en-US')} lines lost`})`;
}

export async function run(): Promise<void> {
	const streams = publisherStreams();
	const variants: Variant[] = [{name: 'off', bin, history: false}, {name: 'on', bin, history: true}];
	const baseline = process.env['LOGMON_BENCH_BASELINE'];
	if (baseline) {
		variants.push({name: 'on (baseline)', bin: baseline, history: true});
	}

	console.log(`${total.toLocaleString('en-US')} lines from ${publishers} logio publishers, -o raw to a file; ${rounds} rounds, history off and on in turn`);
	const shares: number[] = [];
	const byVariant = new Map<string, Result[]>();
	for (let round = 1; round <= rounds; round++) {
		const order = round % 2 === 1 ? variants : [...variants].reverse();
		const results = new Map<string, Result>();
		for (const v of order) {
			const r = await once(v, streams);
			results.set(v.name, r);
			byVariant.set(v.name, [...(byVariant.get(v.name) ?? []), r]);
		}

		const off = results.get('off')!;
		const on = results.get('on')!;
		const share = on.linesPerSecond / off.linesPerSecond;
		shares.push(share);
		console.log(`  round ${round}: ${variants.map(v => `${v.name} ${describe(results.get(v.name)!)}`).join('  ')}  on/off ${(share * 100).toFixed(1)}%`);
		if (on.disk) {
			console.log(`    history: ${on.disk}`);
		}
	}

	const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
	const cpu = (name: string) => median(byVariant.get(name)!.map(r => r.cpuSeconds));
	const mainCpu = (name: string) => median(byVariant.get(name)!.map(r => r.mainCpuSeconds));
	const mainWait = (name: string) => median(byVariant.get(name)!.map(r => r.mainWaitMs));
	console.log(`  median share kept (goal at least 85%): ${(median(shares) * 100).toFixed(1)}%; median CPU off ${cpu('off').toFixed(2)} s, on ${cpu('on').toFixed(2)} s (${((cpu('on') / cpu('off') - 1) * 100).toFixed(0)}% more); main thread off ${mainCpu('off').toFixed(2)} s, on ${mainCpu('on').toFixed(2)} s (${((mainCpu('on') / mainCpu('off') - 1) * 100).toFixed(0)}% more), waiting for a CPU off ${Math.round(mainWait('off'))} ms, on ${Math.round(mainWait('on'))} ms`);
	// On a shared host a run now and then goes at two thirds of its speed, all its threads alike;
	// the fastest run of each is the one least disturbed. Shown beside the median, not instead of it.
	const best = (name: string) => Math.max(...byVariant.get(name)!.map(r => r.linesPerSecond));
	console.log(`  fastest run of each: on/off ${(100 * best('on') / best('off')).toFixed(1)}%${baseline ? `, baseline on/off ${(100 * best('on (baseline)') / best('off')).toFixed(1)}%` : ''}`);
}
