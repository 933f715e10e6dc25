import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs';
import http from 'node:http';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {root} from './logmon.js';

// A real Docker engine for the Docker source tests: Debian's docker.io (installed by
// scripts/ensure-docker.sh), started with its data, exec root, pid file and socket in a
// temporary directory, no bridge and no iptables, so it touches nothing of the machine's.
// The one image is busybox, imported from the local static binary: no registry is needed.
// Without an engine the tests are skipped loudly, or fail under LOGMON_REQUIRE_PEERS=1 (CI).

export const requirePeers = process.env['LOGMON_REQUIRE_PEERS'] === '1';
export const image = 'logmon-busybox:local';

/** dockerd's path, installed when missing; undefined (after a loud message) when it cannot be had. */
export function dockerdBinary(): string | undefined {
	let reason: string;
	try {
		const out = execFileSync('sh', [path.join(root, 'scripts', 'ensure-docker.sh')], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000});
		const found = out.trim().split('\n').at(-1);
		if (found && process.getuid?.() === 0) {
			return found;
		}

		reason = 'dockerd needs root to run its own engine (these tests run it, not the machine\'s)';
	} catch (error) {
		reason = `scripts/ensure-docker.sh failed: ${(error as Error).message}`;
	}

	const bar = '!'.repeat(78);
	process.stderr.write(`\n${bar}\nlogmon: no Docker engine (${reason}).\n${requirePeers ? 'LOGMON_REQUIRE_PEERS=1: the Docker engine tests will FAIL.' : 'The Docker engine tests are SKIPPED.'}\n${bar}\n\n`);
	return undefined;
}

function busyboxPath(): string {
	for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
		try {
			execFileSync(p, ['true'], {stdio: 'ignore'});
			return p;
		} catch {
			// Not there.
		}
	}

	throw new Error('no busybox binary (scripts/ensure-docker.sh installs busybox-static)');
}

export class Dockerd {
	readonly dir = mkdtempSync(path.join(tmpdir(), 'logmon-dockerd-'));
	readonly socket = path.join(this.dir, 'docker.sock');
	private child: ChildProcess | undefined;
	private log = '';

	constructor(private readonly binary: string) {}

	get host(): string {
		return `unix://${this.socket}`;
	}

	/** Start the engine (again) and wait until it answers. Live restore keeps containers running across a restart. */
	async start(): Promise<void> {
		const child = spawn(this.binary, [
			'--data-root', path.join(this.dir, 'data'),
			'--exec-root', path.join(this.dir, 'exec'),
			'--pidfile', path.join(this.dir, 'docker.pid'),
			'-H', this.host,
			'--iptables=false',
			'--ip6tables=false',
			'--bridge=none',
			'--live-restore',
		], {stdio: ['ignore', 'pipe', 'pipe']});
		this.child = child;
		// A test run that dies (a timeout, say) must not leave an engine behind.
		const orphan = (): void => {
			child.kill('SIGTERM');
		};

		process.once('exit', orphan);
		child.once('close', () => process.off('exit', orphan));
		const collect = (d: Buffer): void => {
			this.log = (this.log + d.toString()).slice(-20_000);
		};

		child.stdout!.on('data', collect);
		child.stderr!.on('data', collect);
		for (const deadline = Date.now() + 60_000; ;) {
			if (child.exitCode !== null) {
				throw new Error(`dockerd exited ${child.exitCode}:\n${this.log}`);
			}

			if (await this.ping()) {
				return;
			}

			if (Date.now() > deadline) {
				child.kill('SIGKILL');
				throw new Error(`dockerd did not answer within 60 s:\n${this.log}`);
			}

			await new Promise(resolve => setTimeout(resolve, 100));
		}
	}

	/** Stop the engine; with live restore its containers go on running. */
	async stop(): Promise<void> {
		const child = this.child;
		this.child = undefined;
		if (!child || child.exitCode !== null) {
			return;
		}

		const exited = new Promise(resolve => child.once('close', resolve));
		child.kill('SIGTERM');
		const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
		await exited;
		clearTimeout(timer);
	}

	/** Stop the engine, remove every container and the temporary directory. */
	async destroy(): Promise<void> {
		if (this.child) {
			try {
				const ids = this.docker(['ps', '-aq']).split('\n').filter(Boolean);
				if (ids.length > 0) {
					this.docker(['rm', '-f', ...ids]);
				}
			} catch {
				// Best effort: stopping the engine without live restore would not help here.
			}
		}

		await this.stop();
		// dockerd leaves its data root mounted (a private bind mount of itself): unmount what is left.
		const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map(l => l.split(' ')[1] ?? '').filter(m => m.startsWith(this.dir));
		for (const mount of mounts.sort((a, b) => b.length - a.length)) {
			try {
				execFileSync('umount', ['-l', mount], {stdio: 'ignore'});
			} catch {
				// Gone already.
			}
		}

		rmSync(this.dir, {recursive: true, force: true, maxRetries: 3});
	}

	engineLog(): string {
		return this.log;
	}

	/** The docker client against this engine; returns its stdout. */
	docker(args: string[]): string {
		return execFileSync('docker', ['-H', this.host, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000}).trim();
	}

	/** `docker run -d` of the busybox image, no network; returns the container id. */
	run(name: string, script: string, options: {tty?: boolean; env?: string[]; labels?: string[]} = {}): string {
		return this.docker([
			'run', '-d', '--name', name, '--network', 'none',
			...(options.tty ? ['-t'] : []),
			...(options.env ?? []).flatMap(e => ['-e', e]),
			...(options.labels ?? []).flatMap(l => ['-l', l]),
			image, 'sh', '-c', script,
		]);
	}

	/** The busybox image, from the local static binary and its applets. */
	importImage(): void {
		const rootfs = path.join(this.dir, 'rootfs');
		mkdirSync(path.join(rootfs, 'bin'), {recursive: true});
		mkdirSync(path.join(rootfs, 'tmp'), {recursive: true});
		const busybox = busyboxPath();
		copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
		const applets = execFileSync(busybox, ['--list'], {encoding: 'utf8'}).split('\n').filter(a => a && a !== 'busybox');
		for (const applet of applets) {
			symlinkSync('busybox', path.join(rootfs, 'bin', applet));
		}

		const tar = path.join(this.dir, 'rootfs.tar');
		execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
		this.docker(['import', '--change', 'ENV PATH=/bin', tar, image]);
	}

	private async ping(): Promise<boolean> {
		return new Promise(resolve => {
			const request = http.get({socketPath: this.socket, path: '/_ping'}, response => {
				response.resume();
				resolve(response.statusCode === 200);
			});
			request.on('error', () => {
				resolve(false);
			});
			request.setTimeout(2000, () => {
				request.destroy();
				resolve(false);
			});
		});
	}
}
