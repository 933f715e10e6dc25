// Docker source throughput against a real engine (test/support/dockerd.ts: Debian's dockerd in a
// temporary directory, the busybox image imported from the local binary). One container prints
// 500,000 lines of 100 bytes as fast as it can; `logmon --docker --no-ui -o raw` and
// `docker logs -f` follow it in the same run, each reading from its first line, and each is timed
// to its last line. Then what it printed is read back whole by each (`--since 1h`, one after the
// other): the rate of reading alone, without the container as the limit.
// Reports lines/s for both and logmon's CPU. `npm run bench -- docker` runs only this case.
import {type ChildProcess, spawn} from 'node:child_process';
import {Dockerd, dockerdBinary, image} from '../../test/support/dockerd.js';
import {bin, sample} from '../support/measure.js';

const total = Number(process.env["LOGMON_BENCH_DOCKER_LINES"] ?? 500_000);
const payload = 'x'.repeat(93);

type Counter = {child: ChildProcess; lines: number; firstAt: number | undefined; doneAt: number | undefined; done: Promise<void>};

/** Count the lines a process writes on stdout (and stderr, for the CLI), until `total`. */
function count(child: ChildProcess, streams: Array<NodeJS.ReadableStream | null>): Counter {
	const counter: Counter = {child, lines: 0, firstAt: undefined, doneAt: undefined, done: Promise.resolve()};
	counter.done = new Promise(resolve => {
		for (const stream of streams) {
			stream?.on('data', (d: Buffer) => {
				counter.firstAt ??= performance.now();
				for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) {
					counter.lines++;
				}

				if (counter.lines >= total && counter.doneAt === undefined) {
					counter.doneAt = performance.now();
					resolve();
				}
			});
		}

		child.once('close', () => resolve());
	});
	return counter;
}

function logmon(engine: Dockerd, args: string[]): Counter {
	const child = spawn(process.execPath, [bin, '--docker', engine.host, '--no-ui', '--no-history', '-o', 'raw', ...args], {stdio: ['ignore', 'pipe', 'inherit']});
	return count(child, [child.stdout]);
}

function cli(engine: Dockerd, args: string[]): Counter {
	const child = spawn('docker', ['-H', engine.host, 'logs', ...args], {stdio: ['ignore', 'pipe', 'pipe']});
	return count(child, [child.stdout, child.stderr]);
}

/** CPU seconds between two samples (100 ticks a second). */
function cpu(before: ReturnType<typeof sample>, after: ReturnType<typeof sample>): string {
	return `${(((after?.cpuTicks ?? 0) - (before?.cpuTicks ?? 0)) / 100).toFixed(2)} s`;
}

function rate(lines: number, ms: number): string {
	return `${Math.round(lines / (ms / 1000)).toLocaleString('en-US')} lines/s`;
}

async function waitLive(m: Counter, engine: Dockerd): Promise<void> {
	// logmon is watching once the container list was read: a probe container's line shows it.
	engine.run('probe', 'echo probe');
	for (let i = 0; i < 400 && m.lines === 0; i++) {
		await new Promise(resolve => setTimeout(resolve, 25));
	}

	engine.docker(['rm', '-f', 'probe']);
	m.lines = 0;
}

export async function run(): Promise<void> {
	const binary = dockerdBinary();
	if (!binary) {
		console.log('skipped: no Docker engine');
		return;
	}

	const engine = new Dockerd(binary);
	try {
		await engine.start();
		engine.importImage();
		// It stays up after printing: logmon follows running containers, and the read-back needs one.
		const script = `yes '${payload}' | head -n ${total}; sleep 3600`;

		// Live: both follow the container while it prints.
		const live = logmon(engine, []);
		await waitLive(live, engine);
		const before = sample(live.child.pid!);
		const id = engine.docker(['create', '--name', 'flood', '--network', 'none', image, 'sh', '-c', script]);
		const started = performance.now();
		engine.docker(['start', id]);
		const follow = cli(engine, ['-f', id]);
		await Promise.all([live.done, follow.done]);
		const after = sample(live.child.pid!);
		live.child.kill('SIGKILL');
		follow.child.kill('SIGKILL');
		console.log(`live, ${total.toLocaleString('en-US')} lines of 100 bytes, timed from the container's start to each reader's last line:`);
		console.log(`  logmon --docker      ${live.lines.toLocaleString('en-US')} lines, ${rate(live.lines, (live.doneAt ?? performance.now()) - started)}, CPU ${cpu(before, after)}`);
		const liveMs = (live.doneAt ?? performance.now()) - started;
		const followMs = (follow.doneAt ?? performance.now()) - started;
		console.log(`  docker logs -f       ${follow.lines.toLocaleString('en-US')} lines, ${rate(follow.lines, followMs)}`);
		console.log(`  ratio logmon / docker logs: ${(followMs / liveMs).toFixed(2)}×`);

		// Read back: the whole log at once, the reader as the only limit.
		const t0 = performance.now();
		const backCli = cli(engine, ['-f', '--since', '1h', id]);
		await backCli.done;
		const cliMs = (backCli.doneAt ?? performance.now()) - t0;
		const t1 = performance.now();
		const back = logmon(engine, ['--since', '1h']);
		const start = sample(back.child.pid!);
		await back.done;
		const logmonMs = (back.doneAt ?? performance.now()) - t1;
		const end = sample(back.child.pid!);
		back.child.kill('SIGKILL');
		backCli.child.kill('SIGKILL');
		console.log('read back, the lines already printed:');
		const fromFirst = (back.doneAt ?? performance.now()) - (back.firstAt ?? t1);
		console.log(`  logmon --docker --since 1h  ${back.lines.toLocaleString('en-US')} lines, ${rate(back.lines, logmonMs)} from its start, ${rate(back.lines, fromFirst)} from its first line, CPU ${cpu(start, end)}, peak RSS ${Math.round((end?.hwmKb ?? 0) / 1024)} MB`);
		console.log(`  docker logs -f              ${backCli.lines.toLocaleString('en-US')} lines, ${rate(backCli.lines, cliMs)}`);
		console.log(`  ratio logmon / docker logs: ${(cliMs / logmonMs).toFixed(2)}×`);
	} finally {
		await engine.destroy();
	}
}
