// Every key the UI answers to, as data. The help overlay (`?`) lists this table;
// the controller looks keys up here and never hard-codes one elsewhere.
//
// Keys are named the way `keyName()` in input.ts spells them: a printable
// character as itself ("q", "G", "/"), or space, enter, escape, tab, shift+tab,
// up, down, pageup, pagedown, home, end, backspace, ctrl+<letter>.

export type Context = 'global' | 'tail' | 'errors' | 'stats' | 'toggles' | 'alerts' | 'prompt' | 'overlay';

export type Action =
	| 'quit' | 'interrupt' | 'help' | 'close'
	| 'focus-next' | 'focus-prev' | 'maximize' | 'hide-pane' | 'show-panes'
	| 'pause' | 'up' | 'down' | 'page-up' | 'page-down' | 'top' | 'bottom'
	| 'wrap' | 'search' | 'search-older' | 'search-newer' | 'filter' | 'clear-filter'
	| 'open'
	| 'section-servers' | 'section-types' | 'section-services' | 'section-levels' | 'section-sources'
	| 'toggle-row' | 'toggle-all'
	| 'stats-sort' | 'stats-by-host' | 'errors-sort' | 'history-window'
	| 'alerts' | 'alert-silence'
	| 'prompt-accept' | 'prompt-cancel' | 'prompt-erase' | 'prompt-clear';

export type Binding = {
	/** One or more key names that trigger the action. */
	keys: readonly string[];
	action: Action;
	description: string;
	/** Where the key works: everywhere, or only when that pane has the focus, or while a prompt is open. */
	context: Context;
};

/** Row keys in the toggles panel: the Nth visible row of the current section. */
export const rowKeys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'] as const;

export const keybindings: readonly Binding[] = [
	{keys: ['q'], action: 'quit', description: 'quit', context: 'global'},
	{keys: ['ctrl+c'], action: 'interrupt', description: 'quit', context: 'global'},
	{keys: ['?'], action: 'help', description: 'show or hide this help', context: 'global'},
	{keys: ['escape'], action: 'close', description: 'close help, details, search highlight', context: 'global'},
	{keys: ['tab'], action: 'focus-next', description: 'focus the next pane', context: 'global'},
	{keys: ['shift+tab'], action: 'focus-prev', description: 'focus the previous pane', context: 'global'},
	{keys: ['z'], action: 'maximize', description: 'maximise the focused pane (again: restore)', context: 'global'},
	{keys: ['x'], action: 'hide-pane', description: 'hide the focused pane (not the tail)', context: 'global'},
	{keys: ['X'], action: 'show-panes', description: 'show every pane again', context: 'global'},
	{keys: ['space'], action: 'pause', description: 'pause or resume the tail (buffering goes on)', context: 'global'},
	{keys: ['k', 'up'], action: 'up', description: 'scroll up / previous row', context: 'global'},
	{keys: ['j', 'down'], action: 'down', description: 'scroll down / next row', context: 'global'},
	{keys: ['pageup', 'ctrl+b'], action: 'page-up', description: 'page up', context: 'global'},
	{keys: ['pagedown', 'ctrl+f'], action: 'page-down', description: 'page down', context: 'global'},
	{keys: ['g', 'home'], action: 'top', description: 'oldest line held / first row', context: 'global'},
	{keys: ['G', 'end'], action: 'bottom', description: 'newest line and follow again', context: 'global'},
	{keys: ['w'], action: 'wrap', description: 'wrap long lines or truncate them', context: 'tail'},
	{keys: ['/'], action: 'search', description: 'search (regex, incremental; lines stay in context)', context: 'global'},
	{keys: ['n'], action: 'search-older', description: 'previous (older) match', context: 'global'},
	{keys: ['N'], action: 'search-newer', description: 'next (newer) match', context: 'global'},
	{keys: ['f'], action: 'filter', description: 'filter: re  !re  level>=warn  service=x  host= type= source=', context: 'global'},
	{keys: ['F'], action: 'clear-filter', description: 'clear the filter typed with f', context: 'global'},
	{keys: ['enter'], action: 'open', description: 'errors: latest occurrence in full, and jump to it', context: 'errors'},
	{keys: ['enter', 'space'], action: 'toggle-row', description: 'toggles: switch the selected row', context: 'toggles'},
	{keys: ['s'], action: 'section-servers', description: 'toggles: servers', context: 'global'},
	{keys: ['t'], action: 'section-types', description: 'toggles: log types', context: 'global'},
	{keys: ['v'], action: 'section-services', description: 'toggles: services', context: 'global'},
	{keys: ['l'], action: 'section-levels', description: 'toggles: levels', context: 'global'},
	{keys: ['o'], action: 'section-sources', description: 'toggles: sources', context: 'global'},
	{keys: rowKeys, action: 'toggle-row', description: 'switch row 1-10 of the toggles section', context: 'global'},
	{keys: ['a'], action: 'toggle-all', description: 'switch every row of the toggles section', context: 'global'},
	{keys: ['r'], action: 'stats-sort', description: 'stats: sort by rate, errors, name', context: 'global'},
	{keys: ['b'], action: 'stats-by-host', description: 'stats: per service, or per service x host', context: 'global'},
	{keys: ['c'], action: 'errors-sort', description: 'errors: sort by most recent or by count', context: 'global'},
	{keys: ['h'], action: 'history-window', description: 'errors and stats: since start, 1h, 24h, 3d (from the history)', context: 'global'},
	{keys: ['A'], action: 'alerts', description: 'alerts: what fires, what resolved, when, the line that did it', context: 'global'},
	{keys: ['m'], action: 'alert-silence', description: 'alerts: silence the selected rule for 1 h (again: lift it)', context: 'alerts'},
	{keys: ['enter'], action: 'prompt-accept', description: 'apply', context: 'prompt'},
	{keys: ['escape'], action: 'prompt-cancel', description: 'cancel', context: 'prompt'},
	{keys: ['backspace'], action: 'prompt-erase', description: 'erase a character', context: 'prompt'},
	{keys: ['ctrl+u'], action: 'prompt-clear', description: 'erase the line', context: 'prompt'},
	{keys: ['ctrl+c'], action: 'interrupt', description: 'quit', context: 'prompt'},
];

/**
 * The binding for a key: the focused pane's own binding first, then a global one.
 * While a prompt is open only prompt bindings apply (other keys are typed).
 */
export function lookup(key: string, focus: Context, prompt: boolean): Binding | undefined {
	if (prompt) {
		return keybindings.find(b => b.context === 'prompt' && b.keys.includes(key));
	}

	return keybindings.find(b => b.context === focus && b.keys.includes(key))
		?? keybindings.find(b => b.context === 'global' && b.keys.includes(key));
}
