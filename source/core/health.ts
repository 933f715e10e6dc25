import {type SourceKind} from './event.js';

export type SourceState = 'connecting' | 'live' | 'retrying' | 'failed' | 'stopped' | 'ended';

export type SourceHealth = {
	id: string;
	kind: SourceKind;
	state: SourceState;
	/** Why it is retrying or failed. */
	reason?: string | undefined;
	/** When the next attempt starts (ms since epoch), while retrying. */
	retryAt?: number | undefined;
	/** When the current state began. */
	since: number;
	events: number;
	bytes: number;
	parseErrors: number;
	lastParseError?: string | undefined;
	/** Events lost because a consumer was full. */
	drops: number;
	reconnects: number;
	/** True while the bus has asked this source to pause. */
	paused: boolean;
	lastEventAt?: number | undefined;
	/** Kind-specific facts: publishers, partitions and lag, enabled pairs... */
	details: Record<string, unknown>;
};

export function newHealth(id: string, kind: SourceKind, now = Date.now()): SourceHealth {
	return {id, kind, state: 'connecting', since: now, events: 0, bytes: 0, parseErrors: 0, drops: 0, reconnects: 0, paused: false, details: {}};
}

/** The short state a person reads: "live", "retrying in 4 s (connection refused)", "failed: bad secret". */
export function describeState(h: SourceHealth, now = Date.now()): string {
	switch (h.state) {
		case 'retrying': {
			const s = Math.max(0, Math.ceil(((h.retryAt ?? now) - now) / 1000));
			return `retrying in ${s} s${h.reason ? ` (${h.reason})` : ''}`;
		}

		case 'failed': {
			return `failed: ${h.reason ?? 'unknown error'}`;
		}

		case 'connecting':
		case 'live':
		case 'stopped':
		case 'ended': {
			return h.reason && h.state !== 'live' ? `${h.state} (${h.reason})` : h.state;
		}
	}
}

/**
 * Which state changes a line on stderr tells (pipe and serve modes): a new state or a new reason
 * at once; the same one again (a retry loop: a missing file checked every 2 s, a broker down for
 * an hour) once `repeatMs` has passed since it was last told, so stderr stays readable. The
 * `connecting` of each attempt after a `retrying in N s` is not told: that line said so.
 */
export class StateTeller {
	private readonly told = new Map<string, {state: SourceState; key: string; at: number}>();

	constructor(private readonly repeatMs = 60_000) {}

	tell(h: SourceHealth, now = Date.now()): boolean {
		const last = this.told.get(h.id);
		if (h.state === 'connecting' && last?.state === 'retrying') {
			return false;
		}

		const key = `${h.state}\t${h.reason ?? ''}`;
		if (last?.key === key && now - last.at < this.repeatMs) {
			return false;
		}

		this.told.set(h.id, {state: h.state, key, at: now});
		return true;
	}
}
