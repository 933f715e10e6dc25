import {type HttpContext} from './context.js';
import {type Router} from './router.js';

// GET /api/v1/health: every source's state and counters, the history's state, redaction hit
// counts, alerts, the forwarders (state, queued, spooled, sent, dropped, dead-lettered), the HTTP
// server's own counters, version and uptime.

export function healthSnapshot(context: HttpContext): Record<string, unknown> {
	const now = context.now();
	const history = context.historyStatus();
	const redactor = context.bus.redactor;
	const alerts = context.alerts();
	const all = context.bus.health();
	// Forwarders have health handles on the bus too; they are listed apart.
	const sources = all.filter(s => s.kind !== 'forward');
	const forwarders = all.filter(s => s.kind === 'forward');
	return {
		status: all.some(s => s.state === 'failed' || s.state === 'retrying') ? 'degraded' : 'ok',
		version: context.version,
		startedAt: new Date(context.startedAt).toISOString(),
		uptimeSeconds: Math.floor((now - context.startedAt) / 1000),
		sources: sources.map(s => ({
			id: s.id,
			kind: s.kind,
			state: s.state,
			reason: s.reason,
			since: new Date(s.since).toISOString(),
			retryAt: s.retryAt === undefined ? undefined : new Date(s.retryAt).toISOString(),
			events: s.events,
			bytes: s.bytes,
			parseErrors: s.parseErrors,
			lastParseError: s.lastParseError,
			drops: s.drops,
			reconnects: s.reconnects,
			paused: s.paused,
			lastEventAt: s.lastEventAt === undefined ? undefined : new Date(s.lastEventAt).toISOString(),
			details: s.details,
		})),
		history: history
			? {
				state: history.state,
				reason: history.reason,
				written: history.written,
				dropped: history.dropped,
				tornLines: history.tornLines,
				damagedSegments: history.damagedSegments,
				bytesOnDisk: history.bytesOnDisk,
				segments: history.segments,
				unsealed: history.unsealed ?? 0,
				oldest: history.oldest === undefined ? undefined : new Date(history.oldest).toISOString(),
			}
			: {state: 'off'},
		memory: {events: context.store.size, capacity: context.store.capacity, evicted: context.store.evicted, chars: context.store.chars, maxChars: context.store.maxChars},
		redaction: redactor
			? {enabled: true, ...redactor.health(), thread: context.bus.redactionThread ?? 'off', screened: context.bus.redactionScreened}
			: {enabled: false},
		alerts: alerts
			? {
				firing: alerts.firing.length,
				rules: alerts.rules,
				sinks: alerts.sinks,
			}
			: undefined,
		http: {...context.counters},
		forward: forwarders.map(s => ({
			name: s.id.replace(/^forward:/, ''),
			state: s.state,
			reason: s.reason,
			retryAt: s.retryAt === undefined ? undefined : new Date(s.retryAt).toISOString(),
			...s.details,
		})),
	};
}

export function registerHealth(router: Router): void {
	router.get('/api/v1/health', (_request, context) => ({json: healthSnapshot(context)}));
}
