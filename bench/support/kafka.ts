import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {root} from './measure.js';

// The Kafka peers of the Kafka benchmark cases: the broker (KAFKA_BROKERS, else one started with
// scripts/kafka.sh, which needs java and mvn) and kcat (Debian's package, installed when missing).

const script = path.join(root, 'scripts', 'kafka.sh');

function has(command: string): boolean {
	return spawnSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'}).status === 0;
}

export function ensureKcat(): void {
	if (has('kcat')) {
		return;
	}

	console.log('installing kcat (Debian package)…');
	execFileSync('apt-get', ['update', '-qq'], {stdio: 'inherit'});
	execFileSync('apt-get', ['install', '-y', '-qq', 'kcat'], {stdio: 'inherit', env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}});
}

/** The broker's bootstrap address, and how to stop it when this run started it. */
export function benchBroker(prefix: string): {brokers: string; stop: () => void} {
	const external = process.env['KAFKA_BROKERS'];
	if (external) {
		return {brokers: external, stop: () => undefined};
	}

	const dir = mkdtempSync(path.join(tmpdir(), prefix));
	const brokers = execFileSync(script, ['start', dir], {encoding: 'utf8'}).trim().split('\n').at(-1)!;
	return {
		brokers,
		stop() {
			execFileSync(script, ['stop', dir], {stdio: 'ignore'});
		},
	};
}
