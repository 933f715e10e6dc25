import {statfsSync} from 'node:fs';

// How often the file source checks its files with `stat`, on top of the change events `fs.watch`
// gives. Where the events arrive (a local filesystem, every directory watched), the check is only a
// safety net and runs every `steadyPollMs`: for 1,000 idle files, each check costs some 20 ms of
// CPU. Where they may not (NFS, SMB, FUSE, 9p, a directory past the watch limit), or while
// something only a check notices is pending (a file rotated away that its writer may still add
// to, a file missing or unreadable), it runs every `pollMs`. GNU tail -F decides the same way, by
// the filesystem's type.

/** The safety net's interval where events arrive (or `pollMs`, if that is longer). */
export const steadyPollMs = 10_000;

/**
 * Filesystems whose changes made on this machine reach inotify, by statfs type (linux/magic.h).
 * Network and user-space filesystems are left out: changes made elsewhere send no event there.
 */
const eventFilesystems = new Set([
	0xEF_53, // ext2, ext3, ext4
	0x58_46_53_42, // xfs
	0x91_23_68_3E, // btrfs
	0x01_02_19_94, // tmpfs
	0x85_84_58_F6, // ramfs
	0x79_4C_76_30, // overlayfs (containers)
	0x2F_C1_2F_C1, // zfs
	0xF2_F5_20_10, // f2fs
	0x52_65_49_73, // reiserfs
	0x31_53_46_4A, // jfs
	0xCA_45_1A_4E, // bcachefs
	0x4D_44, // vfat
	0x20_11_BA_B0, // exfat
]);

/** Do change events arrive for files in `dir` (or for the file it names)? False when its filesystem cannot be told. */
export function eventsArrive(dir: string): boolean {
	try {
		return eventFilesystems.has(statfsSync(dir).type >>> 0);
	} catch {
		return false;
	}
}

export type PollState = {
	pollMs: number;
	/** Directories the followed files are in, or new ones may appear in. */
	dirs: ReadonlySet<string>;
	/** How many of them are watched. */
	watched: number;
	/** Files rotated away and still read, files missing or unreadable. */
	pending: number;
};

/** The interval until the next check. `arrive` is asked per directory, only when the rest allows a slow pace. */
export function pollInterval(state: PollState, arrive: (dir: string) => boolean = eventsArrive): number {
	if (state.pending > 0 || state.watched < state.dirs.size || state.dirs.size === 0) {
		return state.pollMs;
	}

	for (const dir of state.dirs) {
		if (!arrive(dir)) {
			return state.pollMs;
		}
	}

	return Math.max(state.pollMs, steadyPollMs);
}
