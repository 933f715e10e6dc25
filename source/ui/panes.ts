import {type Action} from './keybindings.js';
import {type PaneId, paneIds} from './layout.js';
import {type Move} from './navigation.js';
import {type UiState} from './state.js';

// Keys that only change how the panes are shown: focus, maximise, hide, wrap,
// help, the toggles section, sort orders, and the selected row of a list.
// Plain changes to the state; the controller redraws after them.

/** Apply `action` if it is one of these; true when it was. `notify` shows a short message. */
export function paneAction(s: UiState, action: Action, notify: (text: string) => void): boolean {
	switch (action) {
		case 'help': {
			s.help = !s.help;
			return true;
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

			return true;
		}

		case 'maximize': {
			s.maximized = s.maximized ? undefined : s.focus;
			return true;
		}

		case 'hide-pane': {
			if (s.focus === 'tail') {
				notify('the tail cannot be hidden; z maximises it');
			} else {
				s.hidden.add(s.focus);
				s.maximized = undefined;
				s.focus = 'tail';
			}

			return true;
		}

		case 'show-panes': {
			s.hidden.clear();
			s.maximized = undefined;
			return true;
		}

		case 'wrap': {
			s.wrap = !s.wrap;
			return true;
		}

		case 'section-servers':
		case 'section-types':
		case 'section-services':
		case 'section-levels':
		case 'section-sources': {
			s.section = action.slice('section-'.length) as UiState['section'];
			s.selected.toggles = 0;
			s.hidden.delete('toggles');
			s.focus = 'toggles';
			if (s.maximized) {
				s.maximized = 'toggles';
			}

			return true;
		}

		case 'stats-sort': {
			s.statsSort = s.statsSort === 'rate' ? 'errors' : (s.statsSort === 'errors' ? 'name' : 'rate');
			return true;
		}

		case 'stats-by-host': {
			s.statsByHost = !s.statsByHost;
			s.selected.stats = 0;
			return true;
		}

		case 'errors-sort': {
			s.errorsSort = s.errorsSort === 'recent' ? 'count' : 'recent';
			s.selected.errors = 0;
			return true;
		}

		default: {
			return false;
		}
	}
}

/** Move the selected row of a list pane of `length` rows, shown `height` rows high. */
export function moveSelection(s: UiState, pane: Exclude<PaneId, 'tail'>, action: Move, length: number, height: number): void {
	const page = Math.max(1, height - 3);
	const i = s.selected[pane];
	const next = {up: i - 1, down: i + 1, 'page-up': i - page, 'page-down': i + page, top: 0, bottom: length - 1}[action];
	s.selected[pane] = Math.max(0, Math.min(length - 1, next));
}
