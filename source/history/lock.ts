import {constants, closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync, fchmodSync} from 'node:fs';
import {hostname} from 'node:os';
import path from 'node:path';
import {fileMode} from './segments.js';

// One writer per directory: `writer.lock` holds {"pid","host","startedAt"}. It is written to a
// temporary file and linked into place, so it appears whole or not at all, and the link fails
// when another writer holds it. A lock whose pid is dead on this host, or is another process's
// now (of another boot, or started at another tick), is stale and taken over (a `kill -9` leaves
// one behind); a lock from another host is respected.

/** `boot` and `ticks` tell this process from another that gets its pid later (holderGone). */
export type LockHolder = {pid: number; host: string; startedAt?: number; boot?: string; ticks?: number};

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
		return typeof v.pid === 'number' && typeof v.host === 'string'
			? {pid: v.pid, host: v.host, startedAt: v.startedAt, boot: typeof v.boot === 'string' ? v.boot : undefined, ticks: typeof v.ticks === 'number' ? v.ticks : undefined}
			: 'damaged';
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

/** This boot of the machine (Linux); undefined where that cannot be read. */
function bootId(): string | undefined {
	try {
		return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
	} catch {
		return undefined;
	}
}

/**
 * When the process `pid` started, in clock ticks since boot (Linux's /proc, its 22nd stat field):
 * a mark of the process that the wall clock being set does not move. Undefined where unreadable.
 */
function processTicks(pid: number): number | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// The fields after the command's name, which may hold spaces and parentheses.
		const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
		return Number.isSafeInteger(ticks) ? ticks : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Whether the holder on this host is gone: its pid is dead, or is another process's now (pid
 * reuse after a kill -9, or after a reboot): one of another boot, or started at another tick.
 */
function holderGone(holder: LockHolder): boolean {
	if (holder.host !== hostname() || holder.pid === process.pid) {
		return false;
	}

	if (!alive(holder.pid)) {
		return true;
	}

	if (holder.boot === undefined || holder.ticks === undefined) {
		return false; // a lock that does not say: the process with its pid holds it
	}

	const boot = bootId();
	if (boot !== undefined && boot !== holder.boot) {
		return true;
	}

	const ticks = processTicks(holder.pid);
	return ticks !== undefined && ticks !== holder.ticks;
}

export function acquireLock(dir: string, now = Date.now()): LockResult {
	const file = path.join(dir, lockName);
	const me: LockHolder = {pid: process.pid, host: hostname(), startedAt: now, boot: bootId(), ticks: processTicks(process.pid)};
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
