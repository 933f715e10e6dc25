import {type SinkConfig} from '../../source/config/alerts.js';
import {parseConfig} from '../../source/config/load.js';
import {type AlertNotice} from '../../source/core/alert-notice.js';
import {type SinkContext} from '../../source/alerts/delivery.js';

// Notices and sink configs for the sink tests, built the way logmon builds them.

let n = 0;

export function notice(fields: Partial<AlertNotice> = {}): AlertNotice {
	n++;
	const at = Date.parse('2026-12-01T21:59:38Z') + n * 1000;
	return {
		fingerprint: `00000000000000${String(n % 100).padStart(2, '0')}`,
		rule: 'db-errors',
		kind: 'count',
		status: 'firing',
		repeat: false,
		group: {service: 'checkout'},
		startsAt: at,
		at,
		summary: '12 events in 5m (alert at 10 or more)',
		value: 12,
		severity: 'critical',
		labels: {team: 'shop'},
		sample: {time: at, receivedAt: at, sourceId: 'kafka', service: 'checkout', host: 'web-1', type: '', level: 'ERROR', message: 'connection refused to db:5432'},
		notify: ['hook'],
		silenced: false,
		...fields,
	};
}

/** A sink config as the config file gives it (validated, ${ENV} expanded). */
export function sinkConfig<T extends SinkConfig['type']>(name: string, raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Extract<SinkConfig, {type: T}> {
	const config = parseConfig({alerts: {sinks: {[name]: raw}}}, 'test.json', env);
	return config.alerts.sinks[name] as Extract<SinkConfig, {type: T}>;
}

/** A sink context that records failures. */
export function recordingContext(): SinkContext & {failures: string[]} {
	const failures: string[] = [];
	return {
		failures,
		onChange() {},
		onFailure(sink, reason) {
			failures.push(`${sink}: ${reason}`);
		},
	};
}
