import {type LogEvent} from '../../core/event.js';
import {type Diagnostics} from '../../core/diagnostics.js';

// What every forwarding destination (file, kafka, http, cloudwatch) implements. The
// delivery loop (queue, disk spool, batching, retries, state) is shared and knows no
// destination; a destination knows nothing of queues or spools: it is handed a batch,
// tries once, and says how that went.

/** What one attempt at a batch came to. */
export type SendOutcome =
	| {ok: true}
	| {
		ok: false;
		/** False: the destination refused this batch for good (400, 403, a bad index): it is dead-lettered, never retried. */
		retry: boolean;
		/** Why, with the peer's response text where there is one (secrets are redacted by the caller). */
		reason: string;
		/** The peer asked for this wait (Retry-After, throttling). */
		retryAfterMs?: number | undefined;
		/**
		 * Not retryable, and only these events of the batch were refused (a `_bulk` reply whose
		 * other items were stored): only they are dead-lettered. Absent: the whole batch.
		 */
		refused?: readonly LogEvent[] | undefined;
	};

/** Where the delivery loop cuts batches; limits apply per partition. */
export type BatchLimits = {
	/** Events in one batch at most. */
	maxEvents: number;
	/** Sum of `measure(event)` in one batch at most. */
	maxBytes: number;
	/** A batch that is not full goes out this long after its first event. */
	delayMs: number;
};

export type Destination = {
	readonly kind: 'file' | 'kafka' | 'http' | 'cloudwatch';
	/** Where events go, for health and messages: a path, `broker/topic`, a URL without credentials, `region/group`. */
	readonly target: string;
	readonly limits: BatchLimits;
	/** Bytes an event counts for against `limits.maxBytes`. */
	measure(event: LogEvent): number;
	/**
	 * Events that must go out in different batches get different keys (CloudWatch: one batch per
	 * group and stream). Absent: one partition.
	 */
	partition?: (event: LogEvent) => string;
	/**
	 * Deliver one batch (already in bus order, within `limits`). Resolves once the destination
	 * acknowledged it; never throws (a throw counts as a retryable failure). A destination may
	 * make several requests for one batch (CloudWatch splitting a span over 24 h).
	 */
	send(events: readonly LogEvent[]): Promise<SendOutcome>;
	/**
	 * Settles once the first attempt to reach the peer did: undefined when it was reached, else why
	 * not. Until then the forwarder shows `connecting`, not `live`. Absent: nothing to reach first.
	 */
	connecting?: Promise<string | undefined>;
	/** Counters of its own for health (rejected too old, rotations, …). */
	details?: () => Record<string, number | string>;
	/** Release sockets and files. Idempotent. */
	close(): Promise<void>;
};

/** What a destination is built with besides its own config. */
export type DestinationContext = {
	/** The forwarder's name in the config (`--forward` ones are named after their kind). */
	name: string;
	diagnostics: Diagnostics;
	/** Where a destination may keep files of its own (state), beside the history. */
	stateDir?: string | undefined;
};
