// What the page shows lives in its URL (`?q=…&window=…&service=…`), so a link can be shared and
// a reload shows the same thing. Changes replace the current history entry (no back-button spam).

export const windows = ['5m', '15m', '1h', '6h', '24h'] as const;
export type ChartWindow = typeof windows[number];

export type ViewState = {
	/** The filter, in the grammar of the terminal UI's `f` prompt. */
	q: string;
	window: ChartWindow;
	/** The chart's service; empty: every service. */
	service: string;
};

export function readState(location: Location = window.location): ViewState {
	const p = new URLSearchParams(location.search);
	const w = p.get('window') ?? '';
	return {
		q: p.get('q') ?? '',
		window: (windows as readonly string[]).includes(w) ? w as ChartWindow : '15m',
		service: p.get('service') ?? '',
	};
}

export function writeState(state: ViewState): void {
	const p = new URLSearchParams();
	if (state.q.trim() !== '') {
		p.set('q', state.q.trim());
	}

	if (state.window !== '15m') {
		p.set('window', state.window);
	}

	if (state.service !== '') {
		p.set('service', state.service);
	}

	const search = p.toString();
	const url = `${window.location.pathname}${search ? `?${search}` : ''}`;
	if (url !== `${window.location.pathname}${window.location.search}`) {
		window.history.replaceState(null, '', url);
	}
}

/** The API's query string for a filter (and more parameters). */
export function apiQuery(q: string, more: Record<string, string> = {}): string {
	const p = new URLSearchParams(more);
	if (q.trim() !== '') {
		p.set('q', q.trim());
	}

	const s = p.toString();
	return s ? `?${s}` : '';
}
