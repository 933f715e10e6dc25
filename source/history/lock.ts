import {constants, closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync, fchmodSync} from 'node:fs';
import {hostname} from 'node:os';
import path from 'node:path';
import {fileMode} from './segments.js';

// One writer per directory: `writer.lock` holds {"pid","host","startedAt"}. It is written to a
// temporary file and linked into place, so it appears whole or not at all, and the link fails
// when another writer holds it. A lock whose pid is dead on this host, or belongs to a process
// that started after the lock was written, is stale and taken over (a `kill -9` leaves one
// behind); a lock from another host is respected.

export type LockHolder = {pid: number; host: string; startedAt?: number};

export type LockResult = {ok: true; release: () => void} | {ok: false; holder: LockHolder | undefined};

export const lockName = 'writer.lock';

/** The holder; 'damaged' when the file holds something else, undefined when it cannot be read (gone, another user's). */
function readHolder(file: string): LockHolder | 'damaged' | undefined {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}

	try {
		const v = JSON.parse(text) as Partial<LockHolder>;
		return typeof v.pid === 'number' && typeof v.host === 'string' ? {pid: v.pid, host: v.host, startedAt: v.startedAt} : 'damaged';
	} catch {
		return 'damaged';
	}
}

function known(holder: LockHolder | 'damaged' | undefined): LockHolder | undefined {
	return typeof holder === 'object' ? holder : undefined;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: it exists, under another user.
		return (error as NodeJS.ErrnoException).code !== 'ESRCH';
	}
}

/**
 * When the process `pid` started, ms since the epoch, from /proc (Linux; /proc's clock ticks are
 * USER_HZ, 100 a second); undefined where that cannot be read.
 */
function processStartedAt(pid: number): number | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// The fields after the command's name, which may hold spaces and parentheses; starttime is the 22nd field.
		const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
		const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
		return Number.isFinite(ticks) && Number.isFinite(bootSeconds) && bootSeconds > 0 ? (bootSeconds * 1000) + (ticks * 10) : undefined;
	} catch {
		return undefined;
	}
}

/** The boot time /proc gives is in whole seconds and drifts with clock changes: a started process is told from its lock by more than this. */
const startSlackMs = 10_000;

/**
 * Whether the holder on this host is gone: its pid is dead, or is another process's now (pid
 * reuse after a kill -9 and a reboot), one that started well after the lock was written.
 */
function holderGone(holder: LockHolder): boolean {
	if (holder.host !== hostname() || holder.pid === process.pid) {
		return false;
	}

	if (!alive(holder.pid)) {
		return true;
	}

	const started = holder.startedAt === undefined ? undefined : processStartedAt(holder.pid);
	return started !== undefined && started > holder.startedAt! + startSlackMs;
}

export function acquireLock(dir: string, now = Date.now()): LockResult {
	const file = path.join(dir, lockName);
	const me: LockHolder = {pid: process.pid, host: hostname(), startedAt: now};
	const tmp = path.join(dir, `${lockName}.${process.pid}.tmp`);
	const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, fileMode);
	try {
		fchmodSync(fd, fileMode);
		writeSync(fd, JSON.stringify(me) + '\n');
	} finally {
		closeSync(fd);
	}

	try {
		for (let attempt = 0; attempt < 2; attempt++) {
			try {
				linkSync(tmp, file);
				return {ok: true, release: () => release(file)};
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
					throw error;
				}
			}

			const holder = readHolder(file);
			// A lock is linked into place whole, so one that cannot be read is damaged: stale too.
			const stale = holder === 'damaged' || (holder !== undefined && holderGone(holder));
			if (!stale) {
				return {ok: false, holder: known(holder)};
			}

			try {
				unlinkSync(file);
			} catch {
				// Another process took it over first; the next link says who holds it.
			}
		}

		return {ok: false, holder: known(readHolder(file))};
	} finally {
		try {
			unlinkSync(tmp);
		} catch {}
	}
}

/** True when `dir` holds a lock whose process is gone from this host (a writer killed with SIGKILL). */
export function lockIsStale(dir: string): boolean {
	const holder = readHolder(path.join(dir, lockName));
	return typeof holder === 'object' && holderGone(holder);
}

/** Remove the lock if it is still ours. */
function release(file: string): void {
	const holder = known(readHolder(file));
	if (holder?.pid === process.pid && holder.host === hostname()) {
		try {
			unlinkSync(file);
		} catch {}
	}
}
