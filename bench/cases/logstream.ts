// logstream throughput: the test server sends `line` messages as fast as the socket
// takes them, first into `logmon --no-ui -o text --logstream … > /dev/null`, then into
// a bare ws client that only JSON-parses each message and writes its text to /dev/null.
// Time runs from the first line sent to the client's pong to a ping sent after the last
// line, so both are measured the same way: every message read and handled.
import {type ChildProcess, spawn} from 'node:child_process';
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {sampleLine} from '../../source/testing/logstream-samples.js';
import {LogstreamTestServer} from '../../source/testing/logstream-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const count = Number(process.env['BENCH_LOGSTREAM_LINES'] ?? 300_000);
/** Rounds alternate logmon and the bare client, so load from elsewhere on the machine hits both alike. */
const rounds = Number(process.env['BENCH_LOGSTREAM_ROUNDS'] ?? 3);
const goal = 0.7;

// The peer: the least a client can do with the same protocol.
const bareClient = `
import WebSocket from 'ws';
const [url, auth] = process.argv.slice(-2);
const ws = new WebSocket(url);
let out = [];
let queued = false;
let authed = false;
const flush = () => { queued = false; process.stdout.write(out.join('')); out = []; };
ws.on('message', data => {
	const m = JSON.parse(data.toString());
	if (m.cmd === 'line') {
		out.push(m.text + '\\n');
		if (!queued) { queued = true; setImmediate(flush); }
	} else if (m.cmd === 'connected' && !authed) {
		authed = true;
		ws.send(JSON.stringify({cmd: 'stream-environment', ...JSON.parse(auth)}));
	} else if (m.cmd === 'available') {
		ws.send(JSON.stringify({cmd: 'enable', type: m.type, server: m.server}));
	}
});
`;

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) {
			throw new Error(`bench: timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

/** CPU seconds (user + system) a process has used so far; Linux only, else NaN. */
function cpuSeconds(pid: number | undefined): number {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
	} catch {
		return Number.NaN;
	}
}

type Measured = {rate: number; perCpuSecond: number; stderr: string};

async function measure(server: LogstreamTestServer, command: string[], label: string): Promise<Measured> {
	const devNull = openSync('/dev/null', 'w');
	const child: ChildProcess = spawn(process.execPath, command, {cwd: root, stdio: ['ignore', devNull, 'pipe'], env: {...process.env, NODE_ENV: 'production'}});
	closeSync(devNull);
	let stderr = '';
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
	});
	const exited = new Promise<void>(resolve => child.once('close', () => resolve()));
	try {
		await until(() => server.liveClients.length === 1 && server.liveClients[0]!.enabled.size === 1, `${label} to connect and enable`);
		const cpuBefore = cpuSeconds(child.pid);
		const {ms} = await server.flood(count);
		const cpu = cpuSeconds(child.pid) - cpuBefore;
		return {rate: count / (ms / 1000), perCpuSecond: count / cpu, stderr};
	} finally {
		child.kill('SIGTERM');
		await exited;
		await until(() => server.liveClients.length === 0, `${label} to disconnect`);
	}
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmt(rate: number): string {
	return Math.round(rate).toLocaleString('en');
}

export async function run(): Promise<void> {
	const server = await LogstreamTestServer.start({backends: [{name: 'web-1', types: ['apache-request']}]});
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-'));
	try {
		const config = path.join(dir, 'config.json');
		writeFileSync(config, JSON.stringify({sources: [{type: 'logstream', url: server.url, auth: server.auth()}]}));
		console.log(`lines: ${count.toLocaleString('en')} per run (apache-request, ${server.lineFrame({server: 'web-1', type: 'apache-request', ...sampleLine('apache-request', 'web-1', 0)}).length} bytes per frame), ${rounds} rounds`);
		const logmonRates: number[] = [];
		const bareRates: number[] = [];
		const logmonCpu: number[] = [];
		const bareCpu: number[] = [];
		let dropped = 0;
		for (let r = 1; r <= rounds; r++) {
			const logmon = await measure(server, [path.join(root, 'bin', 'logmon.js'), '--no-ui', '-o', 'text', '--logstream', server.url, '--config', config, '-t', 'apache-request'], 'logmon');
			const bare = await measure(server, ['--input-type=module', '-e', bareClient, server.url, JSON.stringify(server.auth())], 'the bare client');
			dropped += Number(/(\d+) events dropped/.exec(logmon.stderr)?.[1] ?? 0);
			logmonRates.push(logmon.rate);
			bareRates.push(bare.rate);
			logmonCpu.push(logmon.perCpuSecond);
			bareCpu.push(bare.perCpuSecond);
			console.log(`  round ${r}: logmon ${fmt(logmon.rate)} msgs/s (${fmt(logmon.perCpuSecond)} per CPU s), bare ${fmt(bare.rate)} msgs/s (${fmt(bare.perCpuSecond)} per CPU s), ratio ${(logmon.rate / bare.rate).toFixed(2)}x`);
		}

		const logmon = median(logmonRates);
		const bare = median(bareRates);
		const ratio = logmon / bare;
		console.log(`logmon --no-ui -o text:  ${fmt(logmon)} msgs/s (median; events dropped: ${dropped})`);
		console.log(`bare ws client:          ${fmt(bare)} msgs/s (median)`);
		console.log(`ratio: ${ratio.toFixed(2)}x (goal >= ${goal}x) ${ratio >= goal ? 'ok' : 'BELOW GOAL'}`);
		// Wall-clock rates swing with whatever else the machine runs; CPU cost per message does not.
		console.log(`messages per CPU second: logmon ${fmt(median(logmonCpu))}, bare ${fmt(median(bareCpu))}, ratio ${(median(logmonCpu) / median(bareCpu)).toFixed(2)}x`);
	} finally {
		await server.stop();
		rmSync(dir, {recursive: true, force: true});
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	await run();
}
