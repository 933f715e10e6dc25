import {type HistoryStatus} from './types.js';

// The history's state in words, for the status bar and pipe mode's stderr. No I/O.

/**
 * `history: writing`, `history: read-only: another logmon (pid 12) writes it`, `history: failed: disk full`.
 * `short` (the status bar): `history: read-only` without who writes it, and an off reason left out.
 */
export function describeHistory(s: HistoryStatus, short = false): string {
	let text = 'history: ';
	if (s.state === 'writing') {
		text += 'writing';
	} else if (short && (s.state === 'read-only' || s.state === 'off')) {
		text += s.state;
	} else if (s.state === 'read-only') {
		text += s.reason?.startsWith('read-only') ? s.reason : `read-only${s.reason ? `: ${s.reason}` : ''}`;
	} else {
		text += s.reason ? `${s.state}: ${s.reason}` : s.state;
	}

	if (s.dropped > 0) {
		text += `, ${s.dropped} dropped`;
	}

	return text;
}
