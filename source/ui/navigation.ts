import {type LogEvent} from '../core/event.js';
import {type Store} from '../core/store.js';
import {type Rows} from './scan.js';
import {type UiState} from './state.js';

// Where the tail is: following the newest line, or anchored at a line while
// paused or scrolled, and how keys move it. Reads the filtered rows, never the
// whole store. With a history, rows read from it sit above the store's with
// seqs below zero (history-chain.ts), so "the oldest row" is -Infinity's next.
// Heights and pages are counted in screen rows: an event may take several (rowsOf).

export type TailPosition = {
	state: UiState;
	store: Store;
	/** The events that pass the tail's filter. */
	rows: Rows;
	/** The bus's last sequence number. */
	lastSeq: number;
	/** Rows of the tail pane (without its title). */
	height: number;
	/** The lowest seq still shown: an anchor below it has left the buffer. Default: the store's oldest. */
	floor?: number | undefined;
	/** Rows an event takes on the screen (a multi-line event takes several: event-rows.ts). Default: one. */
	rowsOf?: ((e: LogEvent) => number) | undefined;
};

/** Before every row, the history's included. */
const first = Number.NEGATIVE_INFINITY;

export type Move = 'up' | 'down' | 'page-up' | 'page-down' | 'top' | 'bottom';

export function stopFollowing(t: TailPosition): void {
	const s = t.state;
	if (!s.following) {
		return;
	}

	s.following = false;
	s.anchorSeq = t.rows.tail(1)[0]?.seq ?? t.lastSeq;
	s.pausedAtSeq = t.lastSeq;
}

export function follow(s: UiState): void {
	s.following = true;
	s.markSeq = s.search ? s.markSeq : undefined;
}

const one = (): number => 1;

/** How many of `events`, from the first, fit in `budget` rows (at least `least`). */
function fitting(t: TailPosition, events: readonly LogEvent[], budget: number, least = 0): number {
	const rowsOf = t.rowsOf ?? one;
	let used = 0;
	let n = 0;
	for (const e of events) {
		used += rowsOf(e);
		if (used > budget && n >= least) {
			break;
		}

		n++;
	}

	return n;
}

/** The anchor that shows the first screenful: the oldest rows at the top. */
function topAnchor(t: TailPosition): number | undefined {
	const events = t.rows.after(first, t.height);
	return events[fitting(t, events, t.height, 1) - 1]?.seq;
}

/** Put `seq` in the middle of the tail, so the lines around it show. */
export function center(t: TailPosition, seq: number): void {
	stopFollowing(t);
	const half = Math.floor(t.height / 2);
	const after = t.rows.after(seq, half);
	t.state.anchorSeq = after[fitting(t, after, half) - 1]?.seq ?? seq;
}

/** While paused, the anchored line may have left the buffer: hold on to the oldest screenful. True when it had. */
export function clampAnchor(t: TailPosition): boolean {
	const s = t.state;
	const oldest = t.floor ?? t.store.at(0)?.seq ?? 0;
	if (s.following || s.anchorSeq >= oldest) {
		return false;
	}

	const events = t.rows.after(0, t.height);
	s.anchorSeq = events[fitting(t, events, t.height, 1) - 1]?.seq ?? s.anchorSeq;
	return true;
}

export function moveTail(t: TailPosition, action: Move): void {
	const s = t.state;
	const {rows, height} = t;
	const page = Math.max(1, height - 1);
	switch (action) {
		case 'bottom': {
			follow(s);
			return;
		}

		case 'top': {
			stopFollowing(t);
			s.anchorSeq = topAnchor(t) ?? s.anchorSeq;
			return;
		}

		case 'up':
		case 'page-up': {
			stopFollowing(t);
			clampAnchor(t);
			const before = rows.tail(action === 'up' ? 1 : page, s.anchorSeq);
			if (before.length === 0) {
				return;
			}

			// Up by `page` rows: the bottom event and those above it go below the screen, as many as fit.
			const bottom = rows.tail(1, s.anchorSeq + 1);
			const below = [...bottom, ...before.slice(1).reverse()];
			s.anchorSeq = before[before.length - fitting(t, below, action === 'up' ? 1 : page, 1)]!.seq;
			// Keep a full screen: the bottom row stays at or below the first screenful (unless
			// the top row is history still being read: the screen fills when it comes).
			const shown = rows.tail(height, s.anchorSeq + 1);
			if (rowsIn(t, shown) < height && shown[0]?.marker !== 'history') {
				s.anchorSeq = topAnchor(t) ?? s.anchorSeq;
			}

			return;
		}

		case 'down':
		case 'page-down': {
			if (s.following) {
				return;
			}

			clampAnchor(t);
			const n = action === 'down' ? 1 : page;
			const next = rows.after(s.anchorSeq, n);
			// Down by `n` rows: as many of the next events as fit in them, one at least.
			const taken = fitting(t, next, n, 1);
			if (next.length < n && taken === next.length) {
				const last = next.at(-1)?.seq ?? s.anchorSeq;
				if (rows.stalled?.(last)) {
					s.anchorSeq = last; // newer history rows are being read: wait there
					return;
				}

				// Scrolled past the newest line: follow again.
				follow(s);
				return;
			}

			s.anchorSeq = next[taken - 1]!.seq;
		}
	}
}

/** Rows that `events` take. */
function rowsIn(t: TailPosition, events: readonly LogEvent[]): number {
	const rowsOf = t.rowsOf ?? one;
	let n = 0;
	for (const e of events) {
		n += rowsOf(e);
	}

	return n;
}
