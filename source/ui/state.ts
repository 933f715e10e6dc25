import {type AlertsSnapshot} from '../core/alert-engine.js';
import {type AlertNotice} from '../core/alert-notice.js';
import {type Bus} from '../core/bus.js';
import {type ErrorGroups, type ErrorSort} from '../core/errors.js';
import {type LogEvent} from '../core/event.js';
import {type Filter, type FilterSpec} from '../core/filter.js';
import {type ServiceStats, type StatsSort} from '../core/stats.js';
import {type Store} from '../core/store.js';
import {type HistoryReader, type HistoryStatus} from '../history/types.js';
import {type Aggregates} from './history-window.js';
import {type Layout, type PaneId} from './layout.js';
import {type Matcher} from './matcher.js';
import {type Section, type ToggleSource, type Toggles} from './toggles.js';

// The UI's state and what the view reads of the controller. The view imports
// only this module's types, never the controller: controller -> view -> state.

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
	/** The on-disk history's state, when the history is on. */
	history?: {status(): HistoryStatus} | undefined;
	now?: () => number;
	/** The on-disk history's reader, when it is on: the tail, search, errors and stats reach into it. */
	historyReader?: HistoryReader | undefined;
	/** Receive time this run began (events before it are history). Default: when the UI is made. */
	runStart?: number | undefined;
	/** Events per page read from the history (default 1000). */
	historyPage?: number | undefined;
	/** The alert rules' state, when rules are configured. */
	alerts?: AlertsModel | undefined;
	/** Ring the terminal bell (unless --no-bell). */
	bell?: (() => void) | undefined;
};

/** What the UI reads of the alerts and may change: silences. */
export type AlertsModel = {
	snapshot(): AlertsSnapshot;
	/** Keep a rule's notices from its sinks until `until` (0: lift the silence). */
	silence(rule: string, until: number): boolean;
	/** Changes whenever a notice or silence does. */
	version(): number;
};

/** A row of the alerts list: a firing alert or a recent notice, each about one rule. */
export type AlertRow = {notice: AlertNotice; firing: boolean; silenced: boolean};

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
	search: {text: string; matcher: Matcher} | undefined;
	/** The current search match or jump target, marked in the tail. */
	markSeq: number | undefined;
	/** Text typed with `f` (the flags' filter is shown in it at start). */
	filterText: string;
	spec: FilterSpec;
	filter: Filter;
	help: boolean;
	detail: LogEvent | undefined;
	/** The alerts list (A) covers the panes. */
	alertsOpen: boolean;
	/** The latest alert notice, shown in the hint line for a while. */
	banner: {notice: AlertNotice; until: number} | undefined;
	section: Section;
	selected: Record<'errors' | 'stats' | 'toggles' | 'alerts', number>;
	statsSort: StatsSort;
	statsByHost: boolean;
	errorsSort: ErrorSort;
	notice: {text: string; until: number} | undefined;
};

/** What a frame is built from. */
export type UiModel = {
	readonly state: UiState;
	readonly deps: UiDeps;
	readonly toggles: Toggles;
	layout(): Layout;
	/** The tail's events: the newest `count` that pass the filter, or those ending at the anchor while paused. */
	tailEvents(count: number): LogEvent[];
	/** While paused, up to `count` events after the anchor held at the pause (their rows fill a screen of tall events); none while following. */
	tailBelow(count: number): LogEvent[];
	/** A note for the tail's title (e.g. paused lines left the buffer). */
	tailNote(): string;
	/** Work going on off the frame path (a search, a new filter over the held events), for the status bar. */
	busy(): string | undefined;
	/** What the errors and stats panes show: since start, or a window of the history. */
	aggregates(): Aggregates;
};

/** The state at start: the tail following, the filter the run started with. */
export function initialState(spec: FilterSpec, filter: Filter): UiState {
	return {
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
		filter,
		help: false,
		detail: undefined,
		alertsOpen: false,
		banner: undefined,
		section: 'types',
		selected: {errors: 0, stats: 0, toggles: 0, alerts: 0},
		statsSort: 'rate',
		statsByHost: false,
		errorsSort: 'recent',
		notice: undefined,
	};
}

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

/** The alerts list: what fires now (newest first), then the recent notices. */
export function alertRows(snapshot: AlertsSnapshot): AlertRow[] {
	return [
		...snapshot.firing.map(a => ({notice: a.last, firing: true, silenced: a.silenced})),
		...snapshot.recent.map(n => ({notice: n, firing: false, silenced: n.silenced})),
	];
}

/** First visible row of the toggles list (it scrolls to keep the selection in view). */
export function togglesWindow(selected: number, height: number): {start: number; rows: number} {
	const rows = Math.max(1, height);
	return {start: Math.max(0, selected - rows + 1), rows};
}
