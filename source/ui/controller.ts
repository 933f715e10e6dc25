import {type Bus} from '../core/bus.js';
import {type ErrorGroups, type ErrorSort} from '../core/errors.js';
import {type LogEvent} from '../core/event.js';
import {type Filter, type FilterSpec, FilterError, compileFilter, describeFilter, emptySpec, parseFilterExpression} from '../core/filter.js';
import {type UserRegex, compileLiteralSearch, compileUserRegex} from '../core/regex.js';
import {type ServiceStats, type StatsSort} from '../core/stats.js';
import {type Store} from '../core/store.js';
import {type Context, lookup} from './keybindings.js';
import {type PaneId, computeLayout, paneIds} from './layout.js';
import {type Section, type ToggleSource, Toggles, sections} from './toggles.js';
import {type View, buildView} from './view.js';

// Everything the UI knows and does, outside React: the UI state, what each key
// does, and when a new frame is worth drawing. React only shows `View`s.
//
// Frames: a timer asks for a frame between every 50 ms and every 1 s. The
// interval grows when frames are expensive (time spent building and drawing)
// or when they write many bytes (SSH links), and shrinks again when they are
// cheap. A frame is skipped without any work when nothing it shows can have
// changed (store, aggregates, health, UI state, size, the clock's second), and
// skipped after building when its text equals the last one, so an idle screen
// writes nothing. Keys draw at once.

export type UiDeps = {
	bus: Bus;
	store: Store;
	errors: ErrorGroups;
	stats: ServiceStats;
	sources: readonly ToggleSource[];
	/** The filter the run started with (flags and config). */
	filter: FilterSpec;
	colorLevel: 0 | 1 | 2 | 3;
	/** Called when the filter changes, e.g. so the piped stream follows it. */
	onFilterChange?: ((filter: Filter) => void) | undefined;
	onQuit?: ((reason: 'quit' | 'interrupt') => void) | undefined;
	now?: () => number;
};

export type Prompt = {kind: 'search' | 'filter'; text: string; error?: string | undefined};

export type UiState = {
	columns: number;
	rows: number;
	focus: PaneId;
	hidden: Set<PaneId>;
	maximized: PaneId | undefined;
	/** Newest line at the bottom, moving. False when paused or scrolled. */
	following: boolean;
	/** Sequence number of the bottom row while not following. */
	anchorSeq: number;
	/** The bus's last sequence number when following stopped: the counter of what arrived since. */
	pausedAtSeq: number;
	wrap: boolean;
	prompt: Prompt | undefined;
	/** The active search: highlighted in the tail, n/N move between matches. */
	search: {text: string; re: UserRegex} | undefined;
	/** The current search match or jump target, marked in the tail. */
	markSeq: number | undefined;
	/** Text typed with `f` (the flags' filter is shown in it at start). */
	filterText: string;
	spec: FilterSpec;
	filter: Filter;
	help: boolean;
	detail: LogEvent | undefined;
	section: Section;
	selected: Record<'errors' | 'stats' | 'toggles', number>;
	statsSort: StatsSort;
	statsByHost: boolean;
	errorsSort: ErrorSort;
	notice: {text: string; until: number} | undefined;
};

/** The `f` prompt text that gives this spec (the hidden lists are not part of it). */
export function specToExpression(spec: FilterSpec): string {
	const parts: string[] = [...spec.grep, ...spec.exclude.map(x => `!${x}`)];
	if (spec.minLevel) {
		parts.push(`level>=${spec.minLevel.toLowerCase()}`);
	}

	for (const [key, values] of [['service', spec.services], ['host', spec.hosts], ['type', spec.types], ['source', spec.sources]] as const) {
		for (const v of values) {
			parts.push(`${key}=${v}`);
		}
	}

	return parts.join(' ');
}

function withHidden(spec: FilterSpec, from: FilterSpec): FilterSpec {
	return {
		...spec,
		hideHosts: from.hideHosts,
		hideTypes: from.hideTypes,
		hideServices: from.hideServices,
		hideLevels: from.hideLevels,
		hideSources: from.hideSources,
	};
}

const minIntervalMs = 50;
const maxIntervalMs = 1000;
/** Terminal output the adaptive timer aims to stay under (bytes/s), for slow links. */
const byteBudget = 100_000;

export class UiController {
	readonly state: UiState;
	readonly toggles: Toggles;
	private readonly deps: UiDeps;
	private readonly now: () => number;
	/** Bumped by every state change; part of the frame signature. */
	private version = 0;
	private view: View | undefined;
	private viewText = '';
	private signature = '';
	private readonly listeners = new Set<() => void>();
	private timer: NodeJS.Timeout | undefined;
	private immediate: NodeJS.Immediate | undefined;
	private running = false;
	/** Smoothed cost of a frame (ms) and its output (bytes). */
	private frameCost = 0;
	private frameBytes = 0;
	private bytesSinceFrame = 0;
	/** Counters for the benchmark and --debug. */
	readonly metrics = {frames: 0, skipped: 0, built: 0, intervalMs: minIntervalMs};

	constructor(deps: UiDeps) {
		this.deps = deps;
		this.now = deps.now ?? Date.now;
		const spec = structuredClone(deps.filter);
		this.state = {
			columns: 80,
			rows: 24,
			focus: 'tail',
			hidden: new Set(),
			maximized: undefined,
			following: true,
			anchorSeq: 0,
			pausedAtSeq: 0,
			wrap: false,
			prompt: undefined,
			search: undefined,
			markSeq: undefined,
			filterText: specToExpression(spec),
			spec,
			filter: compileFilter(spec),
			help: false,
			detail: undefined,
			section: 'types',
			selected: {errors: 0, stats: 0, toggles: 0},
			statsSort: 'rate',
			statsByHost: false,
			errorsSort: 'recent',
			notice: undefined,
		};
		this.toggles = new Toggles(deps.sources, deps.stats);
	}

	get filter(): Filter {
		return this.state.filter;
	}

	// ---- frames ----

	/** For useSyncExternalStore. */
	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	getView = (): View | undefined => this.view;

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
		if (this.running) {
			return;
		}

		this.running = true;
		this.frame();
		this.schedule();
	}

	stop(): void {
		this.running = false;
		clearTimeout(this.timer);
		if (this.immediate) {
			clearImmediate(this.immediate);
		}
	}

	/** Ink's own measure of turning the tree into output (onRender). */
	noteRender(ms: number): void {
		this.frameCost = Math.max(this.frameCost, ms);
	}

	/** Bytes written to the terminal (counted by the runner). */
	noteBytes(n: number): void {
		this.bytesSinceFrame += n;
	}

	private schedule(): void {
		if (!this.running) {
			return;
		}

		clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			this.frame();
			this.schedule();
		}, this.metrics.intervalMs);
	}

	/** Draw soon (after a key or resize), without waiting for the timer. */
	private requestFrame(): void {
		if (!this.running || this.immediate) {
			return;
		}

		this.immediate = setImmediate(() => {
			this.immediate = undefined;
			this.frame();
		});
	}

	private changed(): void {
		this.version++;
		this.requestFrame();
	}

	private healthSignature(): string {
		let s = '';
		for (const h of this.deps.bus.health()) {
			s += `${h.id}:${h.state}:${h.reason ?? ''}:${h.retryAt ?? ''}:${h.drops}:${h.paused ? 1 : 0}:${h.parseErrors}|`;
		}

		return s;
	}

	/** Build and publish a frame if anything on screen may have changed. Returns true when it published. */
	frame(): boolean {
		const now = this.now();
		const {store, errors, stats} = this.deps;
		const signature = `${store.version}:${errors.version}:${stats.version}:${this.version}:${Math.floor(now / 1000)}:${this.healthSignature()}`;
		if (signature === this.signature) {
			this.metrics.skipped++;
			return false;
		}

		this.signature = signature;
		const start = performance.now();
		if (this.state.notice && this.state.notice.until <= now) {
			this.state.notice = undefined;
		}

		const view = buildView(this, now);
		this.metrics.built++;
		if (view.text === this.viewText) {
			this.adapt(performance.now() - start);
			return false;
		}

		this.view = view;
		this.viewText = view.text;
		this.bytesSinceFrame = 0;
		for (const l of this.listeners) {
			l();
		}

		this.metrics.frames++;
		// React commits in a microtask queued by the listener above; this one runs after it,
		// so the cost covers building, React, Yoga layout and Ink's output.
		queueMicrotask(() => {
			this.adapt(performance.now() - start, this.bytesSinceFrame);
		});
		return true;
	}

	private adapt(costMs: number, bytes?: number): void {
		// Smoothed, so one slow frame (a GC pause) does not stall the screen for a second.
		this.frameCost = (this.frameCost * 0.7) + (costMs * 0.3);
		if (bytes !== undefined) {
			this.frameBytes = (this.frameBytes * 0.7) + (bytes * 0.3);
		}

		// Spend at most about a quarter of the time drawing, and stay within the byte budget.
		const byCost = this.frameCost * 4;
		const byBytes = (this.frameBytes / byteBudget) * 1000;
		this.metrics.intervalMs = Math.round(Math.min(maxIntervalMs, Math.max(minIntervalMs, byCost, byBytes)));
	}

	// ---- derived data for the view ----

	get dependencies(): UiDeps {
		return this.deps;
	}

	layout() {
		return computeLayout(this.state.columns, this.state.rows, this.state.hidden, this.state.maximized);
	}

	/** Rows of the tail pane (without its title). */
	tailRows(): number {
		const l = this.layout();
		return Math.max(1, (l.tail?.height ?? l.bodyHeight) - 1);
	}

	private oldestSeq(): number {
		return this.deps.store.after(0, 1)[0]?.seq ?? 0;
	}

	// ---- keys ----

	/** One keypress, named as in keybindings.ts; `text` is the typed character for prompts. */
	key(name: string, text = ''): void {
		const s = this.state;
		const context: Context = s.help || s.detail ? 'overlay' : s.focus;
		const binding = lookup(name, context, s.prompt !== undefined);
		if (s.prompt) {
			if (binding) {
				this.act(binding.action, name);
			} else if (text && !name.startsWith('ctrl+') && !/^(?:up|down|pageup|pagedown|home|end|tab|shift\+tab|escape|enter)$/.test(name)) {
				this.promptInput(s.prompt.text + (name === 'space' ? ' ' : text));
			}

			return;
		}

		if ((s.help || s.detail) && binding?.action !== 'quit' && binding?.action !== 'interrupt') {
			if (binding?.action === 'help' || binding?.action === 'close' || name === 'enter') {
				s.help = false;
				s.detail = undefined;
				this.changed();
			}

			return;
		}

		if (binding) {
			this.act(binding.action, name);
		}
	}

	private act(action: string, name: string): void {
		const s = this.state;
		switch (action) {
			case 'quit':
			case 'interrupt': {
				this.deps.onQuit?.(action === 'quit' ? 'quit' : 'interrupt');
				return;
			}

			case 'help': {
				s.help = !s.help;
				break;
			}

			case 'close': {
				if (s.search) {
					s.search = undefined;
					s.markSeq = undefined;
				}

				s.help = false;
				s.detail = undefined;
				break;
			}

			case 'focus-next':
			case 'focus-prev': {
				const visible = paneIds.filter(p => !s.hidden.has(p));
				const i = visible.indexOf(s.focus);
				const step = action === 'focus-next' ? 1 : visible.length - 1;
				s.focus = visible[(i + step) % visible.length] ?? 'tail';
				if (s.maximized) {
					s.maximized = s.focus;
				}

				break;
			}

			case 'maximize': {
				s.maximized = s.maximized ? undefined : s.focus;
				break;
			}

			case 'hide-pane': {
				if (s.focus !== 'tail') {
					s.hidden.add(s.focus);
					s.maximized = undefined;
					s.focus = 'tail';
				} else {
					this.notify('the tail cannot be hidden; z maximises it');
				}

				break;
			}

			case 'show-panes': {
				s.hidden.clear();
				s.maximized = undefined;
				break;
			}

			case 'pause': {
				if (s.following) {
					this.stopFollowing();
				} else {
					this.follow();
				}

				break;
			}

			case 'up':
			case 'down':
			case 'page-up':
			case 'page-down':
			case 'top':
			case 'bottom': {
				this.move(action);
				break;
			}

			case 'wrap': {
				s.wrap = !s.wrap;
				break;
			}

			case 'search': {
				s.prompt = {kind: 'search', text: ''};
				this.searchOrigin = {following: s.following, anchorSeq: s.anchorSeq, pausedAtSeq: s.pausedAtSeq, search: s.search, markSeq: s.markSeq};
				break;
			}

			case 'search-older':
			case 'search-newer': {
				this.searchStep(action === 'search-older' ? 'older' : 'newer');
				break;
			}

			case 'filter': {
				s.prompt = {kind: 'filter', text: s.filterText};
				break;
			}

			case 'clear-filter': {
				this.applyFilter('');
				break;
			}

			case 'open': {
				this.openError();
				break;
			}

			case 'section-servers':
			case 'section-types':
			case 'section-services':
			case 'section-levels':
			case 'section-sources': {
				s.section = action.slice('section-'.length) as Section;
				s.selected.toggles = 0;
				s.hidden.delete('toggles');
				s.focus = 'toggles';
				if (s.maximized) {
					s.maximized = 'toggles';
				}

				break;
			}

			case 'toggle-row': {
				this.toggleRow(name);
				break;
			}

			case 'toggle-all': {
				const rows = this.toggles.rows(s.section, s.spec);
				const on = rows.some(r => r.state !== 'on');
				this.setLocalSpec(this.toggles.set(s.section, rows, on, s.spec));
				break;
			}

			case 'stats-sort': {
				s.statsSort = s.statsSort === 'rate' ? 'errors' : (s.statsSort === 'errors' ? 'name' : 'rate');
				break;
			}

			case 'stats-by-host': {
				s.statsByHost = !s.statsByHost;
				s.selected.stats = 0;
				break;
			}

			case 'errors-sort': {
				s.errorsSort = s.errorsSort === 'recent' ? 'count' : 'recent';
				s.selected.errors = 0;
				break;
			}

			case 'prompt-accept': {
				this.promptAccept();
				break;
			}

			case 'prompt-cancel': {
				this.promptCancel();
				break;
			}

			case 'prompt-erase': {
				if (s.prompt) {
					this.promptInput(s.prompt.text.slice(0, -1));
				}

				break;
			}

			case 'prompt-clear': {
				this.promptInput('');
				break;
			}

			default: {
				break;
			}
		}

		this.changed();
	}

	private notify(text: string, ms = 3000): void {
		this.state.notice = {text, until: this.now() + ms};
	}

	// ---- tail position ----

	private stopFollowing(): void {
		const s = this.state;
		if (!s.following) {
			return;
		}

		s.following = false;
		s.anchorSeq = this.deps.store.tail(1, s.filter)[0]?.seq ?? this.deps.bus.lastSeq;
		s.pausedAtSeq = this.deps.bus.lastSeq;
	}

	private follow(): void {
		const s = this.state;
		s.following = true;
		s.markSeq = s.search ? s.markSeq : undefined;
	}

	/** Put `seq` in the middle of the tail, so the lines around it show. */
	private center(seq: number): void {
		const s = this.state;
		this.stopFollowing();
		const after = this.deps.store.after(seq, Math.floor(this.tailRows() / 2), s.filter);
		s.anchorSeq = after.at(-1)?.seq ?? seq;
	}

	private move(action: 'up' | 'down' | 'page-up' | 'page-down' | 'top' | 'bottom'): void {
		const s = this.state;
		if (s.focus !== 'tail') {
			this.moveSelection(s.focus, action);
			return;
		}

		const {store} = this.deps;
		const page = Math.max(1, this.tailRows() - 1);
		switch (action) {
			case 'bottom': {
				this.follow();
				return;
			}

			case 'top': {
				this.stopFollowing();
				const first = store.after(0, this.tailRows(), s.filter);
				s.anchorSeq = first.at(-1)?.seq ?? s.anchorSeq;
				return;
			}

			case 'up':
			case 'page-up': {
				this.stopFollowing();
				this.clampAnchor();
				const n = action === 'up' ? 1 : page;
				const before = store.tail(n, s.filter, s.anchorSeq);
				if (before.length === 0) {
					return;
				}

				s.anchorSeq = before[0]!.seq;
				// Keep a full screen: the bottom row stays at or below the first screenful.
				const rows = this.tailRows();
				if (store.tail(rows, s.filter, s.anchorSeq + 1).length < rows) {
					s.anchorSeq = store.after(0, rows, s.filter).at(-1)?.seq ?? s.anchorSeq;
				}

				return;
			}

			case 'down':
			case 'page-down': {
				if (s.following) {
					return;
				}

				this.clampAnchor();
				const n = action === 'down' ? 1 : page;
				const next = store.after(s.anchorSeq, n, s.filter);
				if (next.length < n) {
					// Scrolled past the newest line: follow again.
					this.follow();
					return;
				}

				s.anchorSeq = next.at(-1)!.seq;
				return;
			}
		}
	}

	/** While paused, the anchored line may have left the buffer: hold on to the oldest screenful. */
	clampAnchor(): boolean {
		const s = this.state;
		if (s.following || s.anchorSeq >= this.oldestSeq()) {
			return false;
		}

		s.anchorSeq = this.deps.store.after(0, this.tailRows(), s.filter).at(-1)?.seq ?? s.anchorSeq;
		return true;
	}

	private listLength(pane: 'errors' | 'stats' | 'toggles'): number {
		const s = this.state;
		switch (pane) {
			case 'errors': {
				return this.deps.errors.size;
			}

			case 'stats': {
				return this.deps.stats.rows({byHost: s.statsByHost}).length;
			}

			case 'toggles': {
				return this.toggles.rows(s.section, s.spec).length;
			}
		}
	}

	private moveSelection(pane: 'errors' | 'stats' | 'toggles', action: string): void {
		const s = this.state;
		const n = this.listLength(pane);
		const box = this.layout().others.find(b => b.id === pane);
		const page = Math.max(1, (box?.height ?? 10) - 3);
		let i = s.selected[pane];
		switch (action) {
			case 'up': { i--; break; }
			case 'down': { i++; break; }
			case 'page-up': { i -= page; break; }
			case 'page-down': { i += page; break; }
			case 'top': { i = 0; break; }
			case 'bottom': { i = n - 1; break; }
			default: { break; }
		}

		s.selected[pane] = Math.max(0, Math.min(n - 1, i));
	}

	// ---- search ----

	private searchOrigin: Pick<UiState, 'following' | 'anchorSeq' | 'pausedAtSeq' | 'search' | 'markSeq'> | undefined;

	private searchFilter(re: UserRegex): Filter {
		const view = this.state.filter;
		return {spec: view.spec, all: false, test: e => !e.marker && view.test(e) && re.test(e.message)};
	}

	private compileSearch(text: string): UiState['search'] {
		if (text === '') {
			return undefined;
		}

		// Smart case: all lower case searches ignore case.
		const ci = text === text.toLowerCase() && !text.startsWith('(?i)');
		let re: UserRegex;
		try {
			re = compileUserRegex(ci ? `(?i)${text}` : text, 'search');
		} catch {
			// Half-typed regexes ("foo(") search for the literal text meanwhile.
			re = compileLiteralSearch(text, ci);
		}

		return {text, re};
	}

	private searchStep(direction: 'older' | 'newer', from?: number): boolean {
		const s = this.state;
		if (!s.search) {
			this.notify('no search: press / first');
			return false;
		}

		const {store} = this.deps;
		const filter = this.searchFilter(s.search.re);
		const start = from ?? s.markSeq ?? (s.following ? this.deps.bus.lastSeq + 1 : s.anchorSeq + 1);
		const hit = direction === 'older' ? store.tail(1, filter, start)[0] : store.after(start, 1, filter)[0];
		if (!hit) {
			this.notify(direction === 'older' ? `no older match for /${s.search.text}/` : `no newer match for /${s.search.text}/`);
			return false;
		}

		s.markSeq = hit.seq;
		this.center(hit.seq);
		return true;
	}

	// ---- prompts ----

	private promptInput(text: string): void {
		const s = this.state;
		if (!s.prompt) {
			return;
		}

		s.prompt = {...s.prompt, text, error: undefined};
		if (s.prompt.kind === 'search') {
			// Incremental: every keystroke searches again from where the search began.
			const o = this.searchOrigin;
			if (o) {
				s.following = o.following;
				s.anchorSeq = o.anchorSeq;
				s.pausedAtSeq = o.pausedAtSeq;
			}

			s.search = this.compileSearch(text);
			s.markSeq = undefined;
			if (s.search) {
				const from = o && !o.following ? o.anchorSeq + 1 : this.deps.bus.lastSeq + 1;
				this.searchStep('older', from);
			}
		}

		this.changed();
	}

	private promptAccept(): void {
		const s = this.state;
		const p = s.prompt;
		if (!p) {
			return;
		}

		if (p.kind === 'search') {
			s.prompt = undefined;
			this.searchOrigin = undefined;
			return;
		}

		this.applyFilter(p.text);
	}

	private promptCancel(): void {
		const s = this.state;
		if (s.prompt?.kind === 'search' && this.searchOrigin) {
			Object.assign(s, this.searchOrigin);
		}

		this.searchOrigin = undefined;
		s.prompt = undefined;
	}

	/** Apply `f` text; on a bad expression the prompt stays open with the reason. */
	private applyFilter(text: string): void {
		const s = this.state;
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
		this.setFilter(spec, filter);
	}

	private setLocalSpec(spec: FilterSpec): void {
		if (spec !== this.state.spec) {
			this.setFilter(spec, compileFilter(spec, {grep: 'filter', exclude: 'filter'}));
		}
	}

	private setFilter(spec: FilterSpec, filter: Filter): void {
		const s = this.state;
		s.spec = spec;
		s.filter = filter;
		if (!s.following) {
			// The anchor may be filtered out now; keep the position by sequence number.
			s.pausedAtSeq = Math.min(s.pausedAtSeq, this.deps.bus.lastSeq);
		}

		this.deps.onFilterChange?.(filter);
	}

	/** Short description of the active filter for the status bar. */
	describeFilter(): string {
		return describeFilter(this.state.spec);
	}

	// ---- errors and toggles ----

	private openError(): void {
		const s = this.state;
		const group = this.deps.errors.list(s.errorsSort)[s.selected.errors];
		if (!group) {
			return;
		}

		s.detail = group.latest;
		if (this.deps.store.get(group.latest.seq)) {
			s.markSeq = group.latest.seq;
			this.center(group.latest.seq);
		} else {
			this.notify('that line has left the tail buffer; shown in full only');
		}
	}

	/** First visible row of the toggles list (it scrolls to keep the selection in view). */
	togglesWindow(height: number): {start: number; rows: number} {
		const rows = Math.max(1, height);
		const sel = this.state.selected.toggles;
		const start = Math.max(0, sel - rows + 1);
		return {start, rows};
	}

	private toggleRow(name: string): void {
		const s = this.state;
		const rows = this.toggles.rows(s.section, s.spec);
		let index: number;
		if (name === 'enter' || name === 'space') {
			index = s.selected.toggles;
		} else {
			const box = this.layout().others.find(b => b.id === 'toggles');
			const {start} = this.togglesWindow((box?.height ?? 12) - 2);
			const n = name === '0' ? 9 : Number(name) - 1;
			index = start + n;
			s.selected.toggles = Math.min(index, Math.max(0, rows.length - 1));
		}

		const row = rows[index];
		if (!row) {
			this.notify(`no row ${name} in ${s.section}`);
			return;
		}

		this.setLocalSpec(this.toggles.set(s.section, [row], row.next, s.spec));
	}

	/** Sections in display order, for the panel's tab strip. */
	static readonly sections = sections;
}
