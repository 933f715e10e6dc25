import {type LogEvent} from '../../source/core/event.js';

// Plain LogEvents for unit tests of the core aggregates and views.

let seq = 0;

export function event(fields: Partial<LogEvent> = {}): LogEvent {
	const message = fields.message ?? 'hello';
	const now = fields.receivedAt ?? Date.now();
	return {
		seq: ++seq,
		time: now,
		receivedAt: now,
		sourceId: 'test',
		sourceKind: 'stdin',
		service: 'api',
		host: 'web-1',
		proc: '',
		type: '',
		level: 'INFO',
		raw: message,
		...fields,
		message,
	};
}

/** `text` with its digits changed (to 1 to 9), but for a 0 before an x: what a fingerprint does not tell apart. */
export function otherDigits(text: string, shift: number): string {
	return text.replaceAll(/\d(?![xX])|[1-9](?=[xX])/g, d => String(((Number(d) + shift) % 9) + 1));
}
