import {type HistoryStatus} from './types.js';

// The history's state in words, for the status bar and pipe mode's stderr. No I/O.

/** `history: writing`, `history: read-only: another logmon (pid 12) writes it`, `history: failed: disk full`. */
export function describeHistory(s: HistoryStatus): string {
	let text = 'history: ';
	if (s.state === 'writing') {
		text += 'writing';
	} else if (s.state === 'read-only') {
		text += s.reason?.startsWith('read-only') ? s.reason : `read-only${s.reason ? `: ${s.reason}` : ''}`;
	} else {
		text += s.reason ? `${s.state}: ${s.reason}` : s.state;
	}

	if (s.dropped > 0) {
		text += ` (${s.dropped} dropped)`;
	}

	return text;
}
