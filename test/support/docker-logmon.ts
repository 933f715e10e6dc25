import {type ChildProcess} from 'node:child_process';
import {start} from './logmon.js';

// A running `logmon --docker SOCKET -o json`, its events parsed as they come, for the Docker
// source tests (against a real engine and against the test double).

export type DockerRecord = {container: {id: string; name: string; image: string; labels: Record<string, string>}; stream: string; timestamp: string; value?: unknown};

export type JsonEvent = {
	time: string;
	source: string;
	kind: string;
	service: string;
	host: string;
	proc: string;
	level: string;
	message: string;
	raw: string;
	marker?: string;
	record?: DockerRecord;
};

export class DockerLogmon {
	readonly child: ChildProcess;
	readonly events: JsonEvent[] = [];
	stderr = '';
	private partial = '';
	private readonly exited: Promise<number | null>;

	constructor(socket: string, args: string[] = []) {
		this.child = start(['--docker', socket, '--no-ui', '--no-history', '-o', 'json', ...args], {stdin: 'ignore'});
		this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
			const parts = (this.partial + d).split('\n');
			this.partial = parts.pop()!;
			for (const line of parts) {
				this.events.push(JSON.parse(line) as JsonEvent);
			}
		});
		this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
			this.stderr += d;
		});
		this.exited = new Promise(resolve => {
			this.child.once('close', code => {
				resolve(code);
			});
		});
	}

	/** The events of one service (a container's name, or its compose service). */
	of(service: string): JsonEvent[] {
		return this.events.filter(e => e.service === service);
	}

	/** `what` names what is awaited in the error; a function can say how far it got. */
	async until(test: () => boolean, what: string | (() => string), timeoutMs = 40_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!test()) {
			if (Date.now() > deadline) {
				throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}; stderr:\n${this.stderr.slice(-3000)}\nlast events:\n${this.events.slice(-5).map(e => JSON.stringify(e).slice(0, 300)).join('\n')}`);
			}

			if (this.child.exitCode !== null) {
				throw new Error(`logmon exited (${this.child.exitCode}) while waiting for ${typeof what === 'string' ? what : what()}; stderr:\n${this.stderr.slice(-3000)}`);
			}

			await new Promise(resolve => setTimeout(resolve, 50));
		}
	}

	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
		if (this.child.exitCode === null) {
			this.child.kill(signal);
		}

		return this.exited;
	}
}
