import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import net from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

// Spawn the built logmon (bin/logmon.js -> dist/) as a real process with real pipes.

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = path.join(root, 'bin', 'logmon.js');
export const corpus = path.join(root, 'test', 'fixtures', 'loghub');

export type Result = {code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string};

export type SpawnOptions = {
	input?: string | Buffer;
	env?: NodeJS.ProcessEnv;
	/** Kill after this many ms (the test then sees the signal). */
	timeoutMs?: number;
	/** Extra arguments for node itself, before the script. */
	nodeArgs?: string[];
	/** stdin: a pipe (default), or a stream or file descriptor to read from. */
	stdin?: 'pipe' | 'ignore' | NodeJS.ReadableStream | number;
};

const baseEnv = (): NodeJS.ProcessEnv => {
	// No colour or config from the developer's machine leaks into tests.
	const env: NodeJS.ProcessEnv = {...process.env, XDG_CONFIG_HOME: path.join(root, 'test', 'fixtures', 'no-config')};
	delete env['FORCE_COLOR'];
	delete env['NO_COLOR'];
	return env;
};

/** State directories of logmon processes still running: removed when the test run ends. */
const stateDirs = new Set<string>();
process.once('exit', () => {
	for (const dir of stateDirs) {
		rmSync(dir, {recursive: true, force: true});
	}
});

/** Start logmon; stdin is a pipe unless `input` is given, in which case it is written and closed. */
export function start(args: string[], options: SpawnOptions = {}): ChildProcess {
	// Each logmon keeps its history (on with a network source) in a state directory of its own,
	// removed when it exits: never the developer's, never shared by two tests.
	const state = mkdtempSync(path.join(tmpdir(), 'logmon-test-state-'));
	const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, ...args], {
		env: {...baseEnv(), XDG_STATE_HOME: state, ...options.env},
		stdio: [(options.stdin ?? 'pipe') as 'pipe', 'pipe', 'pipe'],
	});
	stateDirs.add(state);
	child.once('close', () => {
		rmSync(state, {recursive: true, force: true});
		stateDirs.delete(state);
	});
	if (options.input !== undefined) {
		child.stdin!.end(options.input);
	}

	return child;
}

/** Run logmon to completion and collect its output. */
export async function run(args: string[], options: SpawnOptions = {}): Promise<Result> {
	const child = start(args, {...options, input: options.input ?? (options.stdin ? undefined : '')});
	return collect(child, options.timeoutMs ?? 30_000);
}

export async function collect(child: ChildProcess, timeoutMs = 30_000): Promise<Result> {
	let stdout = '';
	let stderr = '';
	child.stdout?.setEncoding('utf8').on('data', (d: string) => {
		stdout += d;
	});
	child.stderr?.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
	});
	const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
	return new Promise(resolve => {
		child.once('close', (code, signal) => {
			clearTimeout(timer);
			resolve({code, signal, stdout, stderr});
		});
	});
}

/** Resolves when `text` has appeared on the stream (or rejects after `timeoutMs`). */
export async function waitFor(stream: NodeJS.ReadableStream, text: string | RegExp, timeoutMs = 15_000): Promise<string> {
	let seen = '';
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			stream.off('data', onData);
			reject(new Error(`timed out waiting for ${String(text)}; saw: ${seen.slice(-2000)}`));
		}, timeoutMs);
		function onData(d: Buffer | string): void {
			seen += d.toString();
			if (typeof text === 'string' ? seen.includes(text) : text.test(seen)) {
				clearTimeout(timer);
				stream.off('data', onData);
				resolve(seen);
			}
		}

		stream.on('data', onData);
	});
}

/** Poll until `check` returns something truthy, and return it; no fixed sleeps. */
export async function until<T>(check: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = check();
		if (v) {
			return v;
		}

		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 10));
	}
}

/** A loopback port that was free a moment ago (nothing listens on it). */
export async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as net.AddressInfo;
	await new Promise(resolve => server.close(resolve));
	return port;
}
