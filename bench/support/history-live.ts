import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtempSync, openSync, rmSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {bin, corpusLines, cpuTicks, mb, sample} from './measure.js';

// The history's live figures: pipe-mode ingest from logio publishers with the history on and off
// in the same run, and crash safety: `kill -9` of the writer at random moments under a steady
// 20,000 events/s, each followed by a restart and a full read with `logmon query`.

const env = {...process.env, NODE_ENV: 'production', XDG_CONFIG_HOME: '/nonexistent'};
const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

type Running = {child: ChildProcess; port: number; stderr: {text: string}; lines: {count: number}};

/** `countLines`: stdout comes here and its lines are counted; else it goes to /dev/null. */
async function startLogmon(args: string[], countLines = false): Promise<Running> {
	const devNull = openSync('/dev/null', 'w');
	const child = spawn(process.execPath, [bin, '--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0', ...args], {env, stdio: ['ignore', countLines ? 'pipe' : devNull, 'pipe']});
	const lines = {count: 0};
	child.stdout?.on('data', (d: Buffer) => {
		for (let at = d.indexOf(10); at >= 0; at = d.indexOf(10, at + 1)) {
			lines.count++;
		}
	});
	const stderr = {text: ''};
	child.stderr!.on('data', (d: Buffer) => {
		stderr.text += d.toString();
	});
	for (let i = 0; i < 1000; i++) {
		const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr.text);
		if (m) {
			return {child, port: Number(m[1]), stderr, lines};
		}

		if (child.exitCode !== null) {
			break;
		}

		await sleep(10);
	}

	throw new Error(`logmon did not start: ${stderr.text}`);
}

async function stop(r: Running, signal: NodeJS.Signals): Promise<void> {
	const closed = new Promise(resolve => r.child.once('close', resolve));
	r.child.kill(signal);
	await closed;
}

async function connect(port: number): Promise<net.Socket> {
	const socket = net.connect(port, '127.0.0.1');
	await new Promise((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	return socket;
}

/**
 * One ingest run: publishers send `total` lines. Throughput is lines over the time until logmon has
 * written them all to stdout; `settled` is when its CPU went quiet (for the history: the last
 * segments sealed too).
 */
async function ingest(lines: string[], args: string[], total: number, publishers: number): Promise<{rate: number; settled: number; rssKb: number; notes: string}> {
	const r = await startLogmon(args, true);
	const base = Date.now();
	const streams = Array.from({length: publishers}, (_, k) => {
		const parts = [JSON.stringify({app: `bench${k}`, proc: 'web', host: 'bench'})];
		for (let i = k; i < total; i += publishers) {
			parts.push(JSON.stringify({time: new Date(base + i).toISOString(), raw: lines[i % lines.length]! + '\n'}));
		}

		return Buffer.from(parts.join(''));
	});
	const pid = r.child.pid!;
	const start = performance.now();
	await Promise.all(streams.map(async stream => {
		const socket = await connect(r.port);
		for (let i = 0; i < stream.length; i += 65_536) {
			if (!socket.write(stream.subarray(i, i + 65_536))) {
				await new Promise(resolve => socket.once('drain', resolve));
			}
		}

		await new Promise<void>(resolve => {
			socket.end(() => resolve());
		});
	}));
	// Until every line is out, or none came for 3 s (stdout dropped some: the rate then counts what came).
	let seen = r.lines.count;
	let seenAt = performance.now();
	let written = seenAt;
	while (r.lines.count < total && r.child.exitCode === null && performance.now() - seenAt < 3000) {
		await sleep(5);
		if (r.lines.count !== seen) {
			seen = r.lines.count;
			seenAt = performance.now();
		}
	}

	written = r.lines.count >= total ? performance.now() : seenAt;
	const out = r.lines.count;
	let last = cpuTicks(pid);
	let lastChange = performance.now();
	while (performance.now() - lastChange < 700) {
		await sleep(50);
		const now = cpuTicks(pid);
		if (now !== last) {
			last = now;
			lastChange = performance.now();
		}
	}

	const rssKb = sample(pid)?.hwmKb ?? 0;
	await stop(r, 'SIGTERM');
	const notes = r.stderr.text.split('\n').filter(l => l && !/listening on/.test(l)).slice(0, 3).join(' | ');
	return {rate: out / ((written - start) / 1000), settled: (lastChange - start) / 1000, rssKb, notes: (out < total ? `${total - out} lines not written to stdout | ` : '') + notes};
}

export async function ingestOnOff(): Promise<void> {
	const lines = corpusLines();
	const total = 500_000;
	console.log(`ingest: 4 logio publishers, ${total.toLocaleString('en')} lines, pipe mode, stdout read by this process; rate = lines out over the time to the last one`);
	const on: number[] = [];
	const off: number[] = [];
	for (let round = 1; round <= 3; round++) {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-ingest-'));
		const withOut = await ingest(lines, ['--no-history'], total, 4);
		const withHistory = await ingest(lines, ['--history-dir', dir], total, 4);
		rmSync(dir, {recursive: true, force: true});
		off.push(withOut.rate);
		on.push(withHistory.rate);
		console.log(`  round ${round}: history off ${Math.round(withOut.rate).toLocaleString('en')} lines/s (peak RSS ${mb(withOut.rssKb)}, CPU quiet after ${withOut.settled.toFixed(1)} s)  on ${Math.round(withHistory.rate).toLocaleString('en')} lines/s (peak RSS ${mb(withHistory.rssKb)}, CPU quiet after ${withHistory.settled.toFixed(1)} s)  kept ${(withHistory.rate / withOut.rate * 100).toFixed(0)}%`);
		if (withHistory.notes) {
			console.log(`    stderr with history: ${withHistory.notes}`);
		}
	}

	const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
	console.log(`  median: history on keeps ${(median(on) / median(off) * 100).toFixed(0)}% of the throughput (goal >= 85%)`);
}

/** Every counter line `logmon query -o raw` reads back, and the lines that are not one of ours. */
async function readBack(dir: string, expected: (counter: number) => string): Promise<{seen: Map<number, number>; corrupt: number; code: number | null}> {
	const child = spawn(process.execPath, [bin, 'query', '--history-dir', dir, '-o', 'raw'], {env, stdio: ['ignore', 'pipe', 'pipe']});
	let text = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (d: string) => {
		text += d;
	});
	child.stderr.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
	});
	const code = await new Promise<number | null>(resolve => child.once('close', resolve));
	const seen = new Map<number, number>();
	let corrupt = code === 0 ? 0 : 1;
	if (stderr.trim()) {
		console.log(`  query stderr: ${stderr.trim().slice(0, 300)}`);
	}

	for (const line of text.split('\n')) {
		if (line === '') {
			continue;
		}

		const m = /^c(\d+) /.exec(line);
		const counter = m ? Number(m[1]) : Number.NaN;
		if (!m || line !== expected(counter)) {
			corrupt++;
			continue;
		}

		seen.set(counter, (seen.get(counter) ?? 0) + 1);
	}

	return {seen, corrupt, code};
}

export async function crashRounds(): Promise<void> {
	const lines = corpusLines();
	const kills = 20;
	const rate = 20_000;
	const tick = 10; // ms: 200 lines per tick
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-crash-'));
	const expected = (counter: number): string => `c${counter} ${lines[counter % lines.length]!}`;
	const sent: Array<{from: number; to: number}> = [];
	let seed = 7;
	const random = (): number => {
		seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
		return seed / 2_147_483_648;
	};

	console.log(`crash: ${kills} kill -9 at random moments during a ${rate.toLocaleString('en')} events/s logio ingest, each followed by a restart and a full read`);
	let corruptTotal = 0;
	let duplicates = 0;
	const lost: number[] = [];
	for (let round = 0; round <= kills; round++) {
		const r = await startLogmon(['--history-dir', dir]);
		if (round > 0) {
			// The full read, while the restarted logmon runs (and seals what the killed one left).
			const back = await readBack(dir, expected);
			corruptTotal += back.corrupt;
			const previous = sent[round - 1]!;
			let missing = 0;
			for (let c = previous.from; c < previous.to; c++) {
				const n = back.seen.get(c) ?? 0;
				if (n === 0) {
					missing++;
				}

				duplicates += Math.max(0, n - 1);
			}

			lost.push(missing);
		}

		if (round === kills) {
			await stop(r, 'SIGTERM');
			break;
		}

		const socket = await connect(r.port);
		socket.on('error', () => undefined);
		socket.write(JSON.stringify({app: 'crash', proc: 'bench', host: 'bench'}));
		const from = round * 10_000_000;
		let next = from;
		const killAfter = 500 + random() * 2500;
		const started = performance.now();
		while (performance.now() - started < killAfter) {
			const parts: string[] = [];
			for (let i = 0; i < (rate * tick) / 1000; i++) {
				parts.push(JSON.stringify({time: new Date().toISOString(), raw: expected(next++) + '\n'}));
			}

			socket.write(parts.join(''));
			await sleep(tick);
		}

		await stop(r, 'SIGKILL');
		socket.destroy();
		sent.push({from, to: next});
	}

	rmSync(dir, {recursive: true, force: true});
	const perKill = (xs: number[]): string => `mean ${Math.round(xs.reduce((a, b) => a + b, 0) / xs.length).toLocaleString('en')}, max ${Math.max(...xs).toLocaleString('en')}`;
	console.log(`  corrupt reads: ${corruptTotal} (goal 0); events read twice: ${duplicates}`);
	console.log(`  lost per kill (sent before the kill, not in the history after the restart): ${perKill(lost)}; a flush interval (1 s) is ${rate.toLocaleString('en')} events`);
	console.log(`  per kill: ${lost.join(' ')}`);
}
