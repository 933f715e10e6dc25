// What a newTerm rule has seen: at most `max` keys, the least recently seen forgotten first.
//
// A list through the entries in recency order, not a Map re-inserted on every sighting: a
// Map keeps the string it was given last, so each sighting of a known error would leave a
// fresh copy of its key behind (promoted by the GC, then dropped at the next sighting)
// and a deleted slot to rehash. Here a sighting moves an entry, and the first string of
// each key is the one kept.

type Entry = {
	readonly key: string;
	/** Towards the least recently seen. */
	older: Entry | undefined;
	/** Towards the most recently seen. */
	newer: Entry | undefined;
};

export class TermMemory {
	private readonly entries = new Map<string, Entry>();
	private oldest: Entry | undefined;
	private newest: Entry | undefined;
	/** Keys forgotten past `max`. */
	evicted = 0;

	constructor(readonly max: number) {}

	get size(): number {
		return this.entries.size;
	}

	/** The key last seen, or '' when there is none. */
	get last(): string {
		return this.newest?.key ?? '';
	}

	/** Note a sighting of `key`, now the most recent; true when it was known already. */
	see(key: string): boolean {
		const known = this.entries.get(key);
		if (known) {
			this.toNewest(known);
			return true;
		}

		const entry: Entry = {key, older: this.newest, newer: undefined};
		if (this.newest) {
			this.newest.newer = entry;
		} else {
			this.oldest = entry;
		}

		this.newest = entry;
		this.entries.set(key, entry);
		if (this.entries.size > this.max) {
			const gone = this.oldest!;
			this.oldest = gone.newer;
			this.oldest!.older = undefined;
			this.entries.delete(gone.key);
			this.evicted++;
		}

		return false;
	}

	/** Keys from the least to the most recently seen. */
	* keys(): Generator<string> {
		for (let e = this.oldest; e; e = e.newer) {
			yield e.key;
		}
	}

	private toNewest(entry: Entry): void {
		if (entry === this.newest) {
			return;
		}

		// Unlink: it has a newer neighbour, being not the newest.
		entry.newer!.older = entry.older;
		if (entry.older) {
			entry.older.newer = entry.newer;
		} else {
			this.oldest = entry.newer;
		}

		entry.older = this.newest;
		entry.newer = undefined;
		this.newest!.newer = entry;
		this.newest = entry;
	}
}
