import {type LogEvent} from '../core/event.js';
import {type Store} from '../core/store.js';
import {compileSearch} from './matcher.js';
import {type ScanResult, SearchScan} from './scan.js';
import {type UiState} from './state.js';

// The search: `/` types it (incremental: every key searches again from where
// the search began), n/N go to the previous/next match. Finding a match is a
// scan over the held events that can take seconds (many long lines), so it
// runs in slices off the frame path; a new query or Escape drops it.

export type SearchHost = {
	readonly state: UiState;
	readonly store: Store;
	lastSeq(): number;
	/** The tail's filter, as a test (a search only finds rows the tail shows). */
	passes(): (e: LogEvent) => boolean;
	/** Show this event in the middle of the tail. */
	center(seq: number): void;
	notify(text: string): void;
	/** A scan has work: run `step` soon. */
	wake(): void;
};

type Origin = Pick<UiState, 'following' | 'anchorSeq' | 'pausedAtSeq' | 'search' | 'markSeq'>;

export class Search {
	private scan: SearchScan | undefined;
	/** Where the tail was when `/` was pressed, restored on each key and on Escape. */
	private origin: Origin | undefined;

	constructor(private readonly host: SearchHost) {}

	/** "searching /x/ 40%" while a scan runs. */
	busy(): string | undefined {
		const {scan} = this;
		const search = this.host.state.search;
		return scan && search ? `searching /${search.text}/ ${Math.floor(scan.progress * 100)}%` : undefined;
	}

	get running(): boolean {
		return this.scan !== undefined;
	}

	cancel(): void {
		this.scan = undefined;
	}

	/** `/` pressed. */
	open(): void {
		const s = this.host.state;
		s.prompt = {kind: 'search', text: ''};
		this.origin = {following: s.following, anchorSeq: s.anchorSeq, pausedAtSeq: s.pausedAtSeq, search: s.search, markSeq: s.markSeq};
	}

	/** The prompt's text changed. */
	input(text: string): void {
		const s = this.host.state;
		const o = this.origin;
		if (o) {
			s.following = o.following;
			s.anchorSeq = o.anchorSeq;
			s.pausedAtSeq = o.pausedAtSeq;
		}

		const matcher = compileSearch(text);
		s.search = matcher ? {text, matcher} : undefined;
		s.markSeq = undefined;
		this.scan = undefined;
		if (s.search) {
			this.start('older', o && !o.following ? o.anchorSeq + 1 : this.host.lastSeq() + 1);
		}
	}

	/** Enter: keep the search (a scan still running goes on). */
	accept(): void {
		this.host.state.prompt = undefined;
		this.origin = undefined;
	}

	/** Escape in the prompt: back to where the search began. */
	abandon(): void {
		const s = this.host.state;
		if (this.origin) {
			Object.assign(s, this.origin);
		}

		this.origin = undefined;
		this.scan = undefined;
		s.prompt = undefined;
	}

	/** Escape outside the prompt: no search, no highlight. */
	clear(): void {
		const s = this.host.state;
		this.scan = undefined;
		if (s.search) {
			s.search = undefined;
			s.markSeq = undefined;
		}
	}

	/** n / N. */
	step(direction: 'older' | 'newer'): void {
		const s = this.host.state;
		if (!s.search) {
			this.host.notify('no search: press / first');
			return;
		}

		this.start(direction, s.markSeq ?? (s.following ? this.host.lastSeq() + 1 : s.anchorSeq + 1));
	}

	private start(direction: 'older' | 'newer', from: number): void {
		const s = this.host.state;
		const {matcher} = s.search!;
		const passes = this.host.passes();
		this.scan = new SearchScan(this.host.store, e => !e.marker && passes(e) && matcher.test(e.message), from, direction);
		this.host.wake();
	}

	/** Scan until `deadline`; true when there is more to do. Applies the result when the scan ends. */
	work(deadline: number): {more: boolean; done: boolean} {
		const {scan} = this;
		if (!scan) {
			return {more: false, done: false};
		}

		const result: ScanResult = scan.step(deadline);
		if (result === 'more') {
			return {more: true, done: false};
		}

		this.scan = undefined;
		const s = this.host.state;
		if (result === 'found') {
			s.markSeq = scan.found!.seq;
			this.host.center(scan.found!.seq);
		} else if (s.search) {
			this.host.notify(scan.direction === 'older' ? `no older match for /${s.search.text}/` : `no newer match for /${s.search.text}/`);
		}

		return {more: false, done: true};
	}
}
