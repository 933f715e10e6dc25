// Grafana /query under load: `logmon serve` with the 3-day history of the history benchmark (10
// million real log lines) and 20,000 events/s streaming in from a logio publisher, answers
// error_count at 1-minute buckets (4,320 points):
//   - over the history's 3 days (the sidecars' per-minute error counts), and
//   - over the last 3 days (this run's live counts),
// one request at a time for latency (p50, p99; goal p99 < 300 ms), then 4 clients at once for
// requests/s, beside a bare node:http server answering a constant JSON of the same size with the
// same clients in the same run. logmon's CPU per request and the events it took in are reported
// too (the stream must keep up). `npm run bench -- grafana` runs only this case.
import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {benchHistory, endTime, startTime} from '../support/history-data.js';
import {bin, cpuTicks, mb, root, sample} from '../support/measure.js';

const env = {...process.env, NODE_ENV: 'production', XDG_CONFIG_HOME: '/nonexistent'};
const rate = 20_000;
const latencyRequests = 300;
const throughputSeconds = 10;
const clients = 4;
const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

type Running = {child: ChildProcess; stderr: {text: string}};

async function waitFor(r: Running, re: RegExp): Promise<RegExpExecArray> {
	for (let i = 0; i < 3000; i++) {
		const m = re.exec(r.stderr.text);
		if (m) {
			return m;
		}

		if (r.child.exitCode !== null) {
			break;
		}

		await sleep(10);
	}

	throw new Error(`no ${String(re)} on stderr: ${r.stderr.text.slice(0, 500)}`);
}

function started(command: string, args: string[]): Running {
	const child = spawn(command, args, {env, stdio: ['ignore', 'pipe', 'pipe'], cwd: root});
	const stderr = {text: ''};
	child.stderr!.on('data', (d: Buffer) => {
		stderr.text += d.toString();
	});
	return {child, stderr};
}

async function stopped(child: ChildProcess): Promise<string> {
	let out = '';
	child.stdout?.on('data', (d: Buffer) => {
		out += d.toString();
	});
	const closed = new Promise(resolve => child.once('close', resolve));
	child.kill('SIGTERM');
	await closed;
	return out;
}

const agent = new http.Agent({keepAlive: true, maxSockets: clients});

/** One POST; resolves with the body's length, and its time in ms. */
async function post(url: string, body: string): Promise<{ms: number; bytes: number; status: number}> {
	const t = performance.now();
	return new Promise((resolve, reject) => {
		const req = http.request(url, {method: 'POST', agent, headers: {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body)}}, res => {
			let bytes = 0;
			res.on('data', (d: Buffer) => {
				bytes += d.length;
			});
			res.on('end', () => {
				resolve({ms: performance.now() - t, bytes, status: res.statusCode ?? 0});
			});
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end(body);
	});
}

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function latency(url: string, body: string): Promise<{p50: number; p99: number; max: number; bytes: number}> {
	const times: number[] = [];
	let bytes = 0;
	for (let i = 0; i < latencyRequests; i++) {
		const r = await post(url, body);
		if (r.status !== 200) {
			throw new Error(`${url}: HTTP ${r.status}`);
		}

		times.push(r.ms);
		bytes = r.bytes;
	}

	times.sort((a, b) => a - b);
	return {p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.at(-1)!, bytes};
}

/** `clients` loops sending back to back for a while: requests/s. */
async function throughput(url: string, body: string): Promise<number> {
	let done = 0;
	const until = performance.now() + (throughputSeconds * 1000);
	await Promise.all(Array.from({length: clients}, async () => {
		while (performance.now() < until) {
			await post(url, body);
			done++;
		}
	}));
	return done / throughputSeconds;
}

/** A bare node:http server in a process of its own, answering `bytes` of constant JSON to any request. */
async function bareServer(bytes: number): Promise<{url: string; child: ChildProcess}> {
	const script = `
		const http = require('node:http');
		const body = Buffer.from(JSON.stringify([{target: 'error_count', datapoints: []}]).replace('[]', '[' + '0,'.repeat(${Math.max(0, Math.floor((bytes - 50) / 2))}) + '0]'));
		const server = http.createServer((req, res) => {
			req.resume();
			req.on('end', () => { res.writeHead(200, {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length}); res.end(body); });
		});
		server.listen(0, '127.0.0.1', () => console.error('bare http://127.0.0.1:' + server.address().port + ' ' + body.length));
	`;
	const r = started(process.execPath, ['-e', script]);
	const m = await waitFor(r, /bare (http:\S+) (\d+)/);
	return {url: m[1]!, child: r.child};
}

function queryBody(from: number, to: number): string {
	return JSON.stringify({
		range: {from: new Date(from).toISOString(), to: new Date(to).toISOString(), raw: {from: 'now-3d', to: 'now'}},
		interval: '1m',
		intervalMs: 60_000,
		maxDataPoints: 5000,
		targets: [{target: 'error_count', refId: 'A', payload: {}}],
		filters: [],
	});
}

export async function run(): Promise<void> {
	const h = await benchHistory();
	// A copy made of hard links: logmon writes new segments beside the sealed ones, which it never changes.
	const work = mkdtempSync(path.join(tmpdir(), 'logmon-bench-grafana-'));
	const dir = path.join(work, 'history');
	execFileSync('cp', ['-al', h.dir, dir]);
	const config = path.join(work, 'config.json');
	// Nothing of the old history may go while it runs: retention far beyond its age.
	writeFileSync(config, JSON.stringify({history: {dir, retention: '3650d', errorRetention: '3650d', maxSize: '1000GiB'}}));
	const logmon = started(process.execPath, [bin, 'serve', '--config', config, '--history', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0']);
	try {
		const base = (await waitFor(logmon, /serving (http:\/\/\S+)\/api\/v1\//))[1]!;
		const port = Number((await waitFor(logmon, /listening on 127\.0\.0\.1:(\d+)/))[1]);
		const url = `${base}/api/v1/grafana/query`;
		const stored = queryBody(startTime, endTime);
		const cold = await post(url, stored);
		console.log(`history: ${h.events.toLocaleString('en')} events over 3 days (${h.build}); first query (reads every sidecar): ${cold.ms.toFixed(0)} ms`);
		const feed = started(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'support', 'logio-feed.ts'), String(port), String(rate)]);
		await sleep(2000);
		const pid = logmon.child.pid!;
		// logmon's CPU for the stream alone, to take out of the CPU measured while it answers.
		const idle0 = cpuTicks(pid);
		const idleStart = performance.now();
		await sleep(3000);
		const ingestPerMs = (cpuTicks(pid) - idle0) * 10 / (performance.now() - idleStart);
		console.log(`while ${rate.toLocaleString('en')} events/s stream in (logio publisher; logmon takes ${(ingestPerMs * 100).toFixed(0)}% of a core for them), error_count at 1-minute buckets:`);
		for (const [label, body] of [['the history\'s 3 days (sidecars)', stored], ['the last 3 days (live counts)', queryBody(Date.now() - (3 * 86_400_000), Date.now())]] as const) {
			const cpu0 = cpuTicks(pid);
			const t = performance.now();
			const l = await latency(url, body);
			const cpu = (((cpuTicks(pid) - cpu0) * 10) - (ingestPerMs * (performance.now() - t))) / latencyRequests;
			console.log(`  ${label}: ${(l.bytes / 1024).toFixed(0)} KiB answers, one at a time: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms (goal p99 < 300 ms); logmon CPU ${cpu.toFixed(1)} ms a request beyond the stream's`);
		}

		const bare = await bareServer(cold.bytes);
		const ours = await throughput(url, stored);
		const theirs = await throughput(bare.url, stored);
		await stopped(bare.child);
		console.log(`  ${clients} clients for ${throughputSeconds} s: logmon ${ours.toFixed(0)} requests/s, bare node:http with a constant ${(cold.bytes / 1024).toFixed(0)} KiB JSON ${theirs.toFixed(0)} requests/s (${(ours / theirs * 100).toFixed(0)}%)`);
		const sent = Number((await stopped(feed.child)).trim());
		await sleep(1500);
		const health = await new Promise<{sources: Array<{id: string; events: number; drops: number}>}>((resolve, reject) => {
			http.get(`${base}/api/v1/health`, res => {
				let text = '';
				res.on('data', (d: Buffer) => {
					text += d.toString();
				});
				res.on('end', () => {
					resolve(JSON.parse(text) as {sources: Array<{id: string; events: number; drops: number}>});
				});
			}).on('error', reject);
		});
		const source = health.sources[0]!;
		console.log(`  stream: ${sent.toLocaleString('en')} events sent, ${source.events.toLocaleString('en')} taken in (${source.drops} dropped); logmon peak RSS ${mb(sample(pid)?.hwmKb ?? 0)}`);
	} finally {
		await stopped(logmon.child);
		agent.destroy();
		rmSync(work, {recursive: true, force: true});
	}
}
