import {type AlertNotice, noticeLine} from '../core/alert-notice.js';
import {isoTime} from '../core/time.js';

// `terminal` in pipe mode: one line per notice on stderr, never on stdout, where the
// stream goes. (The UI shows notices itself: a banner, the bell, the alerts pane.)

const sampleLength = 200;

export function stderrLine(n: AlertNotice): string {
	const sample = n.sample && n.status === 'firing' ? ` — ${n.sample.message.length > sampleLength ? n.sample.message.slice(0, sampleLength) + '…' : n.sample.message}` : '';
	return `logmon: alert ${isoTime(n.at)} ${noticeLine(n)}${sample}\n`;
}
