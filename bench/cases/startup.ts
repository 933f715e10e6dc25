import {type ChildProcess, spawn} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {shellQuote} from '../../test/support/tmux.js';
import {buildExecutable, packAndInstall} from '../../test/support/install.js';
import {bin, corpusDir, root} from '../support/measure.js';

// Start-up of each way people run logmon, side by side in one run:
//   clone       node bin/logmon.js, the clone's build
//   package     the npm package, packed and installed from its tarball (`npm install -g` into a
//               temporary prefix): its bin, through `#!/usr/bin/env node`
//   clone, 24   the clone's build on Node 24 (.cache/node24), the Node inside the executable
//   executable  the single executable (npm run build:exe), run with env -i
// Two times, in rounds whose order rotates, so the machine's load falls on all alike:
//   pipe        `echo x | logmon -o raw`: from spawn to the first byte on stdout
//   UI          `logmon --stdin < file` in a pty (util-linux script, 120x40): from spawn to the
//               first frame (its synchronized-output start, ESC[?2026h). script and sh start
//               first, the same for all.
// BENCH_STARTUP_ROUNDS sets the rounds (default 20). Medians count; the rest is noise.

type Way = {name: string; command: string; args: string[]; env: NodeJS.ProcessEnv};

const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/** ms from spawn until `seen` says the output has what counts; the process is then killed. */
async function until(child: ChildProcess, seen: (text: string) => boolean, what: string, timeoutMs = 20_000): Promise<number> {
	const started = process.hrtime.bigint();
	let text = '';
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`no ${what} in ${timeoutMs} ms; saw: ${JSON.stringify(text.slice(-500))}`));
		}, timeoutMs);
		child.stdout!.on('data', (d: Buffer) => {
			text += d.toString('latin1');
			if (seen(text)) {
				clearTimeout(timer);
				resolve(Number(process.hrtime.bigint() - started) / 1e6);
				child.stdout!.removeAllListeners('data');
				child.stdout!.resume();
			}
		});
	});
}

async function ended(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) {
		return;
	}

	await new Promise(resolve => child.once('close', resolve));
}

async function pipeFirstByte(way: Way): Promise<number> {
	const child = spawn(way.command, [...way.args, '-o', 'raw'], {env: way.env, stdio: ['pipe', 'pipe', 'ignore']});
	child.stdin!.end('x\n');
	const ms = await until(child, text => text.length > 0, 'output');
	await ended(child);
	return ms;
}

async function uiFirstFrame(way: Way, input: string): Promise<number> {
	const command = [way.command, ...way.args].map(a => shellQuote(a)).join(' ');
	const env = Object.entries(way.env).map(([k, v]) => `${k}=${shellQuote(v ?? '')}`).join(' ');
	const inner = `stty cols 120 rows 40; exec env -i ${env} TERM=xterm-256color ${command} --stdin < ${shellQuote(input)}`;
	const child = spawn('script', ['-qfec', inner, '/dev/null'], {stdio: ['pipe', 'pipe', 'ignore']});
	const ms = await until(child, text => text.includes('\u001B[?2026h'), 'UI frame');
	child.kill('SIGTERM');
	child.stdin!.end();
	await ended(child);
	return ms;
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function quantile(values: number[], q: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function run(): Promise<void> {
	const rounds = Number(process.env['BENCH_STARTUP_ROUNDS'] ?? 20);
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-startup-'));
	try {
		const home = path.join(dir, 'home');
		mkdirSync(home);
		const installed = packAndInstall(path.join(dir, 'package'));
		const executable = buildExecutable();
		const nodeDir = path.dirname(process.execPath);
		// The executable runs Node 24: the clone on Node 24 too tells its packaging from its Node.
		const node24 = path.join(root, '.cache', 'node24', 'node_modules', 'node', 'bin', 'node');
		const ways: Way[] = [
			{name: 'clone', command: process.execPath, args: [bin], env: {HOME: home, PATH: nodeDir}},
			{name: 'package', command: installed.bin, args: [], env: {HOME: home, PATH: nodeDir}},
			{name: 'clone, 24', command: node24, args: [bin], env: {HOME: home, PATH: path.dirname(node24)}},
			{name: 'executable', command: executable, args: [], env: {HOME: home}},
		];
		console.log(`clone and package on Node ${process.version}; "clone, 24" on Node 24, as the executable (${(statSync(executable).size / 2 ** 20).toFixed(1)} MiB)`);
		console.log(`package: ${(installed.packed.size / 1024).toFixed(0)} KiB packed, ${(installed.packed.unpackedSize / 2 ** 20).toFixed(1)} MiB unpacked, ${installed.packed.entryCount} files`);

		const input = path.join(corpusDir, 'OpenSSH_2k.log');
		const times = new Map(ways.map(w => [w.name, {pipe: [] as number[], ui: [] as number[]}]));
		// One unmeasured round warms the page cache for all.
		for (const way of ways) {
			await pipeFirstByte(way);
			await uiFirstFrame(way, input);
		}

		for (let round = 0; round < rounds; round++) {
			const order = [...ways.slice(round % ways.length), ...ways.slice(0, round % ways.length)];
			for (const way of order) {
				times.get(way.name)!.pipe.push(await pipeFirstByte(way));
				await sleep(20);
				times.get(way.name)!.ui.push(await uiFirstFrame(way, input));
				await sleep(20);
			}
		}

		const clonePipe = median(times.get('clone')!.pipe);
		const cloneUi = median(times.get('clone')!.ui);
		console.log(`\n${rounds} rounds; ms, median (p90); ratio to the clone's median`);
		console.log(`${'way'.padEnd(12)}${'pipe: first byte'.padStart(26)}${'UI: first frame'.padStart(26)}`);
		for (const way of ways) {
			const t = times.get(way.name)!;
			const cell = (values: number[], base: number): string => `${median(values).toFixed(0)} (${quantile(values, 0.9).toFixed(0)}) ×${(median(values) / base).toFixed(2)}`;
			console.log(`${way.name.padEnd(12)}${cell(t.pipe, clonePipe).padStart(26)}${cell(t.ui, cloneUi).padStart(26)}`);
		}
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}
