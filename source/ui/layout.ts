// Where each pane goes for a terminal size. Plain numbers, so the React tree
// only places boxes of known size and every pane renders exactly its rows.
//
//  wide (>= 150 columns)            narrow
//  +--------------+--------+        +-------------------------+
//  | tail         | errors |        | tail                    |
//  |              +--------+        +---------+-------+-------+
//  |              | stats  |        | errors  | stats |toggles|
//  |              +--------+        +---------+-------+-------+
//  |              |toggles |        status / prompt
//  +--------------+--------+
//  status / prompt

export const paneIds = ['tail', 'errors', 'stats', 'toggles'] as const;
export type PaneId = (typeof paneIds)[number];

export type PaneBox = {id: PaneId; width: number; height: number};

export type Layout = {
	/** Terminal columns. */
	width: number;
	/** Root height: one less than the terminal, for Ink 6.8's full-height flicker. */
	height: number;
	bodyHeight: number;
	arrangement: 'side' | 'stack' | 'single';
	tail: PaneBox | undefined;
	/** The other panes: a column right of the tail (side) or a row below it (stack). */
	others: PaneBox[];
	othersWidth: number;
	othersHeight: number;
	/**
	 * Set when the terminal is smaller than the frame can be (minColumns × minRows): the one line
	 * shown instead, cut to its width. Panes that wrapped or scrolled would leave the screen garbled.
	 */
	tooSmall?: string | undefined;
};

/** The smallest terminal the frame fits: panes of a title and a row, the status bar and the prompt line. */
export const minColumns = 20;
export const minRows = 7;

/** Rows under the panes: the status bar and the prompt/hint line. */
export const footerRows = 2;

const weights: Record<PaneId, number> = {tail: 0, errors: 0.4, stats: 0.35, toggles: 0.25};

/** The fewest rows of the tail, and of the row of panes under it, when they are stacked. */
const minStackRows = 4;

/** Split `total` among weights, each at least `min`, with `gap` between neighbours. */
function split(total: number, ws: number[], gap: number, min: number): number[] {
	const room = Math.max(0, total - gap * (ws.length - 1));
	const sum = ws.reduce((a, b) => a + b, 0) || 1;
	const out = ws.map(w => Math.max(min, Math.floor((room * w) / sum)));
	// Give what rounding left over (or take the excess) from the first pane.
	const used = out.reduce((a, b) => a + b, 0);
	out[0] = Math.max(1, out[0]! + room - used);
	return out;
}

export function computeLayout(columns: number, rows: number, hidden: ReadonlySet<PaneId>, maximized: PaneId | undefined): Layout {
	const width = Math.max(minColumns, columns || 80);
	const height = Math.max(minRows - 1, (rows || 24) - 1);
	const bodyHeight = height - footerRows;
	const small = (columns > 0 && columns < minColumns) || (rows > 0 && rows < minRows);
	const base = {width, height, bodyHeight, tooSmall: small ? `${columns || width}x${rows || height + 1}: needs ${minColumns}x${minRows}`.slice(0, columns || width) : undefined};

	if (maximized) {
		const box = {id: maximized, width, height: bodyHeight};
		return maximized === 'tail'
			? {...base, arrangement: 'single', tail: box, others: [], othersWidth: 0, othersHeight: 0}
			: {...base, arrangement: 'single', tail: undefined, others: [box], othersWidth: width, othersHeight: bodyHeight};
	}

	const visible = paneIds.filter(p => p !== 'tail' && !hidden.has(p));
	// Too few rows for the tail and the others beside or under it (a short terminal): the tail alone,
	// rather than a tail of no rows; each other pane still opens maximized by its key.
	const side = width >= 150;
	const tooShort = side ? bodyHeight < 3 * visible.length : bodyHeight < 2 * minStackRows;
	if (visible.length === 0 || tooShort) {
		return {...base, arrangement: 'single', tail: {id: 'tail', width, height: bodyHeight}, others: [], othersWidth: 0, othersHeight: 0};
	}

	const ws = visible.map(p => weights[p]);
	if (side) {
		const column = Math.min(90, Math.max(48, Math.round(width * 0.36)));
		const heights = split(bodyHeight, ws, 0, 3);
		return {
			...base,
			arrangement: 'side',
			tail: {id: 'tail', width: width - column - 1, height: bodyHeight},
			others: visible.map((id, i) => ({id, width: column, height: heights[i]!})),
			othersWidth: column,
			othersHeight: bodyHeight,
		};
	}

	const bottom = Math.max(minStackRows, Math.min(bodyHeight - minStackRows, Math.round(bodyHeight * 0.45)));
	const widths = split(width, ws, 1, 8);
	return {
		...base,
		arrangement: 'stack',
		tail: {id: 'tail', width, height: bodyHeight - bottom},
		others: visible.map((id, i) => ({id, width: widths[i]!, height: bottom})),
		othersWidth: width,
		othersHeight: bottom,
	};
}
