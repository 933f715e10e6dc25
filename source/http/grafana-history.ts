import fs from 'node:fs/promises';
import {LEVELS, type Level} from '../core/event.js';
import {parseIndex} from '../history/index-builder.js';
import {type Stream} from '../history/retention-plan.js';
import {listSegments} from '../history/segments.js';
import {type HistoryCountsView, type SegmentCounts} from './grafana-series.js';

// The history's per-segment counts for the Grafana series: each sealed segment's sidecar, read
// once (a sealed segment never changes) and kept without its bloom filter, a few hundred bytes
// a segment. The directory listing is read again at most once a second; a segment that
// retention removed leaves the cache at the next listing. Damaged sidecars are counted and skipped.

const listingMs = 1000;
const levels = new Set<string>(LEVELS);

type Listing = {at: number; segments: SegmentCounts[]};

export class SidecarCache {
	private readonly cache = new Map<string, SegmentCounts | undefined>();
	private readonly listings = new Map<Stream, Listing>();
	private readonly pending = new Map<Stream, Promise<Listing>>();
	/** Sidecars that could not be read or parsed. */
	damaged = 0;

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
			p = this.read(stream).finally(() => this.pending.delete(stream));
			this.pending.set(stream, p);
		}

		return p;
	}

	private async read(stream: Stream): Promise<Listing> {
		const at = this.now();
		const files = await listSegments(this.dir, stream);
		const present = new Set<string>();
		const segments: SegmentCounts[] = [];
		for (const f of files) {
			if (!f.gz || !f.index) {
				continue; // being written or sealed: not in the counts yet
			}

			present.add(f.index);
			let counts = this.cache.get(f.index);
			if (!this.cache.has(f.index)) {
				counts = await readSidecar(f.index, f.base);
				if (!counts) {
					this.damaged++;
				}

				this.cache.set(f.index, counts);
			}

			if (counts) {
				segments.push(counts);
			}
		}

		for (const key of this.cache.keys()) {
			if (key.includes(`/${stream}/`) && !present.has(key)) {
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
