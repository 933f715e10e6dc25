import {type EventInit, LEVELS, type Level} from '../core/event.js';
import {depthReason, maxJsonDepth, parseJsonBounded} from '../core/json-depth.js';
import {detectLevel} from '../core/level.js';
import {sanitize} from '../core/sanitize.js';

// One event of another logmon's stream (the `-o json` shape with its `id`) back into an event of
// ours. It keeps the remote's service, host, proc, type, level, status, time, raw text and record;
// the source is this connection, the receive time ours. The remote is not trusted: every text is
// sanitised again, a field of the wrong type is dropped, and a bad event is refused with a reason.
// Pure: no I/O.

export type RemoteEvent = {
	/** The remote's stable event id, `<receivedAt>-<seq>`. */
	id: string;
	event: EventInit;
	/** Why part of it was not taken as it came (counted as a parse error, the event kept). */
	warning?: string | undefined;
};

const maxId = 64;

function text(value: unknown): string {
	return typeof value === 'string' ? value : '';
}

function levelOf(value: unknown, raw: string): Level {
	return LEVELS.find(l => l === value) ?? detectLevel({text: raw});
}

/** The event in `data` (one SSE message), or a reason why it is not one. */
export function readRemoteEvent(data: string, sourceId: string, now: number): RemoteEvent | string {
	let parsed: unknown;
	let cut = false;
	try {
		// The record sits one level down in the event.
		const bounded = parseJsonBounded(data, maxJsonDepth + 1);
		parsed = bounded.value;
		cut = bounded.cut;
	} catch {
		return 'a stream event that is not JSON';
	}

	const read = remoteEvent(parsed, sourceId, now);
	if (cut && typeof read !== 'string') {
		read.warning ??= depthReason;
	}

	return read;
}

/** One event already parsed (from a stream message or an /api/v1/logs/events answer). */
export function remoteEvent(parsed: unknown, sourceId: string, now: number): RemoteEvent | string {
	if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
		return 'a stream event that is not a JSON object';
	}

	const o = parsed as Record<string, unknown>;
	const id = o['id'];
	if (typeof id !== 'string' || id === '' || id.length > maxId) {
		return 'a stream event without an id';
	}

	const marker = o['marker'];
	if (marker === 'history') {
		return 'a stream event marked history (never sent on a stream)';
	}

	let warning: string | undefined;
	const raw = typeof o['raw'] === 'string' ? o['raw'] : text(o['message']);
	const message = sanitize(typeof o['message'] === 'string' ? o['message'] : raw);
	let time = typeof o['time'] === 'string' ? Date.parse(o['time']) : Number.NaN;
	if (!Number.isFinite(time)) {
		time = now;
		warning = 'a stream event without a readable time; the receive time is used';
	}

	const status = o['status'];
	return {
		id,
		warning,
		event: {
			time,
			receivedAt: now,
			sourceId,
			sourceKind: 'connect',
			service: sanitize(text(o['service'])),
			host: sanitize(text(o['host'])),
			proc: sanitize(text(o['proc'])),
			type: sanitize(text(o['type'])),
			level: levelOf(o['level'], raw),
			status: typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 999 ? status : undefined,
			message,
			raw,
			record: o['record'],
			marker: marker === 'gap' || marker === 'alert' ? marker : undefined,
		},
	};
}

/** What the remote says with `event: loss`: how many events it could not send to us. */
export function readLoss(data: string): number | undefined {
	try {
		const o = JSON.parse(data) as Record<string, unknown> | null;
		const lost = o?.['lost'];
		return typeof lost === 'number' && Number.isFinite(lost) && lost >= 0 ? lost : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The ids of the events taken lately, to drop one sent twice across a resume (or by a remote that
 * repeats itself). Bounded: two generations of ids, the older one forgotten whole when the newer
 * fills (no per-id bookkeeping of age), so between capacity/2 and capacity ids are remembered.
 */
export class RecentIds {
	private current = new Set<string>();
	private previous = new Set<string>();

	constructor(private readonly capacity = 100_000) {}

	/** True when `id` is new (and now remembered); false for a repeat. */
	add(id: string): boolean {
		if (this.current.has(id) || this.previous.has(id)) {
			return false;
		}

		if (this.current.size * 2 >= this.capacity) {
			this.previous = this.current;
			this.current = new Set();
		}

		this.current.add(id);
		return true;
	}

	get size(): number {
		return this.current.size + this.previous.size;
	}
}
