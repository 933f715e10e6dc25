// The terminal UI under load: logmon runs in a real pty (util-linux `script`)
// at 200x50 and reads JSON lines from a FIFO at 20,000 and then 100,000
// events/s. Everything is measured from outside, on the bytes the terminal
// receives and on /proc:
//   frames/s          synchronized-output frame starts (ESC[?2026h) written
//   terminal bytes/s  bytes the pty carried
//   tail lag          each line carries its send time (t=<ms>); when a frame
//                     shows a newer line, lag = now - that line's send time
//   key latency       '?' sent to the pty until the help overlay is on screen
//   CPU, RSS          /proc/<pid>/stat and /proc/<pid>/status of logmon
// BENCH_UI_SECONDS shortens each phase (default 30).
import {type ChildProcess, spawn} from 'node:child_process';
import {createWriteStream, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {execFileSync} from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {descendants} from '../../test/support/tmux.js';
import {cpuTicks, rssKb} from '../support/measure.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const columns = 200;
const rows = 50;
const clockTicks = 100; // USER_HZ on Linux

type Phase = {rate: number; seconds: number};

type PhaseResult = {
	rate: number;
	seconds: number;
	sentPerSecond: number;
	framesPerSecond: number;
	bytesPerSecond: number;
	cpuPercent: number;
	lagP50: number;
	lagP99: number;
	lagSamples: number;
	keyP99: number;
	keySamples: number;
	rssStartMb: number;
	rssEndMb: number;
	/** RSS about every 1.5 s during the phase, MB. */
	rssSeries: number[];
	statusRate: string;
};


function findLogmon(scriptPid: number): number | undefined {
	for (const pid of descendants(scriptPid)) {
		try {
			const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
			if (cmdline === 'logmon' || cmdline.includes('bin/logmon.js')) {
				return pid;
			}
		} catch {
			// Gone meanwhile.
		}
	}

	return undefined;
}



function percentile(values: number[], p: number): number {
	if (values.length === 0) {
		return Number.NaN;
	}

	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/** Watches what the terminal receives. */
class Screen {
	bytes = 0;
	frames = 0;
	newestShown = 0;
	lags: number[] = [];
	statusRate = '';
	private carry = '';
	private waiters: Array<{text: string; resolve: () => void}> = [];

	constructor(child: ChildProcess) {
		child.stdout!.on('data', (chunk: Buffer) => {
			this.onData(chunk.toString('latin1'));
			this.bytes += chunk.length;
		});
	}

	private onData(text: string): void {
		const now = Date.now();
		const all = this.carry + text;
		this.carry = all.slice(-64);
		// A marker split across two chunks is missed; one frame in thousands.
		for (let i = text.indexOf('\u001B[?2026h'); i >= 0; i = text.indexOf('\u001B[?2026h', i + 1)) {
			this.frames++;
		}

		let newest = 0;
		for (const m of text.matchAll(/t=(\d{13})/g)) {
			newest = Math.max(newest, Number(m[1]));
		}

		if (newest > this.newestShown) {
			this.newestShown = newest;
			this.lags.push(now - newest);
		}

		const rate = /([\d.]+k?) ev\/s/.exec(text);
		if (rate) {
			this.statusRate = rate[1]!;
		}

		for (const w of [...this.waiters]) {
			if (all.includes(w.text)) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				w.resolve();
			}
		}
	}

	async waitFor(text: string, timeoutMs = 10_000): Promise<boolean> {
		return Promise.race([
			new Promise<boolean>(resolve => {
				this.waiters.push({text, resolve: () => resolve(true)});
			}),
			sleep(timeoutMs).then(() => false),
		]);
	}
}

/** Writes JSON lines at `rate` per second; each carries its send time. */
class Feeder {
	sent = 0;
	private timer: NodeJS.Timeout | undefined;
	private blocked = false;
	private readonly services = ['api', 'web', 'worker', 'billing', 'search', 'auth', 'cron', 'mailer'];
	private readonly hosts = ['web-1', 'web-2', 'web-3', 'job-1'];

	constructor(private readonly out: NodeJS.WritableStream) {}

	start(rate: number): void {
		const started = Date.now();
		const startCount = this.sent;
		this.timer = setInterval(() => {
			if (this.blocked) {
				return;
			}

			const due = Math.floor(((Date.now() - started) / 1000) * rate) - (this.sent - startCount);
			if (due <= 0) {
				return;
			}

			const t = Date.now();
			let chunk = '';
			for (let i = 0; i < due; i++) {
				const n = this.sent + i;
				const error = n % 97 === 0;
				const service = this.services[n % this.services.length]!;
				const host = this.hosts[n % this.hosts.length]!;
				const message = error
					? `upstream timeout after ${n % 900} ms calling ${service}-db t=${t}`
					: `GET /api/v1/items/${n % 5000} 200 in ${n % 300} ms t=${t}`;
				chunk += `{"ts":${t},"level":"${error ? 'error' : 'info'}","service":"${service}","host":"${host}","msg":"${message}"}\n`;
			}

			this.sent += due;
			if (!this.out.write(chunk)) {
				this.blocked = true;
				this.out.once('drain', () => {
					this.blocked = false;
				});
			}
		}, 10);
	}

	stop(): void {
		clearInterval(this.timer);
	}
}

async function measurePhase(phase: Phase, pid: number, screen: Screen, feeder: Feeder, keys: NodeJS.WritableStream): Promise<PhaseResult> {
	const rssStart = rssKb(pid) / 1024;
	const cpu0 = cpuTicks(pid);
	const bytes0 = screen.bytes;
	const frames0 = screen.frames;
	const sent0 = feeder.sent;
	const lags0 = screen.lags.length;
	const t0 = Date.now();
	feeder.start(phase.rate);
	const keyLatencies: number[] = [];
	const rssSeries: number[] = [];
	await sleep(2000); // let it settle before pressing keys
	while (Date.now() - t0 < (phase.seconds * 1000) - 2500) {
		rssSeries.push(Math.round(rssKb(pid) / 1024));
		const k0 = Date.now();
		keys.write('?');
		if (await screen.waitFor('show or hide this help', 5000)) {
			keyLatencies.push(Date.now() - k0);
		}

		await sleep(200);
		keys.write('?');
		await screen.waitFor(' Tail ', 5000);
		await sleep(1000);
	}

	const remaining = (phase.seconds * 1000) - (Date.now() - t0);
	if (remaining > 0) {
		await sleep(remaining);
	}

	feeder.stop();
	const elapsed = (Date.now() - t0) / 1000;
	const lags = screen.lags.slice(lags0);
	return {
		rate: phase.rate,
		seconds: elapsed,
		sentPerSecond: (feeder.sent - sent0) / elapsed,
		framesPerSecond: (screen.frames - frames0) / elapsed,
		bytesPerSecond: (screen.bytes - bytes0) / elapsed,
		cpuPercent: ((cpuTicks(pid) - cpu0) / clockTicks / elapsed) * 100,
		lagP50: percentile(lags, 50),
		lagP99: percentile(lags, 99),
		lagSamples: lags.length,
		keyP99: percentile(keyLatencies, 99),
		keySamples: keyLatencies.length,
		rssStartMb: rssStart,
		rssEndMb: rssKb(pid) / 1024,
		rssSeries,
		statusRate: screen.statusRate,
	};
}

export async function run(): Promise<void> {
	const seconds = Number(process.env['BENCH_UI_SECONDS'] ?? 30);
	const phases: Phase[] = [{rate: 20_000, seconds}, {rate: 100_000, seconds}];
	const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-bench-ui-'));
	const fifo = path.join(dir, 'in');
	execFileSync('mkfifo', [fifo]);
	const env: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color', XDG_CONFIG_HOME: path.join(root, 'test', 'fixtures', 'no-config')};
	delete env['CI'];
	const inner = `stty cols ${columns} rows ${rows}; exec node bin/logmon.js --stdin < '${fifo}'`;
	const child = spawn('script', ['-qfec', inner, '/dev/null'], {cwd: root, env, stdio: ['pipe', 'pipe', 'inherit']});
	const screen = new Screen(child);
	const feed = createWriteStream(fifo);
	feed.on('error', () => {
		// EPIPE once logmon has quit: the reader is gone.
	});
	const feeder = new Feeder(feed);
	try {
		let pid: number | undefined;
		for (let i = 0; i < 100 && !pid; i++) {
			await sleep(100);
			pid = findLogmon(child.pid!);
		}

		if (!pid) {
			throw new Error('logmon did not start in the pty');
		}

		await screen.waitFor('Services', 15_000);
		await sleep(1000);
		const rssIdle = rssKb(pid) / 1024;
		const cpuIdle0 = cpuTicks(pid);
		const bytesIdle0 = screen.bytes;
		await sleep(3000);
		const idleCpu = ((cpuTicks(pid) - cpuIdle0) / clockTicks / 3) * 100;
		const idleBytes = (screen.bytes - bytesIdle0) / 3;
		console.log(`idle (no events): RSS ${rssIdle.toFixed(1)} MB, CPU ${idleCpu.toFixed(1)} %, terminal ${idleBytes.toFixed(0)} B/s`);

		const results: PhaseResult[] = [];
		for (const phase of phases) {
			const r = await measurePhase(phase, pid, screen, feeder, child.stdin!);
			results.push(r);
			console.log([
				`${(r.rate / 1000).toFixed(0)}k events/s for ${r.seconds.toFixed(0)} s (fed ${Math.round(r.sentPerSecond).toLocaleString('en')}/s; status bar said ${r.statusRate} ev/s)`,
				`  frames/s          ${r.framesPerSecond.toFixed(1)}`,
				`  logmon CPU        ${r.cpuPercent.toFixed(0)} % of one core`,
				`  terminal output   ${(r.bytesPerSecond / 1000).toFixed(1)} KB/s`,
				`  tail lag          p50 ${r.lagP50} ms, p99 ${r.lagP99} ms (${r.lagSamples} samples)`,
				`  key to frame      p99 ${r.keyP99} ms (${r.keySamples} presses)`,
				`  RSS               ${r.rssStartMb.toFixed(1)} MB -> ${r.rssEndMb.toFixed(1)} MB (every ~1.5 s: ${r.rssSeries.join(' ')})`,
			].join('\n'));
		}

		child.stdin!.write('q');
		await Promise.race([new Promise(resolve => child.once('exit', resolve)), sleep(5000)]);
		console.log(JSON.stringify({columns, rows, idle: {rssMb: rssIdle, cpuPercent: idleCpu, bytesPerSecond: idleBytes}, phases: results}));
	} finally {
		feeder.stop();
		feed.destroy();
		if (child.exitCode === null) {
			child.kill('SIGTERM');
		}

		rmSync(dir, {recursive: true, force: true});
	}
}
