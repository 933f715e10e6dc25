import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import path from 'node:path';
import {freePort, root} from './logmon.js';

// moto's server, a local stand-in for AWS, for the CloudWatch forwarder's tests: installed into
// .cache/moto by scripts/ensure-moto.sh, started per test file by scripts/moto.sh on a free
// loopback port. Missing (no Python, no PyPI): the tests are skipped loudly, or fail under
// LOGMON_REQUIRE_PEERS=1 (CI). moto checks almost none of CloudWatch's limits: those are
// tested against test/support/cloudwatch-strict.ts.

export const requirePeers = process.env['LOGMON_REQUIRE_PEERS'] === '1';

/** Fake credentials moto accepts; the SDK reads them through the standard chain (environment). */
export const motoEnv = {
	AWS_ACCESS_KEY_ID: 'test',
	AWS_SECRET_ACCESS_KEY: 'test',
	AWS_REGION: 'us-east-1',
	AWS_EC2_METADATA_DISABLED: 'true',
	AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as const;

let installed: boolean | undefined;

/** True when moto is there (installing it when missing); false after a loud message. */
export function haveMoto(): boolean {
	if (installed === undefined) {
		try {
			execFileSync('sh', [path.join(root, 'scripts', 'ensure-moto.sh')], {stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000});
			installed = true;
		} catch (error) {
			installed = false;
			const bar = '!'.repeat(78);
			process.stderr.write(`\n${bar}\nlogmon: no moto (scripts/ensure-moto.sh failed: ${(error as Error).message}).\n${requirePeers ? 'LOGMON_REQUIRE_PEERS=1: the CloudWatch tests against moto will FAIL.' : 'The CloudWatch tests against moto are SKIPPED.'}\n${bar}\n\n`);
		}
	}

	return installed;
}

export type Moto = {
	endpoint: string;
	/** Forget every group and stream. */
	reset(): Promise<void>;
	stop(): Promise<void>;
};

export async function startMoto(): Promise<Moto> {
	if (!haveMoto()) {
		throw new Error('moto is not installed (scripts/ensure-moto.sh)');
	}

	const port = await freePort();
	const child: ChildProcess = spawn('sh', [path.join(root, 'scripts', 'moto.sh'), String(port)], {stdio: ['ignore', 'ignore', 'pipe']});
	// Never outlives the test process, even one ended before its afterAll ran.
	const orphaned = (): void => {
		child.kill('SIGKILL');
	};

	process.once('exit', orphaned);
	child.once('exit', () => process.off('exit', orphaned));
	let log = '';
	child.stderr!.on('data', (d: Buffer) => {
		log = (log + d.toString()).slice(-5000);
	});
	const endpoint = `http://127.0.0.1:${port}`;
	const reset = async (): Promise<void> => {
		const r = await fetch(`${endpoint}/moto-api/reset`, {method: 'POST'});
		if (!r.ok) {
			throw new Error(`moto reset: ${r.status}`);
		}
	};

	for (const deadline = Date.now() + 60_000; ;) {
		if (child.exitCode !== null) {
			throw new Error(`moto_server exited ${child.exitCode}: ${log}`);
		}

		try {
			// eslint-disable-next-line no-await-in-loop -- polling until it answers
			await reset();
			break;
		} catch (error) {
			if (Date.now() > deadline) {
				child.kill('SIGKILL');
				throw new Error(`moto_server did not answer on ${endpoint}: ${(error as Error).message}\n${log}`);
			}

			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => setTimeout(resolve, 100));
		}
	}

	return {
		endpoint,
		reset,
		async stop() {
			if (child.exitCode === null) {
				const exited = new Promise(resolve => child.once('exit', resolve));
				child.kill('SIGTERM');
				await exited;
			}
		},
	};
}
