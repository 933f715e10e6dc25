import {describe, expect, it} from 'vitest';
import {computeLayout, minColumns, minRows} from '../../source/ui/layout.js';

// Where the panes go for every terminal size from small to large: the tail never loses its rows to
// the others, and the panes fill the body exactly.

describe('pane layout', () => {
	it('a short terminal shows the tail alone rather than a tail of no rows; otherwise the panes fill the body', () => {
		for (let rows = 5; rows <= 60; rows++) {
			for (const columns of [20, 40, 80, 100, 149, 150, 200, 300]) {
				const layout = computeLayout(columns, rows, new Set(), undefined);
				const where = `${columns}x${rows}`;
				expect(layout.tail, where).toBeDefined();
				expect(layout.tail!.height, where).toBeGreaterThanOrEqual(Math.min(4, layout.bodyHeight));
				if (layout.arrangement === 'stack') {
					expect(layout.tail!.height + layout.othersHeight, where).toBe(layout.bodyHeight);
				} else if (layout.arrangement === 'side') {
					expect(layout.others.reduce((n, b) => n + b.height, 0), where).toBe(layout.bodyHeight);
				} else {
					expect(layout.tail!.height, where).toBe(layout.bodyHeight);
				}
			}
		}

		// A reviewer's 100x7 terminal: the tail, four rows of it, and no other pane.
		expect(computeLayout(100, 7, new Set(), undefined)).toMatchObject({arrangement: 'single', tail: {height: 4}, others: []});
		expect(computeLayout(100, 11, new Set(), undefined)).toMatchObject({arrangement: 'stack', tail: {height: 4}, othersHeight: 4});
	});

	it('a terminal smaller than the frame gets one line that says so, no wider than it; a large enough one none', () => {
		for (let rows = 1; rows <= 10; rows++) {
			for (let columns = 1; columns <= 30; columns++) {
				const {tooSmall} = computeLayout(columns, rows, new Set(), undefined);
				const where = `${columns}x${rows}`;
				if (columns < minColumns || rows < minRows) {
					expect(tooSmall, where).toBeDefined();
					expect(tooSmall!.length, where).toBeLessThanOrEqual(columns);
					expect(`${where}: needs 20x7`.startsWith(tooSmall!), where).toBe(true);
				} else {
					expect(tooSmall, where).toBeUndefined();
				}
			}
		}

		// The size unknown (0, as a pipe reports it): the frame's defaults, no notice.
		expect(computeLayout(0, 0, new Set(), undefined).tooSmall).toBeUndefined();
	});
});
