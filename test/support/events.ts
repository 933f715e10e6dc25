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
