import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {until} from './logmon.js';

// A real systemd-journald of its own, in a journal namespace (systemd-journald NAME), so that
// tests read what journalctl really writes without touching the machine's journal. Entries
// go in through the namespace's syslog socket with util-linux logger. Needs root and the
// systemd binaries; `unavailable()` says why not otherwise.

const journaldPaths = ['/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-journald'];

export function unavailable(): string | undefined {
	if (process.getuid?.() !== 0) {
		return 'not root (systemd-journald needs it)';
	}

	if (!journaldPaths.some(p => existsSync(p))) {
		return 'no systemd-journald binary';
	}

	for (const command of ['journalctl', 'logger']) {
		if (spawnSync(command, ['--version']).status !== 0) {
			return `no ${command}`;
		}
	}

	return undefined;
}

export type Journal = {
	namespace: string;
	/** A `journalctl` that reads this namespace: give it to the source as its journalctl. */
	journalctl: string;
	/** Log one entry through syslog; resolves once logger has handed it over. */
	send: (identifier: string, priority: string, text: string | Buffer) => Promise<void>;
	stop: () => Promise<void>;
};

export async function startJournal(): Promise<Journal> {
	const namespace = `logmontest${process.pid}x${Date.now() % 100_000}`;
	const binary = journaldPaths.find(p => existsSync(p))!;
	const daemon: ChildProcess = spawn(binary, [namespace], {stdio: 'ignore'});
	const runDir = `/run/systemd/journal.${namespace}`;
	const socket = path.join(runDir, 'dev-log');
	await until(() => existsSync(socket), `systemd-journald ${namespace} to open ${socket}`);
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-journal-'));
	const real = spawnSync('sh', ['-c', 'command -v journalctl'], {encoding: 'utf8'}).stdout.trim();
	const journalctl = path.join(dir, 'journalctl');
	writeFileSync(journalctl, `#!/bin/sh\nexec ${real} --namespace=${namespace} "$@"\n`);
	chmodSync(journalctl, 0o755);
	const send = async (identifier: string, priority: string, text: string | Buffer): Promise<void> => {
		const logger = spawn('logger', ['-u', socket, '-t', identifier, '-p', priority], {stdio: ['pipe', 'ignore', 'inherit']});
		logger.stdin.end(text);
		await new Promise(resolve => logger.once('close', resolve));
	};

	const stop = async (): Promise<void> => {
		if (daemon.exitCode === null) {
			const closed = new Promise(resolve => daemon.once('close', resolve));
			daemon.kill('SIGTERM');
			await closed;
		}

		const machineId = readFileSync('/etc/machine-id', 'utf8').trim();
		for (const d of [runDir, `/var/log/journal/${machineId}.${namespace}`, `/run/log/journal/${machineId}.${namespace}`, dir]) {
			rmSync(d, {recursive: true, force: true});
		}
	};

	return {namespace, journalctl, send, stop};
}
