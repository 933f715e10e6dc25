import {randomBytes} from 'node:crypto';
import {type KafkaForwardConfig, errorsTopicOf} from '../../config/forward-kafka.js';
import {type LogEvent} from '../../core/event.js';
import {compileTemplate} from '../../core/forward-template.js';
import {handlerRecord, handlerRecordJson, isErrorLevel} from '../../core/handler-record.js';
import {truncationMarker} from '../../core/lines.js';
import {BatchProducer, type TopicBatch, client, produceFailure, reason} from '../../sources/kafka.js';
import {type Destination, type DestinationContext, type SendOutcome} from './destination.js';

// The kafka destination: each batch is one send (one request per broker) of records in the
// Kafka logging handler's shape, keyed by service by default; ERROR and CRITICAL records go
// to the errors topic too when asked, with the same id so a consumer of both shows them once.
// The client is the one the Kafka source uses (sources/kafka.ts).

/** Per-record framing in a Kafka record batch (lengths, deltas, attributes), counted with its JSON. */
const recordOverhead = 20;
const acksOf = {all: -1, leader: 1, none: 0} as const;
/** Encoded events held at most (a guard: the delivery loop holds far fewer). */
const encodedCap = 2_000_000;
/**
 * How long the broker may wait for replicas before it answers a send (the forwarder's own `timeout`
 * bounds the whole attempt); the client waits a little longer for that answer.
 */
const ackTimeoutMs = 10_000;
/** How long the client waits for a broker's answer to a request. */
const forwardRequestTimeoutMs = ackTimeoutMs + 5000;
/** How long closing waits for kafkajs to leave: a broker that stopped answering held a stop for 30 s. */
const closeTimeoutMs = 2000;

/** An event as it is sent: encoded once, when the forwarder measures it. */
type Encoded = {message: {key: Buffer | null; value: Buffer}; bytes: number};

/** The record key for an event, as configured: by name, or a template (core/forward-template.ts). */
function keyFunction(key: string, where: string): (e: LogEvent) => string | null {
	switch (key) {
		case 'service': {
			return e => e.service;
		}

		case 'host': {
			return e => e.host;
		}

		case 'none': {
			return () => null;
		}

		default: {
			return compileTemplate(key, {where});
		}
	}
}

export async function createDestination(config: KafkaForwardConfig, context: DestinationContext): Promise<Destination> {
	const origin = `forward ${context.name}`;
	const errorsTopic = errorsTopicOf(config);
	const keyOf = keyFunction(config.key, `${origin}: key`);
	const maxRecordBytes = Math.min(config.maxRecordBytes, config.batchBytes);
	const kafka = client(config, (level, text) => {
		context.diagnostics.add(level, origin, `kafkajs: ${text}`);
	}, false, forwardRequestTimeoutMs);
	const producer = new BatchProducer(kafka, {acks: acksOf[config.acks], compression: config.compression, timeoutMs: ackTimeoutMs});
	const target = `${config.brokers.join(',')}/${config.topic}`;

	// Keys repeat (a service, a host): each is made a Buffer once, not for every record.
	const keys = new Map<string, Buffer>();
	const keyBuffer = (key: string | null): Buffer | null => {
		if (key === null) {
			return null;
		}

		let b = keys.get(key);
		if (!b) {
			if (keys.size >= 10_000) {
				keys.clear();
			}

			b = Buffer.from(key);
			keys.set(key, b);
		}

		return b;
	};

	// Ids for records whose original has none: unique to this run, the same for every retry of an event.
	const idPrefix = randomBytes(6).toString('base64url');
	// An event is encoded once, when the delivery loop measures it, and sent from that; it is let
	// go once its batch is settled (sent, or set aside), or when the destination closes. Events
	// measured are held by the delivery loop until then, so this holds no more than it does.
	const encoded = new Map<LogEvent, Encoded>();
	let sent = 0;
	let errorCopies = 0;
	let truncated = 0;

	const encode = (e: LogEvent): Encoded => {
		let done = encoded.get(e);
		if (done) {
			return done;
		}

		const newId = (): string => `${idPrefix}-${e.seq.toString(36)}`;
		let value = Buffer.from(handlerRecordJson(e, newId));
		if (value.length > maxRecordBytes) {
			value = Buffer.from(shrink(handlerRecord(e, newId), e, newId, maxRecordBytes));
			truncated++;
		}

		const key = keyBuffer(keyOf(e));
		done = {message: {key, value}, bytes: value.length + (key?.length ?? 0) + recordOverhead};
		if (encoded.size >= encodedCap) {
			// Only if events were measured and never sent: encoded again when they are.
			encoded.clear();
		}

		encoded.set(e, done);
		return done;
	};

	const settled = (events: readonly LogEvent[]): void => {
		for (const e of events) {
			encoded.delete(e);
		}
	};

	// Reach the brokers now, so a wrong address shows at start; the first send tries again if they are down.
	const connected = producer.connect().then(() => undefined, (error: unknown) => {
		const why = `cannot reach ${config.brokers.join(', ')} yet: ${reason(error, config.brokers, forwardRequestTimeoutMs)}; sends will try again`;
		context.diagnostics.add('warn', origin, why);
		return why;
	});
	await Promise.race([connected, new Promise(resolve => {
		setTimeout(resolve, 5000).unref();
	})]);

	/** The size of a batch the broker last refused as too large, halved: later batches go out in parts under it. */
	let fitBytes = Number.POSITIVE_INFINITY;

	/**
	 * One send. A batch the broker refuses as too large (the topic's max.message.bytes is below
	 * batchBytes) is sent again in halves, down to single records: only a record too large on its
	 * own is refused, not the records sent with it.
	 */
	const sendFitting = async (events: readonly LogEvent[]): Promise<SendOutcome> => {
		const main: TopicBatch = {topic: config.topic, messages: []};
		const errors: TopicBatch | undefined = errorsTopic === undefined ? undefined : {topic: errorsTopic, messages: []};
		let bytes = 0;
		for (const e of events) {
			const {message, bytes: b} = encode(e);
			bytes += b;
			main.messages.push(message);
			if (errors && isErrorLevel(e.level)) {
				errors.messages.push(message);
			}
		}

		try {
			await producer.send(errors && errors.messages.length > 0 ? [main, errors] : [main]);
		} catch (error) {
			const failure = produceFailure(error);
			const tooLarge = /TOO_LARGE/.test(failure.reason);
			if (tooLarge && events.length > 1) {
				fitBytes = Math.min(fitBytes, Math.max(1, Math.floor(bytes / 2)));
				const half = Math.ceil(events.length / 2);
				const first = await sendFitting(events.slice(0, half));
				if (!first.ok && first.retry) {
					return first;
				}

				const second = await sendFitting(events.slice(half));
				if (!second.ok && second.retry) {
					return second;
				}

				const refused = [...(first.ok ? [] : first.refused ?? events.slice(0, half)), ...(second.ok ? [] : second.refused ?? events.slice(half))];
				const failed = first.ok ? second : first;
				return failed.ok ? {ok: true} : {ok: false, retry: false, reason: failed.reason, refused};
			}

			if (!failure.retry) {
				settled(events);
			}

			const hint = tooLarge ? ' (lower "maxRecordBytes", or raise the topic\'s max.message.bytes)' : '';
			return {ok: false, retry: failure.retry, reason: `${target}: ${failure.reason}${hint}`};
		}

		settled(events);
		sent += main.messages.length;
		errorCopies += errors?.messages.length ?? 0;
		return {ok: true};
	};

	const limits = {maxEvents: config.batchSize, maxBytes: config.batchBytes, delayMs: config.linger};
	const lanes = new Lanes(config.maxInFlight, limits);
	return {
		kind: 'kafka',
		target,
		limits,
		connecting: connected,
		measure: e => encode(e).bytes,
		partition: e => lanes.of(encode(e).bytes),
		async send(events: readonly LogEvent[]): Promise<SendOutcome> {
			// Past a size the broker refused as too large, a batch goes out in parts under it.
			if (fitBytes === Number.POSITIVE_INFINITY) {
				return sendFitting(events);
			}

			const refused: LogEvent[] = [];
			let reason = '';
			let start = 0;
			let bytes = 0;
			for (let i = 0; i <= events.length; i++) {
				const b = i < events.length ? encode(events[i]!).bytes : 0;
				if (i === events.length || (i > start && bytes + b > fitBytes)) {
					const part = events.slice(start, i);
					const outcome = await sendFitting(part);
					if (!outcome.ok && outcome.retry) {
						return outcome;
					}

					if (!outcome.ok) {
						refused.push(...(outcome.refused ?? part));
						reason = outcome.reason;
					}

					start = i;
					bytes = 0;
				}

				bytes += b;
			}

			return refused.length === 0 ? {ok: true} : {ok: false, retry: false, reason, refused};
		},
		details: () => ({
			topic: config.topic,
			...(errorsTopic === undefined ? {} : {errorsTopic, errorCopies}),
			records: sent,
			truncated,
		}),
		async close() {
			encoded.clear();
			await Promise.race([producer.disconnect(), new Promise(resolve => {
				setTimeout(resolve, closeTimeoutMs).unref();
			})]);
		},
	};
}

/**
 * The forwarder keeps one batch in flight per partition. Kafka needs no partitions of its own
 * here (the key picks the Kafka partition), but waiting for each acknowledgement before encoding
 * the next batch left logmon idle half the time. So consecutive runs of events, each run the size
 * of a full batch (the forwarder's own cutting rule), take turns over `count` lanes: a run is one
 * batch, sent in order over the same connections, and up to `count` are in flight at once.
 * It relies on the forwarder asking for each event's partition in the order events come.
 */
class Lanes {
	private readonly names: string[];
	private lane = 0;
	private events = 0;
	private bytes = 0;

	constructor(count: number, private readonly limits: {maxEvents: number; maxBytes: number}) {
		this.names = Array.from({length: count}, (_, i) => `lane-${i}`);
	}

	of(bytes: number): string {
		const {maxEvents, maxBytes} = this.limits;
		if (this.events > 0 && (this.events + 1 > maxEvents || this.bytes + bytes > maxBytes)) {
			this.turn();
		}

		const name = this.names[this.lane]!;
		this.events++;
		this.bytes += bytes;
		if (this.events >= maxEvents || this.bytes >= maxBytes) {
			this.turn();
		}

		return name;
	}

	private turn(): void {
		this.lane = (this.lane + 1) % this.names.length;
		this.events = 0;
		this.bytes = 0;
	}
}

/**
 * A record over the size cap: its message is cut, with a marker, to fit; when the message is
 * not what makes it large, the original's other fields are left out as well.
 */
function shrink(record: Record<string, unknown>, e: LogEvent, newId: () => string, max: number): string {
	const cut = (r: Record<string, unknown>): {value: string; bytes: number} => {
		const message = String(r['message']);
		const over = Buffer.byteLength(JSON.stringify(r)) - max;
		// Each character removed takes at least one byte off the JSON; room for the marker too.
		let keep = Math.max(0, message.length - over - 48);
		if (keep > 0 && /[\uD800-\uDBFF]/.test(message[keep - 1]!)) {
			keep--;
		}

		const removed = Buffer.byteLength(message.slice(keep));
		const value = JSON.stringify({...r, message: message.slice(0, keep) + truncationMarker(removed)});
		return {value, bytes: Buffer.byteLength(value)};
	};

	const first = cut(record);
	if (first.bytes <= max) {
		return first.value;
	}

	// The original's other fields are what is large: keep only the handler's own.
	const bare = handlerRecord({...e, raw: String(record['message'])}, newId, null);
	const second = cut({...bare, id: record['id']});
	if (second.bytes <= max) {
		return second.value;
	}

	return JSON.stringify({id: record['id'], timestamp: record['timestamp'], level: e.level, message: truncationMarker(Buffer.byteLength(String(record['message'])))});
}
