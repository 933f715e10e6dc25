import {spawn, type StdioOptions} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

// Helpers shared by the benchmark cases: build inputs from the loghub corpus,
// run a command, and sample its CPU time and memory from /proc.

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = path.join(root, 'bin', 'logmon.js');
export const corpusDir = path.join(root, 'test', 'fixtures', 'loghub');
export const corpusFiles = ['Apache_2k.log', 'BGL_2k.log', 'HDFS_2k.log', 'Hadoop_2k.log', 'HealthApp_2k.log', 'Linux_2k.log', 'OpenSSH_2k.log', 'OpenStack_2k.log', 'Spark_2k.log', 'Zookeeper_2k.log'];

/** All corpus lines (CR dropped), in file order. */
export function corpusLines(): string[] {
	return corpusFiles.flatMap(f => readFileSync(path.join(corpusDir, f), 'utf8').split(/\r?\n/).filter(Boolean));
}

/** A temp file of `count` corpus lines, repeated as needed. */
export function corpusFile(count: number): string {
	const lines = corpusLines();
	const out: string[] = [];
	for (let i = 0; i < count; i++) {
		out.push(lines[i % lines.length]!);
	}

	const file = path.join(tmpdir(), `logmon-bench-${count}.log`);
	writeFileSync(file, out.join('\n') + '\n');
	return file;
}

export type Sample = {rssKb: number; hwmKb: number; cpuTicks: number};

export function sample(pid: number): Sample | undefined {
	try {
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return {
			rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
			hwmKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
			// utime + stime, in clock ticks (100 per second on Linux).
			cpuTicks: Number(fields[11]) + Number(fields[12]),
		};
	} catch {
		return undefined;
	}
}

/** CPU time one thread of a process has used so far (utime + stime), in clock ticks; the main thread's id is the process's. */
export function threadCpuTicks(pid: number, tid: number): number {
	try {
		const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return Number(fields[11]) + Number(fields[12]);
	} catch {
		return 0;
	}
}

/**
 * Time one thread has spent runnable but waiting for a CPU, in ms (the second field of
 * /proc/PID/task/TID/schedstat); 0 where the kernel does not keep it.
 */
export function threadWaitMs(pid: number, tid: number): number {
	try {
		const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ');
		return Number(fields[1]) / 1e6;
	} catch {
		return 0;
	}
}

/** CPU time used so far (utime + stime), in clock ticks. */
export function cpuTicks(pid: number): number {
	return sample(pid)?.cpuTicks ?? 0;
}

/** CPU time of the process's main thread alone (where JavaScript runs, not the workers and GC helpers), in clock ticks. */
export function mainThreadTicks(pid: number): number {
	try {
		const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return Number(fields[11]) + Number(fields[12]);
	} catch {
		return 0;
	}
}

export function rssKb(pid: number): number {
	return sample(pid)?.rssKb ?? 0;
}

export type RunResult = {ms: number; peakRssKb: number; cpuSeconds: number; code: number | null; stdout: string};

/** Run a command to completion, sampling /proc every 20 ms; past `limitMs` it is killed and `onLimit` called. */
export async function measure(command: string, args: string[], stdio: StdioOptions, env: NodeJS.ProcessEnv = process.env, onLimit?: () => void, limitMs?: number): Promise<RunResult> {
	const started = performance.now();
	const child = spawn(command, args, {stdio, env});
	const limit = limitMs === undefined ? undefined : setTimeout(() => {
		onLimit?.();
		child.kill('SIGKILL');
	}, limitMs);
	let last: Sample | undefined;
	let peak = 0;
	const timer = setInterval(() => {
		const s = sample(child.pid!);
		if (s) {
			last = s;
			peak = Math.max(peak, s.hwmKb);
		}
	}, 20);
	let stdout = '';
	child.stdout?.on('data', (d: Buffer) => {
		stdout += d.toString();
	});
	const code = await new Promise<number | null>(resolve => child.once('close', c => resolve(c)));
	clearInterval(timer);
	clearTimeout(limit);
	return {ms: performance.now() - started, peakRssKb: peak, cpuSeconds: (last?.cpuTicks ?? 0) / 100, code, stdout};
}

export function rate(count: number, ms: number): string {
	return `${Math.round(count / (ms / 1000)).toLocaleString('en-US')}/s`;
}

export function mb(kb: number): string {
	return `${(kb / 1024).toFixed(1)} MB`;
}
