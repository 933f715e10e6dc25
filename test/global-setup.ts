import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {type TestProject} from 'vitest/node';
import {type KafkaProvision} from './support/kafka.js';

// Runs once before the suite. The Kafka broker for the Kafka tests:
//   KAFKA_BROKERS set        use it;
//   java and mvn present     start one with scripts/kafka.sh, in the background so the
//                            other suites need not wait for it; stop it afterwards;
//   neither                  the Kafka suite is skipped with a loud message, unless
//                            LOGMON_REQUIRE_KAFKA=1 (CI), where it fails.
// Tests read the outcome with inject('kafka') through test/support/kafka.ts.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(root, 'scripts', 'kafka.sh');

function has(command: string): boolean {
	return spawnSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'}).status === 0;
}

function loud(text: string): void {
	const bar = '!'.repeat(78);
	process.stderr.write(`\n${bar}\n${text}\n${bar}\n\n`);
}

/**
 * The Debian peers (tmux, Chromium, Alertmanager, the Docker engine) are installed here, one after another, when
 * missing: apt holds one lock, so test files installing them at the same moment would fail each
 * other. Each test file still checks for its peer itself and says loudly when it is not there.
 */
function installDebianPeers(): void {
	for (const script of ['ensure-tmux.sh', 'ensure-chromium.sh', 'ensure-alertmanager.sh', 'ensure-docker.sh']) {
		try {
			execFileSync('sh', [path.join(root, 'scripts', script)], {stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000});
		} catch {
			// Reported by the tests that need it.
		}
	}
}

export default function setup(project: TestProject): () => Promise<void> {
	installDebianPeers();
	const provide = (value: KafkaProvision): void => {
		project.provide('kafka', value);
	};
	const external = process.env['KAFKA_BROKERS'];
	if (external) {
		provide({mode: 'external', brokers: external});
		return async () => undefined;
	}

	const missing = ['java', 'mvn'].filter(c => !has(c));
	if (missing.length > 0) {
		const reason = `no Kafka broker: set KAFKA_BROKERS, or install ${missing.join(' and ')} so the tests can start one`;
		provide({mode: 'missing', reason});
		loud(process.env['LOGMON_REQUIRE_KAFKA'] === '1'
			? `logmon: ${reason}. LOGMON_REQUIRE_KAFKA=1: the Kafka tests will FAIL.`
			: `logmon: ${reason}. The Kafka tests are SKIPPED.`);
		return async () => undefined;
	}

	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-kafka-'));
	const readyFile = `${dir}.ready`;
	let output = '';
	const child: ChildProcess = spawn(script, ['start', dir], {stdio: ['ignore', 'pipe', 'pipe']});
	child.stdout!.on('data', (d: Buffer) => {
		output += d.toString();
	});
	child.stderr!.on('data', (d: Buffer) => {
		output += d.toString();
	});
	const started = new Promise<void>(resolve => {
		child.once('close', code => {
			const address = /^(127\.0\.0\.1:\d+)$/m.exec(output)?.[1];
			writeFileSync(readyFile, JSON.stringify(code === 0 && address ? {brokers: address} : {error: `scripts/kafka.sh start failed (${code}):\n${output.slice(-3000)}`}));
			resolve();
		});
	});
	provide({mode: 'started', dir, readyFile});

	return async () => {
		await started;
		try {
			execFileSync(script, ['stop', dir], {stdio: 'ignore', timeout: 60_000});
		} catch {
			// Best effort: a broker left behind dies with its temp dir's owner.
		}
	};
}
