// What a newTerm rule has seen: at most `max` (group, term) pairs, the least recently seen
// forgotten first.
//
// Looked up by group, then by term, not by one key joined from both: an event's group and term
// are strings met before (a service name, a fingerprint from alert-fingerprints.ts) whose hash
// V8 has already, where a joined key would be a new string to build and hash for every event.
// A list through the entries keeps them in recency order, not a Map re-inserted on every
// sighting: that would leave a fresh copy of the key behind each time (promoted by the GC,
// then dropped at the next sighting) and a deleted slot to rehash.

type Entry = {
	readonly group: string;
	readonly term: string;
	/** Towards the least recently seen. */
	older: Entry | undefined;
	/** Towards the most recently seen. */
	newer: Entry | undefined;
};

export class TermMemory {
	private readonly groups = new Map<string, Map<string, Entry>>();
	private oldest: Entry | undefined;
	private newest: Entry | undefined;
	private count = 0;
	/** Pairs forgotten past `max`. */
	evicted = 0;

	constructor(readonly max: number) {}

	get size(): number {
		return this.count;
	}

	/** True when (group, term) is the pair seen last: known, and the most recent already. */
	isLast(group: string, term: string): boolean {
		const e = this.newest;
		return e !== undefined && e.term === term && e.group === group;
	}

	/** Note a sighting of (group, term), now the most recent; true when it was known already. */
	see(group: string, term: string): boolean {
		let terms = this.groups.get(group);
		const known = terms?.get(term);
		if (known) {
			this.toNewest(known);
			return true;
		}

		if (!terms) {
			terms = new Map();
			this.groups.set(group, terms);
		}

		const entry: Entry = {group, term, older: this.newest, newer: undefined};
		if (this.newest) {
			this.newest.newer = entry;
		} else {
			this.oldest = entry;
		}

		this.newest = entry;
		terms.set(term, entry);
		this.count++;
		if (this.count > this.max) {
			this.forgetOldest();
		}

		return false;
	}

	private forgetOldest(): void {
		const gone = this.oldest!;
		this.oldest = gone.newer;
		this.oldest!.older = undefined;
		const terms = this.groups.get(gone.group)!;
		terms.delete(gone.term);
		if (terms.size === 0) {
			this.groups.delete(gone.group);
		}

		this.count--;
		this.evicted++;
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
