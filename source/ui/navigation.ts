import {type Store} from '../core/store.js';
import {type Rows} from './scan.js';
import {type UiState} from './state.js';

// Where the tail is: following the newest line, or anchored at a line while
// paused or scrolled, and how keys move it. Reads the filtered rows, never the
// whole store.

export type TailPosition = {
	state: UiState;
	store: Store;
	/** The events that pass the tail's filter. */
	rows: Rows;
	/** The bus's last sequence number. */
	lastSeq: number;
	/** Rows of the tail pane (without its title). */
	height: number;
};

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

/** Put `seq` in the middle of the tail, so the lines around it show. */
export function center(t: TailPosition, seq: number): void {
	stopFollowing(t);
	const after = t.rows.after(seq, Math.floor(t.height / 2));
	t.state.anchorSeq = after.at(-1)?.seq ?? seq;
}

/** While paused, the anchored line may have left the buffer: hold on to the oldest screenful. True when it had. */
export function clampAnchor(t: TailPosition): boolean {
	const s = t.state;
	const oldest = t.store.at(0)?.seq ?? 0;
	if (s.following || s.anchorSeq >= oldest) {
		return false;
	}

	s.anchorSeq = t.rows.after(0, t.height).at(-1)?.seq ?? s.anchorSeq;
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
			s.anchorSeq = rows.after(0, height).at(-1)?.seq ?? s.anchorSeq;
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

			s.anchorSeq = before[0]!.seq;
			// Keep a full screen: the bottom row stays at or below the first screenful.
			if (rows.tail(height, s.anchorSeq + 1).length < height) {
				s.anchorSeq = rows.after(0, height).at(-1)?.seq ?? s.anchorSeq;
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
			if (next.length < n) {
				// Scrolled past the newest line: follow again.
				follow(s);
				return;
			}

			s.anchorSeq = next.at(-1)!.seq;
		}
	}
}
