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
	/** Directories whose watch could not be opened at the last try. */
	private failed = new Set<string>();

	constructor(private readonly changed: DirChange) {}

	get size(): number {
		return this.watchers.size;
	}

	/** Is this directory watched? */
	watching(dir: string): boolean {
		return this.watchers.has(dir);
	}

	/**
	 * Watch these directories and no others; past the limit, the first ones in the set's order (a
	 * watch held by a later one is given up for an earlier one). Watches are closed before others
	 * are opened, so at the system's limit an earlier directory gets the one a later one gave up.
	 */
	set(dirs: Set<string>): void {
		const wanted = new Set<string>();
		for (const dir of dirs) {
			if (wanted.size >= maxWatches) {
				break;
			}

			// One that could not be watched at the last try takes no place.
			if (this.watchers.has(dir) || !this.failed.has(dir)) {
				wanted.add(dir);
			}
		}

		for (const [dir, w] of this.watchers) {
			if (!wanted.has(dir)) {
				w.close();
				this.watchers.delete(dir);
			}
		}

		const failed = new Set<string>();
		for (const dir of wanted) {
			if (!this.watchers.has(dir) && !this.open(dir)) {
				failed.add(dir);
			}
		}

		// Places left by those that failed go to the next in order, then to those that failed before.
		for (const dir of dirs) {
			if (failed.size === 0 || this.watchers.size >= maxWatches) {
				break;
			}

			if (!wanted.has(dir) && !this.failed.has(dir) && !this.watchers.has(dir) && !this.open(dir)) {
				failed.add(dir);
			}
		}

		// Those that could not be watched before are tried again where there is room; the rest stay out.
		for (const dir of this.failed) {
			if (!dirs.has(dir) || this.watchers.has(dir)) {
				continue;
			}

			if (this.watchers.size >= maxWatches || !this.open(dir)) {
				failed.add(dir);
			}
		}

		this.failed = failed;
	}

	/** Start watching a directory; false when it cannot be watched (counted once until it can). */
	private open(dir: string): boolean {
		try {
			const w = watch(dir, {persistent: false}, (event, name) => {
				this.changed(dir, event, name === null ? undefined : name.toString());
			});
			w.on('error', () => {
				// The directory went away or the system ran out of watches: polling goes on.
				w.close();
				if (this.watchers.get(dir) === w) {
					this.watchers.delete(dir);
				}

				this.errors++;
			});
			this.watchers.set(dir, w);
			return true;
		} catch {
			if (!this.failed.has(dir)) {
				this.errors++;
			}

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
