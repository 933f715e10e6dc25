import {type ChildProcess} from 'node:child_process';
import {start} from './logmon.js';

// A running `logmon --kafka ...` whose stdout lines and stderr the test can wait on.

export class Running {
	readonly child: ChildProcess;
	lines: string[] = [];
	stderr = '';
	private partial = '';
	private readonly exited: Promise<number | null>;

	constructor(args: string[], env: NodeJS.ProcessEnv = {}, read = true) {
		this.child = start(['--no-ui', ...args], {env});
		this.child.stdin!.end();
		this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
			this.stderr += d;
		});
		if (read) {
			this.read();
		}

		this.exited = new Promise(resolve => {
			this.child.once('close', code => {
				resolve(code);
			});
		});
	}

	/** Start consuming stdout (for a test that held the reader back). */
	read(): void {
		this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
			const parts = (this.partial + d).split('\n');
			this.partial = parts.pop()!;
			this.lines.push(...parts);
		});
	}

	json(): Array<Record<string, any>> {
		return this.lines.map(l => JSON.parse(l) as Record<string, any>);
	}

	async until(test: () => boolean, what: string, timeoutMs = 40_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!test()) {
			if (Date.now() > deadline) {
				throw new Error(`timed out waiting for ${what}; stderr:\n${this.stderr.slice(-3000)}\nlast lines:\n${this.lines.slice(-5).join('\n').slice(0, 3000)}`);
			}

			if (this.child.exitCode !== null) {
				throw new Error(`logmon exited (${this.child.exitCode}) while waiting for ${what}; stderr:\n${this.stderr.slice(-3000)}`);
			}

			await new Promise(resolve => setTimeout(resolve, 100));
		}
	}

	async joined(times = 1): Promise<void> {
		await this.until(() => (this.stderr.match(/joined group/g) ?? []).length >= times, `joined group ×${times}`);
	}

	async lineCount(n: number, timeoutMs?: number): Promise<void> {
		await this.until(() => this.lines.length >= n, `${n} lines (have ${this.lines.length})`, timeoutMs);
	}

	/** Its exit code, once it exits of itself (e.g. with --exit-at-end). */
	async exit(): Promise<number | null> {
		return this.exited;
	}

	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
		if (this.child.exitCode === null) {
			this.child.kill(signal);
		}

		return this.exited;
	}
}
