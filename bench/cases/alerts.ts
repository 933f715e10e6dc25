// Alert rules on a fast logio stream in pipe mode (stdout to /dev/null).
//
//   1. Throughput and CPU: eight publishers (eight services) push 500,000 real log lines
//      as fast as they can, into logmon without rules and into logmon with 100 rules
//      (every kind, groupBy service, notifying a webhook here), alternately, five rounds,
//      then the medians. Goal: at least 80% of the throughput kept. A third run has the same
//      100 rules with level and service `when`s only (no text), to tell the engine's cost
//      from the patterns'. What is kept is shown three ways: by lines per second, by CPU
//      per line (all of logmon's threads), which a busy machine blurs less, and by the CPU
//      of the main thread alone (where the rules run, and whose time bounds the throughput;
//      the history's threads, whose work varies with when its segments roll, left out). Then the same
//      lines offered at 100,000 lines/s: lines written and CPU, with and without rules.
//      The history is on, as logmon has it for network sources, in a directory of this
//      run's own (removed at the end): every logmon of the run adds to it, as restarts do,
//      and the user's own history is left alone.
//      The rule mix is what people write (hundredRules): level thresholds, one service's
//      errors, and a few text patterns. 46 of the 100 rules hold one of six patterns, each
//      plain text or a choice of words ("timeout|refused", "Exception", "failed", `error
//      !debug`, `level>=error "connection"`); the others are level and service thresholds.
//   1b. The engine alone, in this process, on the same lines in batches of one service as
//      the logio listener hands them over: CPU per event for both mixes (min and median of
//      five rounds). Shared machines make process timings noisy; this one holds still.
//   2. Alert latency: from the triggering line leaving the publisher to the webhook body
//      arriving here, for a `match` rule and a `count` rule (the third line of a group in
//      the window), 200 probes each, while the 100 rules run and a background stream flows
//      at 70% of the throughput measured with rules (at most 100,000 lines/s). p50 and p99;
//      goal p99 under 1 s.
// `npm run bench -- alerts` runs only this case.
import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {alertsConfig, toRule} from '../../source/config/alerts.js';
import {AlertEngine} from '../../source/core/alert-engine.js';
import {type LogEvent} from '../../source/core/event.js';
import {eventFromLine} from '../../source/core/record.js';
import {bin, corpusLines, cpuTicks, mainThreadTicks, mb, sample} from '../support/measure.js';

const total = 500_000;
const publishers = 8;
const rounds = 5;
const probes = 200;
const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-alerts-'));
const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** A webhook receiver: counts bodies and notes when each probe's notice arrived. */
class Hook {
	bodies = 0;
	readonly arrivals = new Map<string, number>();
	readonly server = http.createServer((req, res) => {
		let text = '';
		req.setEncoding('utf8').on('data', (d: string) => {
			text += d;
		});
		req.on('end', () => {
			const at = performance.now();
			this.bodies++;
			try {
				const body = JSON.parse(text) as {alerts: Array<{rule: string; status: string; group: Record<string, string>}>};
				for (const a of body.alerts) {
					if (a.rule.startsWith('probe-') && a.status === 'firing') {
						this.arrivals.set(`${a.rule}:${a.group['fingerprint']}`, at);
					}
				}
			} catch {
				// Not ours to judge here.
			}

			res.end('ok');
		});
	});

	port = 0;

	async listen(): Promise<void> {
		await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve));
		this.port = (this.server.address() as net.AddressInfo).port;
	}
}

/**
 * 100 rules, all grouped by service, each kind with the `when`s it is written for: 20 match
 * (criticals, timeouts, one service's errors…), 20 count and 20 rate (errors, warnings,
 * failures), 15 spike, 10 flatline (every event of a service, or its INFO and up), 15 newTerm
 * (new error fingerprints). `plain`: the same kinds with level and service `when`s only.
 */
export function hundredRules(plain = false): unknown[] {
	const whens: Record<string, string[]> = plain ? {
		match: ['level>=critical', 'level>=error service=svc3', 'level>=error service=svc5'],
		count: ['level>=error', 'level>=warn'],
		rate: ['level>=error', 'level>=warn'],
		spike: ['level>=error', 'level>=warn'],
		flatline: ['', 'level>=info'],
		newTerm: ['level>=error', 'level>=critical'],
	} : {
		match: ['level>=critical', '"timeout|refused"', 'level>=error service=svc3', '"Exception"', 'level>=error "connection"'],
		count: ['level>=error', 'level>=warn', '"failed"', '"timeout|refused"', 'error !debug'],
		rate: ['level>=error', 'level>=warn', '"failed"', '"timeout|refused"', 'error !debug'],
		spike: ['level>=error', 'level>=warn', '"failed"'],
		flatline: ['', 'level>=info'],
		newTerm: ['level>=error', '"Exception"', 'level>=critical'],
	};
	const rules: unknown[] = [];
	const add = (kind: string, count: number, spec: (i: number) => Record<string, unknown>): void => {
		for (let i = 0; i < count; i++) {
			const list = whens[kind]!;
			rules.push({name: `${kind}-${i}`, when: list[i % list.length], groupBy: 'service', notify: ['hook'], cooldown: '10m', ...spec(i)});
		}
	};

	add('match', 20, () => ({}));
	add('count', 20, i => ({count: {atLeast: 50 + i, window: '1m'}}));
	add('rate', 20, i => ({rate: {above: `${100 + (i * 10)}/min`, window: '1m', for: '10s'}}));
	add('spike', 15, () => ({spike: {factor: 3, window: '30s', minCurrent: 20, minReference: 5}}));
	add('flatline', 10, () => ({flatline: {below: 1, window: '5m'}}));
	add('newTerm', 15, () => ({newTerm: {warmup: '1m'}}));
	return rules;
}

function config(hookPort: number, withRules: boolean | 'plain', probesToo: boolean): string {
	const rules = withRules ? hundredRules(withRules === 'plain') : [];
	if (probesToo) {
		rules.push(
			{name: 'probe-match', when: '"PROBE-MATCH"', groupBy: 'fingerprint', notify: ['hook'], cooldown: '10m'},
			{name: 'probe-count', when: '"PROBE-COUNT"', groupBy: 'fingerprint', notify: ['hook'], cooldown: '10m', count: {atLeast: 3, window: '10s'}},
		);
	}

	const file = path.join(dir, `config-${withRules === 'plain' ? 'plain' : (withRules ? 'rules' : 'none')}${probesToo ? '-probes' : ''}.json`);
	writeFileSync(file, JSON.stringify({alerts: {rules, sinks: {hook: {type: 'webhook', url: `http://127.0.0.1:${hookPort}/hook`, queue: 100_000}}}}));
	return file;
}

async function startLogmon(configFile: string): Promise<{child: ChildProcess; port: number; stderr: {text: string}}> {
	const devNull = openSync('/dev/null', 'w');
	const child = spawn(process.execPath, [bin, '--config', configFile, '--no-ui', '-o', 'text', '--listen', '127.0.0.1:0'], {
		stdio: ['ignore', devNull, 'pipe'],
		env: {...process.env, NODE_ENV: 'production', XDG_CONFIG_HOME: '/nonexistent', XDG_STATE_HOME: path.join(dir, 'state')},
	});
	const stderr = {text: ''};
	child.stderr!.on('data', (d: Buffer) => {
		stderr.text += d.toString();
	});
	for (let i = 0; i < 500; i++) {
		const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr.text);
		if (m) {
			return {child, port: Number(m[1]), stderr};
		}

		await sleep(20);
	}

	throw new Error(`logmon did not start: ${stderr.text}`);
}

async function stop(child: ChildProcess): Promise<void> {
	const exited = new Promise(resolve => child.once('close', resolve));
	child.kill('SIGTERM');
	await exited;
}

/** Each publisher's stream: its topic, then one encoded value per line, made before the clock starts. */
function encoded(lines: string[]): string[][] {
	const base = Date.now();
	return Array.from({length: publishers}, (_, k) => {
		const parts = [JSON.stringify({app: `svc${k}`, proc: 'web', host: 'bench'})];
		for (let i = k; i < total; i += publishers) {
			parts.push(JSON.stringify({time: new Date(base + i).toISOString(), raw: lines[i % lines.length]! + '\n'}));
		}

		return parts;
	});
}

async function connect(port: number): Promise<net.Socket> {
	const socket = net.connect(port, '127.0.0.1');
	await new Promise(resolve => socket.once('connect', resolve));
	return socket;
}

async function write(socket: net.Socket, data: Buffer): Promise<void> {
	if (!socket.write(data)) {
		await new Promise(resolve => socket.once('drain', resolve));
	}
}

/** Lines per second and CPU seconds (all threads, and the main thread) for one run: first byte sent until logmon's CPU goes quiet. */
async function throughput(configFile: string, data: Buffer[]): Promise<{rate: number; cpu: number; main: number; rss: string; notes: string[]}> {
	const {child, port, stderr} = await startLogmon(configFile);
	const pid = child.pid!;
	const cpuBefore = cpuTicks(pid);
	const mainBefore = mainThreadTicks(pid);
	const start = performance.now();
	await Promise.all(data.map(async stream => {
		const socket = await connect(port);
		for (let i = 0; i < stream.length; i += 65_536) {
			await write(socket, stream.subarray(i, i + 65_536));
		}

		await new Promise(resolve => {
			socket.end(() => {
				resolve(undefined);
			});
		});
	}));
	let last = cpuTicks(pid);
	let lastChange = performance.now();
	while (performance.now() - lastChange < 500) {
		await sleep(50);
		const now = cpuTicks(pid);
		if (now !== last) {
			last = now;
			lastChange = performance.now();
		}
	}

	const seconds = (lastChange - start) / 1000;
	const cpu = (last - cpuBefore) / 100;
	const main = (mainThreadTicks(pid) - mainBefore) / 100;
	const rss = mb(sample(pid)?.hwmKb ?? 0);
	await stop(child);
	const notes = stderr.text.split('\n').filter(l => l && !/listening on|logmon: alert |SIGTERM: \d+ events read, \d+ written$/.test(l)).slice(0, 3);
	return {rate: total / seconds, cpu, main, rss, notes};
}

/** The same lines offered at `rate` lines/s (10 ms steps): what logmon wrote, and its CPU as a share of one core. */
async function paced(configFile: string, data: string[][], rate: number): Promise<{written: number; seconds: number; cpuShare: number}> {
	const {child, port, stderr} = await startLogmon(configFile);
	const pid = child.pid!;
	const cpuBefore = cpuTicks(pid);
	const start = performance.now();
	await Promise.all(data.map(async ([topic, ...values]) => {
		const socket = await connect(port);
		await write(socket, Buffer.from(topic!));
		let next = 0;
		const perPublisher = rate / data.length;
		while (next < values.length) {
			await sleep(10);
			const due = Math.min(values.length, Math.floor(((performance.now() - start) / 1000) * perPublisher));
			if (due > next) {
				await write(socket, Buffer.from(values.slice(next, due).join('')));
				next = due;
			}
		}

		await new Promise(resolve => {
			socket.end(() => {
				resolve(undefined);
			});
		});
	}));
	const seconds = (performance.now() - start) / 1000;
	const cpu = (cpuTicks(pid) - cpuBefore) / 100;
	await sleep(500);
	await stop(child);
	const written = Number(/SIGTERM: \d+ events read, (\d+) written/.exec(stderr.text)?.[1] ?? Number.NaN);
	return {written, seconds, cpuShare: cpu / seconds};
}

/** Letters only, so the error fingerprint keeps them: probe 27 -> "bb". */
function word(n: number): string {
	let s = '';
	let v = n;
	do {
		s = String.fromCodePoint(97 + (v % 26)) + s;
		v = Math.floor(v / 26) - 1;
	} while (v >= 0);
	return s;
}

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/** The engine alone on `count` lines, in batches of 250 lines of one service, received at 100,000 lines/s: CPU ns per event. */
function engineAlone(lines: string[], plain: boolean, count = 200_000): number[] {
	const settings = alertsConfig.parse({rules: hundredRules(plain), sinks: {hook: {type: 'webhook', url: 'http://127.0.0.1:9/'}}});
	const rules = settings.rules.map(r => toRule(r, settings.defaults));
	const base = Date.now();
	const batches: LogEvent[][] = [];
	for (let i = 0; i < count; i += 250) {
		const receivedAt = base + Math.floor(i / 100);
		const service = `svc${(i / 250) % publishers}`;
		batches.push(lines.slice(i % lines.length, (i % lines.length) + 250).map((line, k) => ({seq: i + k, ...eventFromLine(line, {sourceId: 'logio', sourceKind: 'logio-listen', service, receivedAt})})));
	}

	const events = batches.reduce((n, b) => n + b.length, 0);
	const ns: number[] = [];
	for (let round = 0; round < 6; round++) {
		let now = base;
		const engine = new AlertEngine({rules, now: () => now, onNotice() {/* counted elsewhere */}});
		const before = process.cpuUsage();
		let ticked = base;
		for (const batch of batches) {
			now = batch[0]!.receivedAt;
			engine.observe(batch);
			if (now - ticked >= 1000) {
				engine.tick(now);
				ticked = now;
			}
		}

		const used = process.cpuUsage(before);
		if (round > 0) {
			ns.push(((used.user + used.system) * 1000) / events); // the first round warms the JIT
		}
	}

	return ns.sort((a, b) => a - b);
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function latency(hook: Hook, lines: string[], backgroundRate: number): Promise<void> {
	const {child, port} = await startLogmon(config(hook.port, true, true));
	// The background stream, paced in 10 ms steps by two publishers.
	let running = true;
	const background = [0, 1].map(async k => {
		const socket = await connect(port);
		await write(socket, Buffer.from(JSON.stringify({app: `svc${k}`, proc: 'web', host: 'bench'})));
		let i = 0;
		let credit = 0;
		let lastTick = performance.now();
		while (running) {
			await sleep(10);
			const now = performance.now();
			credit += ((now - lastTick) / 1000) * (backgroundRate / 2);
			lastTick = now;
			const parts: string[] = [];
			for (; credit >= 1; credit--) {
				parts.push(JSON.stringify({raw: lines[i++ % lines.length]! + '\n'}));
			}

			if (parts.length > 0) {
				await write(socket, Buffer.from(parts.join('')));
			}
		}

		socket.destroy();
	});
	const probe = await connect(port);
	await write(probe, Buffer.from(JSON.stringify({app: 'probe', proc: 'web', host: 'bench'})));
	await sleep(1000);
	const sent = new Map<string, number>();
	for (let n = 0; n < probes; n++) {
		const w = word(n + 1000);
		const line = (text: string) => Buffer.from(JSON.stringify({raw: `${text}\n`}));
		// A match: one line. A count: three lines, the third one completes the window.
		sent.set(`probe-match:PROBE-MATCH probe ${w}`, performance.now());
		await write(probe, line(`PROBE-MATCH probe ${w}`));
		await write(probe, Buffer.concat([line(`PROBE-COUNT probe ${w}`), line(`PROBE-COUNT probe ${w}`)]));
		await sleep(2);
		sent.set(`probe-count:PROBE-COUNT probe ${w}`, performance.now());
		await write(probe, line(`PROBE-COUNT probe ${w}`));
		await sleep(25);
	}

	for (let i = 0; i < 200 && hook.arrivals.size < sent.size; i++) {
		await sleep(50);
	}

	running = false;
	await Promise.all(background);
	probe.destroy();
	await stop(child);
	for (const rule of ['probe-match', 'probe-count']) {
		const ms: number[] = [];
		let missing = 0;
		for (const [key, at] of sent) {
			if (!key.startsWith(rule)) {
				continue;
			}

			const arrived = hook.arrivals.get(key);
			if (arrived === undefined) {
				missing++;
			} else {
				ms.push(arrived - at);
			}
		}

		console.log(`  ${rule.slice('probe-'.length)}: p50 ${percentile(ms, 0.5).toFixed(1)} ms, p99 ${percentile(ms, 0.99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms over ${ms.length} alerts${missing > 0 ? `, ${missing} never arrived` : ''} (goal p99 < 1000 ms)`);
	}
}

export async function run(): Promise<void> {
	const lines = corpusLines();
	const hook = new Hook();
	await hook.listen();
	const values = encoded(lines);
	const data = values.map(v => Buffer.from(v.join('')));
	const without = config(hook.port, false, false);
	const withRules = config(hook.port, true, false);
	const plainRules = config(hook.port, 'plain', false);
	console.log(`${total.toLocaleString('en')} lines from ${publishers} logio publishers (${publishers} services), pipe mode, stdout to /dev/null`);
	let best = 0;
	const runs: Array<Array<{rate: number; cpu: number}>> = [[], [], []];
	const keptByCpu: number[][] = [[], []];
	const keptByMain: number[][] = [[], []];
	for (let round = 1; round <= rounds; round++) {
		const a = await throughput(without, data);
		const b = await throughput(withRules, data);
		const c = await throughput(plainRules, data);
		for (const [i, r] of [a, b, c].entries()) {
			runs[i]!.push(r);
		}

		best = Math.max(best, b.rate);
		keptByCpu[0]!.push(a.cpu / b.cpu);
		keptByCpu[1]!.push(a.cpu / c.cpu);
		keptByMain[0]!.push(a.main / b.main);
		keptByMain[1]!.push(a.main / c.main);
		const kept = (x: {rate: number; cpu: number; main: number}): string => `${((x.rate / a.rate) * 100).toFixed(0)}% kept, ${((a.cpu / x.cpu) * 100).toFixed(0)}% by CPU, ${((a.main / x.main) * 100).toFixed(0)}% by main thread CPU`;
		const cpu = (x: {cpu: number; main: number; rss: string}): string => `CPU ${x.cpu.toFixed(2)} s, main thread ${x.main.toFixed(2)} s, peak RSS ${x.rss}`;
		console.log(`  round ${round}: no rules ${Math.round(a.rate).toLocaleString('en')} lines/s (${cpu(a)})`);
		console.log(`    100 rules ${Math.round(b.rate).toLocaleString('en')} lines/s (${cpu(b)}): ${kept(b)} (goal >= 80%)`);
		console.log(`    100 rules, level and service whens only (no regex) ${Math.round(c.rate).toLocaleString('en')} lines/s (${cpu(c)}): ${kept(c)}`);
		for (const n of [...a.notes, ...b.notes, ...c.notes]) {
			console.log(`    stderr: ${n}`);
		}
	}

	const [none, rules, plain] = runs.map(r => ({rate: median(r.map(x => x.rate)), cpu: median(r.map(x => x.cpu))}));
	const share = (x: {rate: number}): string => `${((x.rate / none!.rate) * 100).toFixed(0)}%`;
	const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
	console.log(`  medians: no rules ${Math.round(none!.rate).toLocaleString('en')} lines/s (CPU ${none!.cpu.toFixed(2)} s); 100 rules ${Math.round(rules!.rate).toLocaleString('en')} lines/s (CPU ${rules!.cpu.toFixed(2)} s), ${share(rules!)} kept; no-text mix ${Math.round(plain!.rate).toLocaleString('en')} lines/s (CPU ${plain!.cpu.toFixed(2)} s), ${share(plain!)} kept`);
	console.log(`  kept by CPU per line, median of the rounds' ratios: 100 rules ${pct(median(keptByCpu[0]!))}, no-text mix ${pct(median(keptByCpu[1]!))}; by main thread CPU: ${pct(median(keptByMain[0]!))}, ${pct(median(keptByMain[1]!))}`);
	console.log(`  webhook bodies received: ${hook.bodies}`);
	const perLine = (none!.cpu / total) * 1e9;
	console.log(`the engine alone, in this process (logmon without rules: ${perLine.toFixed(0)} ns of CPU per line, from the medians):`);
	for (const [label, plainMix] of [['100 rules', false], ['100 rules, no-text mix', true]] as const) {
		const ns = engineAlone(lines, plainMix);
		console.log(`  ${label}: min ${ns[0]!.toFixed(0)} ns, median ${median(ns).toFixed(0)} ns of CPU per event (${((median(ns) / perLine) * 100).toFixed(0)}% of a line's cost without rules)`);
	}

	const offered = 100_000;
	console.log(`the same lines offered at ${offered.toLocaleString('en')} lines/s:`);
	for (const [label, file] of [['no rules', without], ['100 rules', withRules]] as const) {
		const r = await paced(file, values, offered);
		console.log(`  ${label}: ${r.written.toLocaleString('en')} of ${total.toLocaleString('en')} lines written in ${r.seconds.toFixed(1)} s, CPU ${(r.cpuShare * 100).toFixed(0)}% of one core`);
	}

	const backgroundRate = Math.min(100_000, Math.round(best * 0.7));
	console.log(`alert latency, 100 rules + 2 probe rules, background ${backgroundRate.toLocaleString('en')} lines/s:`);
	await latency(hook, lines, backgroundRate);
	hook.server.close();
	hook.server.closeAllConnections();
	rmSync(dir, {recursive: true, force: true});
}
