import {type AlertNotice} from '../core/alert-notice.js';
import {type LogEvent} from '../core/event.js';
import {compileFilter} from '../core/filter.js';
import {KeyActions} from './actions.js';
import {showNotice} from './alerts.js';
import {FrameLoop} from './frames.js';
import {type TailHistory} from './history-tail.js';
import {type Aggregates, type HistoryWindow, liveAggregates} from './history-window.js';
import {uiHistory} from './history.js';
import {type Layout, computeLayout} from './layout.js';
import {tailRowCount} from './event-rows.js';
import {type TailPosition, center, clampAnchor} from './navigation.js';
import {type Rows} from './scan.js';
import {Search} from './search.js';
import {Slices} from './slices.js';
import {type UiDeps, type UiModel, type UiState, initialState} from './state.js';
import {TailFilter} from './tail-filter.js';
import {Toggles} from './toggles.js';
import {type View, buildView} from './view.js';

// Everything the UI knows and does, outside React: the UI state and what each
// key does. React only shows `View`s. This holds the parts together and
// answers what a frame reads. The parts:
//   state.ts       the state, and what a frame reads (UiModel)
//   frames.ts      when a frame is worth drawing
//   actions.ts     what each key does
//   navigation.ts  following, pausing and scrolling the tail
//   search.ts      `/`, n, N
//   tail-filter.ts the tail's filter (`f`, the toggles) and the held events that pass it
//   alerts.ts      the alerts list (A), silences (m), the banner and the bell
//   scan.ts        the slow work over the held events (filter, search)
//   slices.ts      when the slow work runs: in slices, between keys and frames
//   history*.ts    the history: the tail's older pages, the search past memory,
//                  the time window of the errors and stats
//   view*.ts       the frame's text
//
// Slow work (a new filter over 50,000 held events, a search) runs in slices
// with the event loop free in between, so keys, signals and frames always
// get their turn; the status bar shows its progress.

export type {Prompt, UiDeps, UiState} from './state.js';

export class UiController implements UiModel {
	readonly state: UiState;
	readonly toggles: Toggles;
	readonly deps: UiDeps;
	private readonly now: () => number;
	/** Bumped by every state change; part of the frame signature. */
	private version = 0;
	private readonly frames: FrameLoop;
	private readonly search: Search;
	private readonly tailFilter: TailFilter;
	private readonly slices: Slices;
	private readonly actions: KeyActions;
	private note = '';
	/** Present when there is a history. */
	private readonly history: TailHistory | undefined;
	private readonly window: HistoryWindow | undefined;

	constructor(deps: UiDeps) {
		this.deps = deps;
		this.now = deps.now ?? Date.now;
		const spec = structuredClone(deps.filter);
		const filter = compileFilter(spec);
		this.state = initialState(spec, filter);
		this.tailFilter = new TailFilter({
			state: this.state,
			store: deps.store,
			lastSeq: () => this.deps.bus.lastSeq,
			reset: () => {
				this.search.cancel();
				this.history?.reset();
				this.wake();
			},
			changed: filter => {
				this.deps.onFilterChange?.(filter);
			},
		});
		this.toggles = new Toggles(deps.sources, deps.stats);
		this.frames = new FrameLoop({signature: now => this.signature(now), build: now => this.build(now)}, this.now);
		this.slices = new Slices(deadline => this.slice(deadline));
		const history = deps.historyReader ? uiHistory({
			state: this.state,
			store: deps.store,
			bus: deps.bus,
			reader: deps.historyReader,
			runStart: deps.runStart ?? this.now(),
			pageSize: deps.historyPage,
			now: this.now,
			filter: () => this.state.filter,
			found: seq => {
				this.state.markSeq = seq;
				center(this.position(), seq);
				this.changed();
			},
			changed: () => {
				this.changed();
			},
			notify: text => {
				this.notify(text);
			},
		}) : undefined;
		this.history = history?.tail;
		this.window = history?.window;
		this.search = new Search({
			state: this.state,
			memory: () => history?.tail.memory() ?? deps.store,
			history: history?.search,
			lastSeq: () => this.deps.bus.lastSeq,
			passes: () => this.tailFilter.passes(),
			center: seq => {
				center(this.position(), seq);
			},
			notify: text => {
				this.notify(text);
			},
			wake: () => {
				this.wake();
			},
		});
		this.actions = new KeyActions({
			state: this.state,
			deps,
			toggles: this.toggles,
			search: this.search,
			tailFilter: this.tailFilter,
			history: this.history,
			window: this.window,
			now: this.now,
			layout: () => this.layout(),
			position: () => this.position(),
			aggregates: () => this.aggregates(),
			notify: text => {
				this.notify(text);
			},
			changed: () => {
				this.changed();
			},
		});
	}

	get metrics(): FrameLoop['metrics'] {
		return this.frames.metrics;
	}

	// ---- frames ----

	subscribe = (listener: () => void): (() => void) => this.frames.subscribe(listener);

	getView = (): View | undefined => this.frames.getView();

	/** Something outside the store changed (upstream toggles, diagnostics): draw on the next tick. */
	invalidate(): void {
		this.version++;
	}

	setSize(columns: number, rows: number): void {
		const c = columns > 0 ? columns : 80;
		const r = rows > 0 ? rows : 24;
		if (c !== this.state.columns || r !== this.state.rows) {
			this.state.columns = c;
			this.state.rows = r;
			this.changed();
		}
	}

	start(): void {
		this.slices.start();
		this.frames.start();
	}

	/** Fill the tail, the error list and the statistics from the history (before the sources start). */
	async startHistory(): Promise<void> {
		await this.history?.start(events => {
			this.deps.errors.add(events);
			this.deps.stats.add(events);
		});
	}

	stop(): void {
		this.slices.stop();
		this.search.cancel();
		this.window?.stop();
		this.frames.stop();
	}

	noteRender(ms: number): void {
		this.frames.noteRender(ms);
	}

	noteBytes(n: number): void {
		this.frames.noteBytes(n);
	}

	/** Build and publish a frame if anything on screen may have changed. Returns true when it published. */
	frame(): boolean {
		return this.frames.frame();
	}

	private changed(): void {
		this.version++;
		this.frames.request();
	}

	private healthSignature(): string {
		let s = '';
		for (const h of this.deps.bus.health()) {
			s += `${h.id}:${h.state}:${h.reason ?? ''}:${h.retryAt ?? ''}:${h.drops}:${h.paused ? 1 : 0}:${h.parseErrors}`;
			// A connect source: when the remote's health was last read.
			s += `:${(h.details['remote'] as {at?: number} | undefined)?.at ?? ''}|`;
		}

		const history = this.deps.history?.status();
		if (history) {
			s += `history:${history.state}:${history.reason ?? ''}:${history.dropped}`;
		}

		return s;
	}

	private signature(now: number): string {
		const {store, errors, stats} = this.deps;
		if (this.tailFilter.pending) {
			this.wake(); // new events to sort through
		}

		return `${store.version}:${errors.version}:${stats.version}:${this.version}:${this.aggregates().version}:${this.deps.alerts?.version() ?? ''}:${Math.floor(now / 1000)}:${this.healthSignature()}`;
	}

	private build(now: number): View {
		if (this.state.notice && this.state.notice.until <= now) {
			this.state.notice = undefined;
		}

		this.history?.prune();

		if (this.state.banner && this.state.banner.until <= now) {
			this.state.banner = undefined;
		}

		this.note = clampAnchor(this.position()) ? 'paused lines left the buffer' : '';
		if (this.history) {
			const height = this.tailRows();
			this.history.check(this.tailEvents(height), height, this.rows());
		}

		return buildView(this, now);
	}

	// ---- slow work, in slices ----

	private wake(): void {
		this.slices.wake();
	}

	/** One slice of the search and of sorting the held events through a new filter; true when there is more. */
	private slice(deadline: number): boolean {
		const search = this.search.work(deadline);
		const filtering = this.tailFilter.work(deadline);

		if (search.done) {
			this.changed();
		} else {
			this.version++; // progress shows on the next tick
		}

		return search.more || filtering;
	}

	// ---- what a frame reads (UiModel) ----

	layout(): Layout {
		return computeLayout(this.state.columns, this.state.rows, this.state.hidden, this.state.maximized);
	}

	/** Rows of the tail pane (without its title). */
	tailRows(): number {
		const l = this.layout();
		return Math.max(1, (l.tail?.height ?? l.bodyHeight) - 1);
	}

	private rows(): Rows {
		const live = this.tailFilter.rows();
		return this.history ? this.history.rows(live) : live;
	}

	private position(): TailPosition {
		return {state: this.state, store: this.deps.store, rows: this.rows(), lastSeq: this.deps.bus.lastSeq, height: this.tailRows(), floor: this.history?.floor(), rowsOf: tailRowCount};
	}

	tailEvents(count: number): LogEvent[] {
		const s = this.state;
		return s.following ? this.rows().tail(count) : this.rows().tail(count, s.anchorSeq + 1);
	}

	tailBelow(count: number): LogEvent[] {
		const s = this.state;
		// Not those that came after the pause: the tail shows them once it follows again.
		return s.following ? [] : this.rows().after(s.anchorSeq, count).filter(e => e.seq <= s.pausedAtSeq);
	}

	tailNote(): string {
		return this.note;
	}

	busy(): string | undefined {
		return this.search.busy() || this.tailFilter.busy() || this.history?.busy();
	}

	aggregates(): Aggregates {
		const {errors, stats} = this.deps;
		return this.window ? this.window.aggregates({errors, stats}) : liveAggregates({errors, stats}, 0);
	}

	// ---- keys ----

	/** One keypress, named as in keybindings.ts; `text` is the typed character for prompts. */
	key(name: string, text = ''): void {
		this.actions.key(name, text);
	}

	private notify(text: string, ms = 3000): void {
		this.state.notice = {text, until: this.now() + ms};
	}

	// ---- alerts ----

	/** A notice for the terminal: the banner, and the bell when something starts firing. */
	alertNotice(notice: AlertNotice): void {
		showNotice(this.state, notice, this.now(), this.deps.bell);
		this.changed();
	}
}
