import {type SourceState} from './health.js';
import {sanitize} from './sanitize.js';

// The health of the logmon a `connect` source reads (its GET /api/v1/health), cut down to what the
// status bar shows: the remote's overall status and each of its sources' state. The answer comes
// from another machine: only known states are kept, texts are sanitised and shortened, the list
// is bounded. Pure: no I/O.

export type RemoteSource = {id: string; kind: string; state: SourceState; reason?: string | undefined};

export type RemoteHealth = {
	status: string;
	version: string;
	sources: RemoteSource[];
	/** The remote's history: writing, off, failed… */
	history: string;
	/** When it was read, ms since the epoch. */
	at: number;
};

const states = new Set<SourceState>(['connecting', 'live', 'retrying', 'failed', 'stopped', 'ended']);
const maxSources = 32;

function short(value: unknown, max = 80): string {
	if (typeof value !== 'string') {
		return '';
	}

	const s = sanitize(value.replaceAll(/\s+/g, ' ').trim());
	return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** Undefined when the answer is not a logmon health document. */
export function readRemoteHealth(json: unknown, now: number): RemoteHealth | undefined {
	if (json === null || typeof json !== 'object' || !Array.isArray((json as Record<string, unknown>)['sources'])) {
		return undefined;
	}

	const o = json as Record<string, unknown>;
	const sources: RemoteSource[] = [];
	for (const s of (o['sources'] as unknown[]).slice(0, maxSources)) {
		if (s === null || typeof s !== 'object') {
			continue;
		}

		const r = s as Record<string, unknown>;
		const state = states.has(r['state'] as SourceState) ? r['state'] as SourceState : undefined;
		if (!state) {
			continue;
		}

		const reason = short(r['reason']);
		sources.push({id: short(r['id'], 40) || '?', kind: short(r['kind'], 20), state, reason: reason || undefined});
	}

	const history = o['history'];
	return {
		status: short(o['status'], 20) || 'unknown',
		version: short(o['version'], 20),
		sources,
		history: history !== null && typeof history === 'object' ? short((history as Record<string, unknown>)['state'], 20) : '',
		at: now,
	};
}

/** "kafka live, stdin ended": each remote source and its state, with the reason when it is not well. */
export function describeRemoteSources(h: RemoteHealth): string {
	if (h.sources.length === 0) {
		return 'no sources';
	}

	return h.sources.map(s => {
		const why = s.reason && (s.state === 'failed' || s.state === 'retrying') ? ` (${s.reason})` : '';
		return `${s.id} ${s.state}${why}`;
	}).join(', ');
}

/** True when a remote source is retrying or failed. */
export function remoteTroubled(h: RemoteHealth): boolean {
	return h.sources.some(s => s.state === 'failed' || s.state === 'retrying');
}
