import fs from 'node:fs/promises';
import path from 'node:path';
import {LEVELS, type Level} from '../core/event.js';
import {compareSegments, indexSuffix, parseSegmentFile, type ParsedFileName} from '../history/format.js';
import {parseIndex} from '../history/index-builder.js';
import {type Stream} from '../history/retention-plan.js';
import {streamDir} from '../history/segments.js';
import {type HistoryCountsView, type SegmentCounts} from './grafana-series.js';

// The history's per-segment counts for the Grafana series: each sealed segment's sidecar, read
// once (a sealed segment never changes) and kept without its bloom filter, a few hundred bytes
// a segment. The directory is listed (names only, no stat) at most once a second, in the
// background: a request gets the last listing at once, so a slow disk never holds up an answer,
// and sees a newly sealed segment a second or so later. A segment that retention removed leaves
// the cache at the next listing. Damaged sidecars are counted and skipped.

const listingMs = 1000;
const levels = new Set<string>(LEVELS);

type Listing = {at: number; segments: SegmentCounts[]};

export class SidecarCache {
	private readonly cache = new Map<string, SegmentCounts | undefined>();
	private readonly listings = new Map<Stream, Listing>();
	private readonly pending = new Map<Stream, Promise<Listing>>();
	/** Sidecars that could not be read or parsed. */
	damaged = 0;
	/** Why the last listing failed, if it did. */
	failed: string | undefined;

	constructor(readonly dir: string, private readonly now: () => number = Date.now) {}

	/** The sealed segments of a stream, oldest first, as a view for grafana-series.ts. */
	async view(stream: Stream, liveSince: number): Promise<HistoryCountsView> {
		const {segments} = await this.listing(stream);
		return {segments, received: s => (s.maxReceived < liveSince ? 'before' : 'during')};
	}

	/** Services and levels the sidecars name, for tag values. */
	async names(): Promise<{services: Set<string>; levels: Set<Level>}> {
		const services = new Set<string>();
		const seen = new Set<Level>();
		for (const s of (await this.listing('all')).segments) {
			for (const c of s.counts) {
				services.add(c.service);
				seen.add(c.level);
			}
		}

		return {services, levels: seen};
	}

	private async listing(stream: Stream): Promise<Listing> {
		const known = this.listings.get(stream);
		if (known && this.now() - known.at < listingMs) {
			return known;
		}

		let p = this.pending.get(stream);
		if (!p) {
			// A listing that fails (a directory made unreadable) leaves the last one in use, and says why.
			p = this.read(stream).then(listing => {
				this.failed = undefined;
				return listing;
			}, (error: unknown) => {
				this.failed = `${streamDir(this.dir, stream)}: ${error instanceof Error ? error.message : String(error)}`;
				return known ?? {at: this.now(), segments: []};
			}).finally(() => this.pending.delete(stream));
			this.pending.set(stream, p);
		}

		// The last listing while the next is read; the first one is waited for.
		return known ?? p;
	}

	private async read(stream: Stream): Promise<Listing> {
		const at = this.now();
		const dir = streamDir(this.dir, stream);
		let names: string[];
		try {
			names = await fs.readdir(dir);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				throw error;
			}

			names = [];
		}

		// Sealed: the gzip and the sidecar are both there (the sidecar is written last).
		const files = new Map<string, {name: ParsedFileName; gz: boolean; index: boolean}>();
		for (const file of names) {
			const name = parseSegmentFile(file);
			if (name && name.kind !== 'raw') {
				const f = files.get(name.base) ?? {name, gz: false, index: false};
				f[name.kind] = true;
				files.set(name.base, f);
			}
		}

		const sealed = [...files.values()].filter(f => f.gz && f.index).map(f => f.name).sort(compareSegments);
		const present = new Set<string>();
		const segments: SegmentCounts[] = [];
		for (const name of sealed) {
			const file = path.join(dir, name.base + indexSuffix);
			present.add(file);
			let counts = this.cache.get(file);
			if (!this.cache.has(file)) {
				counts = await readSidecar(file, name.base);
				if (!counts) {
					this.damaged++;
				}

				this.cache.set(file, counts);
			}

			if (counts) {
				segments.push(counts);
			}
		}

		for (const key of this.cache.keys()) {
			if (key.startsWith(dir + path.sep) && !present.has(key)) {
				this.cache.delete(key);
			}
		}

		const listing = {at, segments};
		this.listings.set(stream, listing);
		return listing;
	}
}

async function readSidecar(file: string, base: string): Promise<SegmentCounts | undefined> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch {
		return undefined;
	}

	const index = parseIndex(text);
	if (!index) {
		return undefined;
	}

	const counts: SegmentCounts['counts'] = [];
	for (const [key, n] of Object.entries(index.counts)) {
		const tab = key.lastIndexOf('\t');
		const level = key.slice(tab + 1);
		if (tab >= 0 && levels.has(level) && typeof n === 'number') {
			counts.push({service: key.slice(0, tab), level: level as Level, n});
		}
	}

	const errorsPerMinute = Object.entries(index.errorsPerMinute)
		.map(([minute, n]) => [Number(minute), n] as [number, number])
		.filter(([minute, n]) => Number.isFinite(minute) && typeof n === 'number')
		.sort((a, b) => a[0] - b[0]);
	return {base, minReceived: index.minReceived, maxReceived: index.maxReceived, counts, errorsPerMinute};
}
