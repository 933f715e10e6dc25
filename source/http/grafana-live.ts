import {type LogEvent} from '../core/event.js';
import {type SourceHealth} from '../core/health.js';
import {Ring} from '../core/ring.js';
import {type HttpContext} from './context.js';
import {LiveCounts} from './grafana-counts.js';
import {SidecarCache} from './grafana-history.js';
import {type Annotation} from './grafana-tables.js';

// What the Grafana endpoints keep while logmon runs: the live counts (grafana-counts.ts), the
// history's sidecar cache, and this run's annotations: gap markers, alert notices and source
// failures (from a source going retrying or failed until it is live again). A direct bus
// subscriber, O(batch), started with the server (before the sources), so it sees every event.

/** Annotations kept from this run; the oldest go first. */
const maxAnnotations = 10_000;

export type GrafanaState = {
	readonly live: LiveCounts;
	readonly sidecars: SidecarCache | undefined;
	/** This run's annotations, oldest first, with the failures still open ending now. */
	annotations(now: number): Annotation[];
};

const states = new WeakMap<HttpContext, GrafanaState>();

/** The Grafana state of a server; started by `startGrafana`. */
export function grafanaState(context: HttpContext): GrafanaState {
	const state = states.get(context);
	if (!state) {
		throw new Error('the Grafana endpoints were not started with the server');
	}

	return state;
}

/** Start counting for the Grafana endpoints; stops when the server closes. */
export function startGrafana(context: HttpContext): void {
	const live = new LiveCounts(context.now());
	const done = new Ring<Annotation>(maxAnnotations);
	const open = new Map<string, {since: number; state: string; reason: string | undefined; kind: string}>();
	const offEvents = context.bus.subscribe(events => {
		live.add(events, context.now());
		for (const e of events) {
			if (e.marker === 'gap' || e.marker === 'alert') {
				done.push(markerAnnotation(e));
			}
		}
	});
	const offHealth = context.bus.onHealth((h: SourceHealth) => {
		const failing = h.state === 'retrying' || h.state === 'failed';
		const was = open.get(h.id);
		if (failing && !was) {
			open.set(h.id, {since: h.since, state: h.state, reason: h.reason, kind: h.kind});
		} else if (failing && was) {
			// Retrying, then failed: one outage; the reason is the latest.
			was.state = h.state;
			was.reason = h.reason ?? was.reason;
		} else if (!failing && was) {
			open.delete(h.id);
			done.push(failureAnnotation(h.id, was, h.since));
		}
	});
	const state: GrafanaState = {
		live,
		sidecars: context.reader ? new SidecarCache(context.reader.dir, context.now) : undefined,
		annotations(now) {
			const rows = done.toArray();
			for (const [id, f] of open) {
				rows.push(failureAnnotation(id, f, now));
			}

			return rows;
		},
	};
	states.set(context, state);
	context.onClose(() => {
		offEvents();
		offHealth();
	});
}

function failureAnnotation(id: string, f: {since: number; state: string; reason: string | undefined; kind: string}, end: number): Annotation {
	return {
		kind: 'failures',
		time: f.since,
		timeEnd: Math.max(f.since, end),
		title: `${id}: ${f.state}`,
		text: f.reason ?? `${id} was ${f.state}`,
		tags: ['failure', id, f.kind],
	};
}

function markerAnnotation(e: LogEvent): Annotation {
	if (e.marker === 'gap') {
		return {kind: 'gaps', time: e.time, timeEnd: e.time, title: `${e.sourceId}: gap`, text: e.message, tags: ['gap', e.sourceId]};
	}

	const alert = (e.record as {alert?: {rule?: unknown; status?: unknown; severity?: unknown; startsAt?: unknown; endsAt?: unknown}} | undefined)?.alert;
	const rule = typeof alert?.rule === 'string' ? alert.rule : 'alert';
	const status = typeof alert?.status === 'string' ? alert.status : 'firing';
	const startsAt = typeof alert?.startsAt === 'string' ? Date.parse(alert.startsAt) : Number.NaN;
	const region = status === 'resolved' && Number.isFinite(startsAt) && startsAt < e.time;
	return {
		kind: 'alerts',
		time: region ? startsAt : e.time,
		timeEnd: e.time,
		title: `${rule}: ${status}`,
		text: e.message,
		tags: ['alert', rule, status, ...(typeof alert?.severity === 'string' ? [alert.severity] : [])],
	};
}

