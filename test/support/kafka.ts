import {execFile} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {inject} from 'vitest';
import {KafkaTool} from '../../source/sources/kafka.js';
import {root} from './logmon.js';

// The real broker for the Kafka suite (see test/global-setup.ts), and helpers to
// start dedicated ones.

export type KafkaProvision =
	| {mode: 'external'; brokers: string}
	| {mode: 'started'; dir: string; readyFile: string}
	| {mode: 'missing'; reason: string};

declare module 'vitest' {
	export interface ProvidedContext {
		kafka: KafkaProvision;
	}
}

const required = process.env['LOGMON_REQUIRE_KAFKA'] === '1';
export const script = path.join(root, 'scripts', 'kafka.sh');
const run = promisify(execFile);

/** True when the Kafka suite must be skipped (no broker, and CI did not require one). */
export function skipKafka(): boolean {
	const p = inject('kafka');
	if (p.mode === 'missing' && !required) {
		console.warn(`\n!!! logmon: Kafka tests SKIPPED: ${p.reason}\n`);
		return true;
	}

	return false;
}

/** The shared broker's bootstrap address; waits for the background start. */
export async function brokers(timeoutMs = 150_000): Promise<string> {
	const p = inject('kafka');
	if (p.mode === 'missing') {
		throw new Error(`LOGMON_REQUIRE_KAFKA=1 but ${p.reason}`);
	}

	if (p.mode === 'external') {
		return p.brokers;
	}

	const deadline = Date.now() + timeoutMs;
	while (!existsSync(p.readyFile)) {
		if (Date.now() > deadline) {
			throw new Error('the Kafka broker did not start in time');
		}

		await new Promise(resolve => setTimeout(resolve, 200));
	}

	const ready = JSON.parse(readFileSync(p.readyFile, 'utf8')) as {brokers?: string; error?: string};
	if (!ready.brokers) {
		throw new Error(ready.error ?? 'the Kafka broker did not start');
	}

	return ready.brokers;
}

/** Whether this machine can start brokers of its own (java and mvn present, or jars cached). */
export function canStartBrokers(): boolean {
	return inject('kafka').mode === 'started';
}

/** A dedicated broker in its own temp dir: start (or restart, same ports) and stop. */
export class DedicatedBroker {
	readonly dir = mkdtempSync(path.join(tmpdir(), 'logmon-kafka-own-'));
	address = '';

	async start(): Promise<string> {
		const {stdout} = await run(script, ['start', this.dir], {timeout: 150_000});
		this.address = stdout.trim().split('\n').at(-1)!;
		return this.address;
	}

	/** Stop it; `keep` keeps its data and ports for a restart. */
	async stop(keep = false): Promise<void> {
		await run(script, keep ? ['stop', '--keep', this.dir] : ['stop', this.dir], {timeout: 60_000});
	}

	/**
	 * A crash: the broker is frozen wherever it is (requests in flight go unanswered),
	 * then killed. Data and ports are kept for a restart with start().
	 */
	async crash(): Promise<void> {
		const pid = Number(readFileSync(path.join(this.dir, 'kafka.pid'), 'utf8'));
		process.kill(pid, 'SIGSTOP');
		await new Promise(resolve => setTimeout(resolve, 500));
		process.kill(pid, 'SIGKILL');
		// Gone, or a zombie: its sockets are closed either way.
		const alive = (): boolean => {
			try {
				return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
			} catch {
				return false;
			}
		};

		while (alive()) {
			await new Promise(resolve => setTimeout(resolve, 50));
		}

		// A zombie still answers kill -0: without its pid file, start() knows it is gone.
		rmSync(path.join(this.dir, 'kafka.pid'), {force: true});
	}
}

export function tool(address: string): KafkaTool {
	return new KafkaTool({brokers: [address]});
}

export function unique(prefix: string): string {
	return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh XDG_STATE_HOME, so runs never see another run's delivery state. */
export function stateHome(): string {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-state-'));
	process.once('exit', () => {
		rmSync(dir, {recursive: true, force: true});
	});
	return dir;
}

/** The SASL and SSL listeners of the broker scripts/kafka.sh started (see secured.json there). */
export type SecuredListeners = {sasl: string; ssl: string; ca: string; username: string; password: string};

/** The shared broker's secured listeners, or undefined for a broker the suite did not start. */
export function securedListeners(): SecuredListeners | undefined {
	const p = inject('kafka');
	return p.mode === 'started' ? JSON.parse(readFileSync(path.join(p.dir, 'secured.json'), 'utf8')) as SecuredListeners : undefined;
}
