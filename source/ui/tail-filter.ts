import {type LogEvent} from '../core/event.js';
import {type Filter, type FilterSpec, FilterError, compileFilter, emptySpec, parseFilterExpression} from '../core/filter.js';
import {type Store} from '../core/store.js';
import {type Rows, FilteredEvents, allRows, passes} from './scan.js';
import {type UiState} from './state.js';

// The tail's filter: the text typed with `f` and the toggles' hidden lists,
// compiled into the state, and the held events that pass it. A new filter
// sorts the held events through again (scan.ts), a slice at a time.

export type TailFilterHost = {
	readonly state: UiState;
	readonly store: Store;
	lastSeq(): number;
	/** The filter changed: drop what was found through the old one, and start the slow work. */
	reset(): void;
	/** The new filter is set (e.g. so the piped stream follows it). */
	changed(filter: Filter): void;
};

export class TailFilter {
	/** The held events that pass the filter (none when it lets everything through). */
	private filtered: FilteredEvents | undefined;

	constructor(private readonly host: TailFilterHost) {
		const {filter} = host.state;
		this.filtered = filter.all ? undefined : new FilteredEvents(host.store, filter);
	}

	/** The held events the tail shows. */
	rows(): Rows {
		return this.filtered ?? allRows(this.host.store);
	}

	/** The filter as a test, through the sorted events once they are complete. */
	passes(): (e: LogEvent) => boolean {
		return passes(this.host.state.filter, this.filtered);
	}

	/** Events wait to be sorted through (held ones after a new filter, or new arrivals). */
	get pending(): boolean {
		return this.filtered?.pending ?? false;
	}

	/** Sort events through until `deadline`; true when there is more. */
	work(deadline: number): boolean {
		if (!this.filtered?.pending) {
			return false;
		}

		return performance.now() < deadline ? this.filtered.step(deadline) : true;
	}

	/** "filtering 40%" while the held events are sorted through. */
	busy(): string | undefined {
		const f = this.filtered;
		return f && !f.complete && f.progress < 1 ? `filtering ${Math.floor(f.progress * 100)}%` : undefined;
	}

	/** Apply `f` text; on a bad expression the prompt stays open with the reason. */
	apply(text: string): void {
		const s = this.host.state;
		let spec: FilterSpec;
		let filter: Filter;
		try {
			spec = withHidden(parseFilterExpression(text, emptySpec()), s.spec);
			filter = compileFilter(spec, {grep: 'filter', exclude: 'filter'});
		} catch (error) {
			if (error instanceof FilterError) {
				s.prompt = {kind: 'filter', text, error: error.message};
				return;
			}

			throw error;
		}

		s.prompt = undefined;
		s.filterText = text.trim();
		this.set(spec, filter);
	}

	/** A spec from the toggles (its hidden lists changed). */
	setLocal(spec: FilterSpec): void {
		if (spec !== this.host.state.spec) {
			this.set(spec, compileFilter(spec, {grep: 'filter', exclude: 'filter'}));
		}
	}

	private set(spec: FilterSpec, filter: Filter): void {
		const s = this.host.state;
		s.spec = spec;
		s.filter = filter;
		// The held events are sorted through again, in slices; history pages are read again through it.
		this.filtered = filter.all ? undefined : new FilteredEvents(this.host.store, filter);
		this.host.reset();
		if (!s.following) {
			// The anchor may be filtered out now; keep the position by sequence number.
			s.pausedAtSeq = Math.min(s.pausedAtSeq, this.host.lastSeq());
		}

		this.host.changed(filter);
	}
}

/** `spec` with the toggles' lists of `from` (hidden, or only these). */
function withHidden(spec: FilterSpec, from: FilterSpec): FilterSpec {
	return {
		...spec,
		hideHosts: from.hideHosts,
		hideTypes: from.hideTypes,
		hideServices: from.hideServices,
		hideLevels: from.hideLevels,
		hideSources: from.hideSources,
		onlyServices: from.onlyServices,
		onlyHosts: from.onlyHosts,
		onlyTypes: from.onlyTypes,
		onlySources: from.onlySources,
	};
}
