// The HTTP server of logmon under load (history on, a logio listener as the source).
//
// 1. Latency (`logmon serve`): GET /api/v1/logs/stats and /api/v1/logs/events?limit=100 while
//    20,000 events/s stream in: p50 and p99 (goal for stats: p99 under 50 ms) and requests/s, four
//    requests in flight; in the same run, a bare node:http server (its own process) answering a
//    constant JSON of the same size as logmon's stats answer, under the same load and stream.
// 2. SSE fan-out (pipe mode with --http, so the bus has a sink whose deliveries can be counted:
//    the lines on logmon's stdout): at an offered 10,000 events/s, the events/s the bus delivers
//    to the sink with no client, then with 50 clients on /api/v1/stream (in five processes of
//    ten) = kept % (goal: at least 90%), with logmon's CPU and CPU per event in both, and the
//    clients' lag (the time a client reads an event minus the time logmon received it) p99 (goal
//    under 1 s) and the events they lost (logmon's count). Beside them, labelled saturated: the
//    same with 4 publishers sending as fast as they can.
// `npm run bench -- http` runs only this case.
import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import {availableParallelism, loadavg, tmpdir} from 'node:os';
import path from 'node:path';
import {corpusLines, cpuTicks, mb, root, sample} from '../support/measure.js';

const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

type Logmon = {child: ChildProcess; listen: number; http: number; stderr: {text: string}; dir: string};

async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as net.AddressInfo;
	await new Promise(resolve => server.close(resolve));
	return port;
}

async function waitForText(child: ChildProcess, re: RegExp, sink: {text: string}): Promise<RegExpExecArray> {
	for (let i = 0; i < 1000; i++) {
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

async function startLogmon(): Promise<Logmon> {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-http-'));
	const port = await freePort();
	const child = spawn(process.execPath, ['bin/logmon.js', 'serve', '--listen', '127.0.0.1:0', '--http', `127.0.0.1:${port}`, '--history-dir', dir], {cwd: root, stdio: ['ignore', 'ignore', 'pipe']});
	const stderr = {text: ''};
	child.stderr!.on('data', (d: Buffer) => {
		stderr.text += d.toString();
	});
	const listen = Number((await waitForText(child, /listening on 127\.0\.0\.1:(\d+)/, stderr))[1]);
	await waitForText(child, /serving http:/, stderr);
	return {child, listen, http: port, stderr, dir};
}

async function stopLogmon(l: Logmon): Promise<void> {
	const closed = new Promise(resolve => l.child.once('close', resolve));
	l.child.kill('SIGTERM');
	await closed;
	rmSync(l.dir, {recursive: true, force: true});
}

/** One logio publisher connection; `line(i)` is the i-th raw line. */
async function publisher(port: number, app: string): Promise<net.Socket> {
	const socket = net.connect(port, '127.0.0.1');
	await new Promise(resolve => socket.once('connect', resolve));
	socket.write(JSON.stringify({app, proc: 'web', host: 'bench'}));
	return socket;
}

function encode(lines: readonly string[], from: number, count: number): Buffer {
	const now = new Date().toISOString();
	const parts: string[] = [];
	for (let i = from; i < from + count; i++) {
		parts.push(JSON.stringify({time: now, raw: lines[i % lines.length]! + '\n'}));
	}

	return Buffer.from(parts.join(''));
}

/** Send `perSecond` events/s in 20 slices a second until stopped; resolves with the events sent. */
function paced(socket: net.Socket, lines: readonly string[], perSecond: number): {sent: () => number; stop: () => Promise<number>} {
	let sent = 0;
	let running = true;
	const slice = perSecond / 20;
	const started = performance.now();
	const done = (async () => {
		while (running) {
			const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
			if (due > sent) {
				const n = Math.min(due - sent, slice * 4);
				if (!socket.write(encode(lines, sent, n))) {
					await new Promise(resolve => socket.once('drain', resolve));
				}

				sent += n;
			}

			await sleep(50);
		}

		return sent;
	})();
	return {
		sent: () => sent,
		async stop() {
			running = false;
			return done;
		},
	};
}

function percentile(sorted: readonly number[], p: number): number {
	return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

type Load = {requests: number; seconds: number; p50: number; p99: number; bytes: number; failures: number};

/** `concurrency` requests in flight for `seconds`, on kept-alive connections. */
async function load(url: string, seconds: number, concurrency = 4): Promise<Load> {
	const agent = new http.Agent({keepAlive: true, maxSockets: concurrency});
	const latencies: number[] = [];
	let bytes = 0;
	let failures = 0;
	const end = performance.now() + seconds * 1000;
	const started = performance.now();
	await Promise.all(Array.from({length: concurrency}, async () => {
		while (performance.now() < end) {
			const t = performance.now();
			// eslint-disable-next-line no-await-in-loop
			await new Promise<void>(resolve => {
				http.get(url, {agent}, res => {
					let n = 0;
					res.on('data', (d: Buffer) => {
						n += d.length;
					});
					res.on('end', () => {
						if (res.statusCode === 200) {
							latencies.push(performance.now() - t);
							bytes = n;
						} else {
							failures++;
						}

						resolve();
					});
				}).on('error', () => {
					failures++;
					resolve();
				});
			});
		}
	}));
	agent.destroy();
	latencies.sort((a, b) => a - b);
	return {requests: latencies.length, seconds: (performance.now() - started) / 1000, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), bytes, failures};
}

function describeLoad(label: string, l: Load): string {
	return `${label}: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, ${Math.round(l.requests / l.seconds).toLocaleString('en')} requests/s (${l.bytes.toLocaleString('en')} B answers${l.failures > 0 ? `, ${l.failures} failed` : ''})`;
}

/** A bare node:http server in its own process, answering `body` to every request. */
async function bareServer(body: string): Promise<{port: number; child: ChildProcess}> {
	const script = `const http = require('node:http'); const body = Buffer.from(process.env.BODY);
const server = http.createServer((req, res) => { res.writeHead(200, {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length}); res.end(body); });
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
	const child = spawn(process.execPath, ['-e', script], {stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, BODY: body}});
	const port = await new Promise<number>(resolve => {
		child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
	});
	return {port, child};
}

async function getText(url: string): Promise<string> {
	return new Promise((resolve, reject) => {
		http.get(url, res => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (d: string) => {
				text += d;
			});
			res.on('end', () => resolve(text));
		}).on('error', reject);
	});
}

async function latency(lines: readonly string[]): Promise<void> {
	const l = await startLogmon();
	const socket = await publisher(l.listen, 'bench');
	const feed = paced(socket, lines, 20_000);
	await sleep(3000); // the stream and the history settle
	const base = `http://127.0.0.1:${l.http}/api/v1`;
	const statsBody = await getText(`${base}/logs/stats`);
	const stats = await load(`${base}/logs/stats`, 8);
	const events = await load(`${base}/logs/events?limit=100`, 8);
	const bare = await bareServer(statsBody);
	const bareLoad = await load(`http://127.0.0.1:${bare.port}/`, 8);
	bare.child.kill();
	const sent = await feed.stop();
	const health = JSON.parse(await getText(`${base}/health`)) as {sources: Array<{events: number; drops: number}>; history: {written: number; dropped: number}};
	console.log(`while 20,000 events/s stream in (history on; ${sent.toLocaleString('en')} sent, ${health.sources[0]!.events.toLocaleString('en')} read, history ${health.history.written.toLocaleString('en')} written, ${health.history.dropped} dropped):`);
	console.log(`  ${describeLoad('GET /api/v1/logs/stats (goal p99 < 50 ms)', stats)}`);
	console.log(`  ${describeLoad('GET /api/v1/logs/events?limit=100', events)}`);
	console.log(`  ${describeLoad('bare node:http, constant JSON of the stats size', bareLoad)}`);
	console.log(`  stats requests/s against the bare server: ${((stats.requests / stats.seconds) / (bareLoad.requests / bareLoad.seconds) * 100).toFixed(0)}%`);
	socket.destroy();
	await stopLogmon(l);
}

type ClientReport = Array<{p99: number | null; seq: number}>;

/**
 * SSE clients in processes of their own (bench/support/sse-clients.mjs), ten to a process: one
 * process reading 50 streams of 10,000 events/s falls behind by itself, and its lag is not logmon's.
 */
type Clients = {ask(command: 'reset' | 'report'): Promise<ClientReport>; stop(): void};

async function sseClients(url: string, count: number, perProcess = 10): Promise<Clients> {
	const groups = Array.from({length: Math.ceil(count / perProcess)}, (_, i) => {
		const child = spawn(process.execPath, [path.join(root, 'bench', 'support', 'sse-clients.mjs'), url, String(Math.min(perProcess, count - i * perProcess))], {stdio: ['pipe', 'pipe', 'inherit']});
		let out = '';
		const waiting: Array<(line: string) => void> = [];
		child.stdout!.setEncoding('utf8').on('data', (d: string) => {
			out += d;
			let nl: number;
			while ((nl = out.indexOf('\n')) >= 0) {
				const line = out.slice(0, nl);
				out = out.slice(nl + 1);
				waiting.shift()?.(line);
			}
		});
		return {child, waiting};
	});
	await sleep(1500); // the connections land
	return {
		async ask(command) {
			const answers = await Promise.all(groups.map(async g => {
				g.child.stdin!.write(`${command}\n`);
				if (command === 'reset') {
					return [];
				}

				return new Promise<ClientReport>(resolve => {
					g.waiting.push(line => resolve(JSON.parse(line) as ClientReport));
				});
			}));
			return answers.flat();
		},
		stop() {
			for (const g of groups) {
				g.child.kill();
			}
		},
	};
}

/** logmon in pipe mode (-o raw) with --http: every event the bus delivers to the sink is a line on its stdout, counted here. */
type PipeLogmon = Logmon & {delivered: {lines: number; at: number}};

async function startPipeLogmon(): Promise<PipeLogmon> {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-http-'));
	const child = spawn(process.execPath, ['bin/logmon.js', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--history-dir', dir, '-o', 'raw'], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']});
	const stderr = {text: ''};
	child.stderr!.on('data', (d: Buffer) => {
		stderr.text += d.toString();
	});
	const delivered = {lines: 0, at: 0};
	child.stdout!.on('data', (d: Buffer) => {
		delivered.at = performance.now();
		for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) {
			delivered.lines++;
		}
	});
	const listen = Number((await waitForText(child, /listening on 127\.0\.0\.1:(\d+)/, stderr))[1]);
	const port = Number((await waitForText(child, /serving http:\/\/127\.0\.0\.1:(\d+)/, stderr))[1]);
	return {child, listen, http: port, stderr, dir, delivered};
}

type Window = {offered: number; delivered: number; cpu: number; cpuUs: number};

/** At `perSecond` offered by one paced publisher: after 2 s to settle, 10 s of deliveries to the sink and logmon's CPU; `during` runs in that window. */
async function offered(l: PipeLogmon, lines: readonly string[], perSecond: number, during?: {start(): Promise<void>; end(): Promise<void>}): Promise<Window> {
	const socket = await publisher(l.listen, 'paced');
	const feed = paced(socket, lines, perSecond);
	await sleep(2000);
	await during?.start();
	const sent0 = feed.sent();
	const lines0 = l.delivered.lines;
	const cpu0 = cpuTicks(l.child.pid!);
	const t0 = performance.now();
	await sleep(10_000);
	const seconds = (performance.now() - t0) / 1000;
	const ticks = cpuTicks(l.child.pid!) - cpu0;
	const delivered = l.delivered.lines - lines0;
	const sent = feed.sent() - sent0;
	await during?.end();
	await feed.stop();
	socket.destroy();
	await sleep(1000); // the tail drains before the next window
	return {offered: sent / seconds, delivered: delivered / seconds, cpu: ticks / 100 / seconds, cpuUs: ticks * 10_000 / Math.max(1, delivered)};
}

async function eventsRead(base: string): Promise<number> {
	const health = JSON.parse(await getText(`${base}/health`)) as {sources: Array<{events: number}>};
	return health.sources.reduce((n, x) => n + x.events, 0);
}

/**
 * Saturated: `total` lines from 4 publishers as fast as they go. When logmon has read them all and
 * its stdout is quiet, the lines the sink wrote over the time to the last one (pipe mode drops, and
 * counts, what a slow stdout cannot take: `delivered` says how many arrived).
 */
async function saturated(l: PipeLogmon, lines: readonly string[], total: number): Promise<{rate: number; cpuUs: number; delivered: number}> {
	const base = `http://127.0.0.1:${l.http}/api/v1`;
	const read0 = await eventsRead(base);
	const before = l.delivered.lines;
	const cpu0 = cpuTicks(l.child.pid!);
	const streams = Array.from({length: 4}, (_, k) => encode(lines, k * (total / 4), total / 4));
	const start = performance.now();
	await Promise.all(streams.map(async (stream, k) => {
		const socket = await publisher(l.listen, `burst${k}`);
		for (let i = 0; i < stream.length; i += 65_536) {
			if (!socket.write(stream.subarray(i, i + 65_536))) {
				await new Promise(resolve => socket.once('drain', resolve));
			}
		}

		await new Promise<void>(resolve => {
			socket.end(() => {
				resolve();
			});
		});
	}));
	while (await eventsRead(base) < read0 + total) {
		await sleep(20);
	}

	while (l.delivered.lines < before + total && performance.now() - l.delivered.at < 500) {
		await sleep(20);
	}

	const delivered = l.delivered.lines - before;
	const seconds = (l.delivered.at - start) / 1000;
	// logmon's CPU for those events, the stream's writes included: on a busy machine, a steadier figure than the wall clock.
	await sleep(500);
	return {rate: delivered / seconds, cpuUs: (cpuTicks(l.child.pid!) - cpu0) * 10_000 / total, delivered};
}

async function streamCounters(base: string): Promise<{lost: number; dropped: number}> {
	const health = JSON.parse(await getText(`${base}/health`)) as {http: {streamLost: number; streamDropped: number}};
	return {lost: health.http.streamLost, dropped: health.http.streamDropped};
}

const rate = (n: number): string => Math.round(n).toLocaleString('en');

async function fanout(lines: readonly string[]): Promise<void> {
	const l = await startPipeLogmon();
	const base = `http://127.0.0.1:${l.http}/api/v1`;
	const pid = l.child.pid!;
	const total = 200_000;
	const alone = await offered(l, lines, 10_000);
	const aloneSaturated = await saturated(l, lines, total);

	const clients = await sseClients(`${base}/stream`, 50);
	let lost0 = {lost: 0, dropped: 0};
	const withClients = await offered(l, lines, 10_000, {
		async start() {
			await clients.ask('reset');
			lost0 = await streamCounters(base);
		},
		async end() {},
	});
	const report = await clients.ask('report');
	const lost1 = await streamCounters(base);
	const p99s = report.map(c => c.p99 ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
	const withSaturated = await saturated(l, lines, total);
	await sleep(1000);
	const lost2 = await streamCounters(base);

	console.log(`pipe mode with --http, offered 10,000 events/s (one paced publisher, 10 s window after 2 s; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores: the 50 clients read 500,000 events/s on this machine too):`);
	console.log(`  bus to the pipe sink: ${rate(alone.delivered)} events/s with no client (${rate(alone.offered)} offered), ${rate(withClients.delivered)} with 50 SSE clients (${rate(withClients.offered)} offered) = ${(withClients.delivered / alone.delivered * 100).toFixed(0)}% kept (goal >= 90%); delivered/offered ${(alone.delivered / alone.offered * 100).toFixed(0)}% and ${(withClients.delivered / withClients.offered * 100).toFixed(0)}%`);
	console.log(`  logmon CPU: ${(alone.cpu * 100).toFixed(0)}% of a core with no client, ${(withClients.cpu * 100).toFixed(0)}% with 50 (${alone.cpuUs.toFixed(1)} and ${withClients.cpuUs.toFixed(1)} µs per event delivered)`);
	console.log(`  per-client lag p99: median ${p99s[25]!.toFixed(0)} ms, worst ${p99s.at(-1)!.toFixed(0)} ms (goal < 1000 ms); events lost by clients ${(lost1.lost - lost0.lost).toLocaleString('en')}, clients dropped ${lost1.dropped - lost0.dropped}`);
	console.log(`saturated (${total.toLocaleString('en')} events, 4 publishers as fast as they send, until the sink has them all):`);
	console.log(`  bus to the pipe sink: ${rate(aloneSaturated.rate)} events/s with no client, ${rate(withSaturated.rate)} with 50 SSE clients = ${(withSaturated.rate / aloneSaturated.rate * 100).toFixed(0)}% kept (lines written: ${aloneSaturated.delivered.toLocaleString('en')} and ${withSaturated.delivered.toLocaleString('en')} of ${total.toLocaleString('en')})`);
	console.log(`  logmon CPU per event: ${aloneSaturated.cpuUs.toFixed(1)} µs with no client, ${withSaturated.cpuUs.toFixed(1)} µs with 50; the clients lost ${(lost2.lost - lost1.lost).toLocaleString('en')} events in that burst (counted, with notices); logmon peak RSS ${mb(sample(pid)?.hwmKb ?? 0)}`);
	clients.stop();
	await stopLogmon(l);
}

export async function run(): Promise<void> {
	const lines = corpusLines();
	console.log(`logmon with history on, a logio listener fed with ${lines.length.toLocaleString('en')} loghub lines, repeated`);
	await latency(lines);
	await fanout(lines);
}
