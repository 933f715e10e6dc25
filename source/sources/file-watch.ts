import {type FSWatcher, watch} from 'node:fs';

// Change events from the directories followed files are in or may appear in: one watch for a
// directory of 1,000 files. Where a watch cannot be had (the system's limit, a filesystem that
// sends none), the source's poll finds the changes instead.

/** Most directories watched at once; the others are polled. */
export const maxWatches = 512;

export type DirChange = (dir: string, event: string, name: string | undefined) => void;

export class DirWatches {
	/** Watches that failed or could not be set up. */
	errors = 0;
	private readonly watchers = new Map<string, FSWatcher>();

	constructor(private readonly changed: DirChange) {}

	get size(): number {
		return this.watchers.size;
	}

	/** Is this directory watched? */
	watching(dir: string): boolean {
		return this.watchers.has(dir);
	}

	/**
	 * Watch these directories and no others; past the limit, the first ones in the set's order that
	 * can be watched (a watch held by a later one is given up for an earlier one).
	 */
	set(dirs: Set<string>): void {
		const kept = new Set<string>();
		for (const dir of dirs) {
			if (kept.size >= maxWatches) {
				break;
			}

			if (this.watchers.has(dir) || this.open(dir)) {
				kept.add(dir);
			}
		}

		for (const [dir, w] of this.watchers) {
			if (!kept.has(dir)) {
				w.close();
				this.watchers.delete(dir);
			}
		}
	}

	/** Start watching a directory; false when it cannot be watched (counted). */
	private open(dir: string): boolean {
		try {
			const w = watch(dir, {persistent: false}, (event, name) => {
				this.changed(dir, event, name === null ? undefined : name.toString());
			});
			w.on('error', () => {
				// The directory went away or the system ran out of watches: polling goes on.
				w.close();
				this.watchers.delete(dir);
				this.errors++;
			});
			this.watchers.set(dir, w);
			return true;
		} catch {
			this.errors++;
			return false;
		}
	}

	close(): void {
		for (const w of this.watchers.values()) {
			w.close();
		}

		this.watchers.clear();
	}
}
