import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {bin, corpusFile, cpuTicks, mb, rate, root, sample} from '../support/measure.js';

// Following files.
//
//   1. `logmon --no-ui -o text FILE` against `tail -F FILE`, both following the same file while
//      another process (cat) appends 500,000 real log lines to it at full speed. Each follower's
//      rate is the lines it printed over the time from the writer's start to its last line.
//      Goal: logmon at least 0.5× tail. As a yardstick, the same rounds also run
//      bench/support/bare-follow.mjs against tail -F: the least a Node.js follower does (cut the
//      bytes into lines as strings and write them back, nothing else), to tell what logmon's work on
//      each line costs from what reading lines in Node.js costs on this machine.
//   2. The CPU of an idle follow of 1,000 files (a glob, and the same files named one by one),
//      over 30 s once they are all followed. Goal: under 1% of a core.

const env = {...process.env, NODE_ENV: 'production', XDG_CONFIG_HOME: '/nonexistent'};

type Follower = {name: string; child: ChildProcess; lines: number; lastAt: number; hwmKb: number};

function followWith(name: string, command: string, args: string[]): Follower {
	const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'inherit'], env});
	const f: Follower = {name, child, lines: 0, lastAt: 0, hwmKb: 0};
	child.stdout!.on('data', (d: Buffer) => {
		let at = d.indexOf(0x0A);
		while (at !== -1) {
			f.lines++;
			at = d.indexOf(0x0A, at + 1);
		}

		f.lastAt = performance.now();
	});
	return f;
}

async function until(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 5)); // eslint-disable-line no-await-in-loop
	}
}

async function stop(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null) {
		return;
	}

	const closed = new Promise(resolve => child.once('close', resolve));
	child.kill('SIGTERM');
	await closed;
}

type Who = 'logmon' | 'bare Node.js';

type Round = {ratio: number; usPerLine: number};

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function throughput(round: number, who: Who): Promise<Round> {
	const lines = 500_000;
	const source = corpusFile(lines);
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-files-'));
	const file = path.join(dir, 'app.log');
	writeFileSync(file, '');
	const followers = [
		followWith('tail -F', 'tail', ['-n', '0', '-F', file]),
		who === 'logmon'
			? followWith('logmon', process.execPath, [bin, '--no-ui', '-o', 'text', file])
			: followWith('bare Node.js', process.execPath, [path.join(root, 'bench', 'support', 'bare-follow.mjs'), file]),
	];
	const peaks = setInterval(() => {
		for (const f of followers) {
			f.hwmKb = Math.max(f.hwmKb, sample(f.child.pid!)?.hwmKb ?? 0);
		}
	}, 50);
	// Both are following once a probe line has come out of each.
	await until(() => {
		appendFileSync(file, 'probe\n');
		return followers.every(f => f.lines > 0);
	}, 'both followers to start');
	await new Promise(resolve => setTimeout(resolve, 200));
	for (const f of followers) {
		f.lines = 0;
	}

	const ticksBefore = cpuTicks(followers[1]!.child.pid!);
	const started = performance.now();
	const writer = spawnSync('sh', ['-c', `cat "${source}" >> "${file}"`]);
	const writerMs = performance.now() - started;
	if (writer.status !== 0) {
		throw new Error(`the writer failed: ${writer.stderr.toString()}`);
	}

	await until(() => followers.every(f => f.lines >= lines), 'every line to come out');
	clearInterval(peaks);
	const cpu = (cpuTicks(followers[1]!.child.pid!) - ticksBefore) / 100;
	const [tail, other] = followers.map(f => ({f, ms: f.lastAt - started}));
	console.log(`  round ${round}: writer ${rate(lines, writerMs)}  ${tail!.f.name} ${rate(lines, tail!.ms)}  ${who} ${rate(lines, other!.ms)} (ratio to tail ${(tail!.ms / other!.ms).toFixed(3)}, peak RSS ${mb(other!.f.hwmKb)}, CPU ${cpu.toFixed(2)} s, ${(1e6 * cpu / lines).toFixed(2)} µs a line)`);
	await Promise.all(followers.map(async f => stop(f.child)));
	rmSync(dir, {recursive: true, force: true});
	return {ratio: tail!.ms / other!.ms, usPerLine: 1e6 * cpu / lines};
}

async function idle(named: boolean): Promise<void> {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-idle-'));
	const files: string[] = [];
	for (let i = 0; i < 1000; i++) {
		const file = path.join(dir, `svc-${String(i).padStart(4, '0')}.log`);
		writeFileSync(file, 'an old line\n');
		files.push(file);
	}

	mkdirSync(path.join(dir, 'empty'));
	const args = named ? files : [path.join(dir, '*.log')];
	const f = followWith('logmon', process.execPath, [bin, '--no-ui', '-o', 'text', ...args]);
	// Followed once a line appended to the last file comes out.
	await until(() => {
		appendFileSync(files.at(-1)!, 'probe\n');
		return f.lines > 0;
	}, 'the 1,000 files to be followed');
	await new Promise(resolve => setTimeout(resolve, 3000));
	const seconds = 30;
	const before = cpuTicks(f.child.pid!);
	await new Promise(resolve => setTimeout(resolve, seconds * 1000));
	const used = (cpuTicks(f.child.pid!) - before) / 100;
	console.log(`  1,000 idle files, ${named ? 'named one by one' : 'one glob'}: ${(100 * used / seconds).toFixed(2)}% of a core over ${seconds} s (RSS ${mb(sample(f.child.pid!)?.rssKb ?? 0)})`);
	await stop(f.child);
	rmSync(dir, {recursive: true, force: true});
}

export async function run(): Promise<void> {
	// LOGMON_BENCH_FILES=throughput skips the idle part (a minute); LOGMON_BENCH_ROUNDS sets the rounds (2).
	const rounds = Number(process.env['LOGMON_BENCH_ROUNDS'] ?? 2);
	console.log(`logmon following a file another process appends to at full speed, against tail -F (500,000 lines, ${rounds} rounds)`);
	const logmon: Round[] = [];
	const bare: Round[] = [];
	for (let round = 1; round <= rounds; round++) {
		logmon.push(await throughput(round, 'logmon')); // eslint-disable-line no-await-in-loop
		bare.push(await throughput(round, 'bare Node.js')); // eslint-disable-line no-await-in-loop
	}

	// tail's own rate varies from round to round with what else runs: the medians, and logmon's CPU a
	// line against the bare follower's, which does not depend on tail.
	const cpu = median(logmon.map(r => r.usPerLine));
	const bareCpu = median(bare.map(r => r.usPerLine));
	console.log(`  medians: logmon ${median(logmon.map(r => r.ratio)).toFixed(3)} of tail's rate (goal 0.5), bare Node.js ${median(bare.map(r => r.ratio)).toFixed(3)}; CPU a line ${cpu.toFixed(2)} µs against ${bareCpu.toFixed(2)} µs (${(cpu / bareCpu).toFixed(1)}x)`);

	if (process.env['LOGMON_BENCH_FILES'] === 'throughput') {
		return;
	}

	console.log('idle follow');
	await idle(false);
	await idle(true);
}
