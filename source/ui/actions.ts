import {moveAlertSelection, silenceSelected} from './alerts.js';
import {type TailHistory} from './history-tail.js';
import {type Aggregates, type HistoryWindow} from './history-window.js';
import {type Action, type Context, lookup} from './keybindings.js';
import {type Layout} from './layout.js';
import {type TailPosition, center, follow, moveTail, stopFollowing} from './navigation.js';
import {moveSelection, paneAction} from './panes.js';
import {type Search} from './search.js';
import {type UiDeps, type UiState, togglesWindow} from './state.js';
import {type TailFilter} from './tail-filter.js';
import {type Toggles} from './toggles.js';

// What each key does: keybindings.ts names a keypress's action in its context
// (a pane, the alerts list, an overlay, a prompt), and this carries it out on
// the state and the parts that own the rest (the search, the tail's filter,
// the history). The controller draws after each key.

export type KeyActionsHost = {
	readonly state: UiState;
	readonly deps: UiDeps;
	readonly toggles: Toggles;
	readonly search: Search;
	readonly tailFilter: TailFilter;
	/** Present when there is a history. */
	readonly history: TailHistory | undefined;
	readonly window: HistoryWindow | undefined;
	now(): number;
	layout(): Layout;
	/** The tail, to move through it. */
	position(): TailPosition;
	aggregates(): Aggregates;
	notify(text: string): void;
	/** Something to draw. */
	changed(): void;
};

export class KeyActions {
	constructor(private readonly host: KeyActionsHost) {}

	/** One keypress, named as in keybindings.ts; `text` is the typed character for prompts. */
	key(name: string, text = ''): void {
		const s = this.host.state;
		const context: Context = s.help || s.detail ? 'overlay' : (s.alertsOpen ? 'alerts' : s.focus);
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
				this.host.changed();
			}

			return;
		}

		if (binding) {
			this.act(binding.action, name);
		}
	}

	private act(action: Action, name: string): void {
		const s = this.host.state;
		if (paneAction(s, action, text => {
			this.host.notify(text);
		})) {
			this.host.changed();
			return;
		}

		switch (action) {
			case 'quit':
			case 'interrupt': {
				this.host.deps.onQuit?.(action === 'quit' ? 'quit' : 'interrupt');
				return;
			}

			case 'close': {
				this.host.search.clear();
				s.help = false;
				s.detail = undefined;
				s.alertsOpen = false;
				break;
			}

			case 'alerts': {
				if (this.host.deps.alerts) {
					s.alertsOpen = !s.alertsOpen;
					s.selected.alerts = 0;
				} else {
					this.host.notify('no alert rules: add them to the config\'s "alerts", or give --alert EXPR');
				}

				break;
			}

			case 'alert-silence': {
				silenceSelected(s, this.host.deps.alerts, this.host.now(), text => {
					this.host.notify(text);
				});
				break;
			}

			case 'pause': {
				if (s.following) {
					stopFollowing(this.host.position());
				} else {
					follow(s);
				}

				break;
			}

			case 'up':
			case 'down':
			case 'page-up':
			case 'page-down':
			case 'top':
			case 'bottom': {
				if (s.alertsOpen) {
					moveAlertSelection(s, this.host.deps.alerts, action, this.host.layout().bodyHeight);
				} else if (s.focus === 'tail') {
					moveTail(this.host.position(), action);
				} else {
					const box = this.host.layout().others.find(b => b.id === s.focus);
					moveSelection(s, s.focus, action, this.listLength(s.focus), box?.height ?? 10);
				}

				break;
			}

			case 'search': {
				this.host.search.open();
				break;
			}

			case 'search-older':
			case 'search-newer': {
				this.host.search.step(action === 'search-older' ? 'older' : 'newer');
				break;
			}

			case 'filter': {
				s.prompt = {kind: 'filter', text: s.filterText};
				break;
			}

			case 'clear-filter': {
				this.host.tailFilter.apply('');
				break;
			}

			case 'history-window': {
				this.host.notify(this.host.window ? `errors and stats: ${this.host.window.next()}` : 'no history: the time window reads it (see --history)');
				s.selected.errors = 0;
				s.selected.stats = 0;
				break;
			}

			case 'open': {
				this.openError();
				break;
			}

			case 'toggle-row': {
				this.toggleRow(name);
				break;
			}

			case 'toggle-all': {
				const rows = this.host.toggles.rows(s.section, s.spec);
				const on = rows.some(r => r.state !== 'on');
				this.host.tailFilter.setLocal(this.host.toggles.setAll(s.section, rows, on, s.spec));
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

		this.host.changed();
	}

	// ---- lists ----

	private listLength(pane: 'errors' | 'stats' | 'toggles'): number {
		const s = this.host.state;
		switch (pane) {
			case 'errors': {
				return this.host.aggregates().errors.size;
			}

			case 'stats': {
				return this.host.aggregates().stats({byHost: s.statsByHost, sort: s.statsSort, now: this.host.now()}).length;
			}

			case 'toggles': {
				return this.host.toggles.rows(s.section, s.spec).length;
			}
		}
	}

	// ---- prompts ----

	private promptInput(text: string): void {
		const s = this.host.state;
		if (!s.prompt) {
			return;
		}

		s.prompt = {...s.prompt, text, error: undefined};
		if (s.prompt.kind === 'search') {
			this.host.search.input(text);
		}

		this.host.changed();
	}

	private promptAccept(): void {
		const p = this.host.state.prompt;
		if (p?.kind === 'search') {
			this.host.search.accept();
		} else if (p) {
			this.host.tailFilter.apply(p.text);
		}
	}

	private promptCancel(): void {
		if (this.host.state.prompt?.kind === 'search') {
			this.host.search.abandon();
		}

		this.host.state.prompt = undefined;
	}

	// ---- errors and toggles ----

	private openError(): void {
		const s = this.host.state;
		const group = this.host.aggregates().errors.list(s.errorsSort)[s.selected.errors];
		if (!group) {
			return;
		}

		const {latest} = group;
		s.detail = latest;
		// The same event, not one of an earlier run with the same seq; or its row read from the history.
		const at = this.host.deps.store.get(latest.seq) === latest ? latest.seq : this.host.history?.find(latest);
		if (at !== undefined) {
			s.markSeq = at;
			center(this.host.position(), at);
		} else {
			this.host.notify('that line has left the tail buffer; shown in full only');
		}
	}

	private toggleRow(name: string): void {
		const s = this.host.state;
		const rows = this.host.toggles.rows(s.section, s.spec);
		let index: number;
		if (name === 'enter' || name === 'space') {
			index = s.selected.toggles;
		} else {
			const box = this.host.layout().others.find(b => b.id === 'toggles');
			const {start} = togglesWindow(s.selected.toggles, (box?.height ?? 12) - 2);
			index = start + (name === '0' ? 9 : Number(name) - 1);
			s.selected.toggles = Math.min(index, Math.max(0, rows.length - 1));
		}

		const row = rows[index];
		if (!row) {
			this.host.notify(`no row ${name} in ${s.section}`);
			return;
		}

		this.host.tailFilter.setLocal(this.host.toggles.set(s.section, [row], row.next, s.spec));
	}
}
