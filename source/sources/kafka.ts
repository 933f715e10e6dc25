import {readFileSync} from 'node:fs';
import {hostname, userInfo} from 'node:os';
import {type ConnectionOptions} from 'node:tls';
import {
	type Admin,
	AssignerProtocol,
	type Consumer,
	type EachBatchPayload,
	type IHeaders,
	Kafka,
	type KafkaConfig as ClientConfig,
	type KafkaMessage,
	type LogEntry,
	logLevel,
	Partitioners,
	type Producer,
	type SASLOptions,
} from 'kafkajs';
import {type KafkaConfig, parseSince} from '../config/kafka.js';
import {expandHome} from '../config/load.js';
import {Backoff} from '../core/backoff.js';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {truncationMarker} from '../core/lines.js';
import {type Origin, eventFromLine, eventFromRecord, parseJsonObject} from '../core/record.js';
import {CrossTopicDedup, dedupKey} from './kafka-dedup.js';
import {DeliveredLog, stateDir} from './kafka-delivered.js';
import {type SourceDeps} from './index.js';
import {type LogSource} from './source.js';

// The Kafka source, and the only module that imports kafkajs: a later change of
// client library touches this file alone. It also exports the small producer and
// admin wrapper that `logmon publish`, the tests and the benchmark use.
// patches/kafkajs+2.2.4.patch speeds up kafkajs' record decoding (see the README).
//
// Consuming: eachBatch, offsets committed per batch after the batch is published
// (at-least-once). The bus pauses fetching when a consumer queue is full; records
// already fetched are still published. kafkajs' own retries are kept short and the
// reconnect loop here owns the backoff, so health shows "retrying in N s".

export type ConnectOptions = Pick<KafkaConfig, 'brokers' | 'clientId' | 'sasl' | 'ssl'>;

type LogSink = (level: 'debug' | 'info' | 'warn' | 'error', text: string) => void;

/** kafkajs logs go to logmon's diagnostics (never stdout); a repeat of the same text is held back for a minute. */
function logCreator(sink: LogSink): ClientConfig['logCreator'] {
	const lastSaid = new Map<string, number>();
	return () => ({namespace, level, log}: LogEntry) => {
		const {message, timestamp, logger, ...extra} = log;
		void timestamp;
		void logger;
		const detail = typeof extra['error'] === 'string' ? `: ${extra['error']}` : '';
		const text = `${namespace ? `[${namespace}] ` : ''}${String(message)}${detail}`;
		const now = Date.now();
		// kafkajs logs each failed attempt at ERROR although it retries, and the source
		// state already says "retrying (reason)": those go to debug (shown by --debug).
		if (level !== logLevel.WARN) {
			sink('debug', text);
			return;
		}

		if (now - (lastSaid.get(text) ?? 0) < 60_000) {
			return;
		}

		if (lastSaid.size > 200) {
			lastSaid.clear();
		}

		lastSaid.set(text, now);
		sink('warn', text);
	};
}

function pem(value: string): string {
	return value.includes('-----BEGIN') ? value : readFileSync(expandHome(value), 'utf8');
}

function tlsOptions(ssl: KafkaConfig['ssl']): boolean | ConnectionOptions {
	if (typeof ssl === 'boolean') {
		return ssl;
	}

	return {
		...(ssl.ca ? {ca: [pem(ssl.ca)]} : {}),
		...(ssl.cert ? {cert: pem(ssl.cert)} : {}),
		...(ssl.key ? {key: pem(ssl.key)} : {}),
		...(ssl.rejectUnauthorized === undefined ? {} : {rejectUnauthorized: ssl.rejectUnauthorized}),
	};
}

function saslOptions(sasl: NonNullable<KafkaConfig['sasl']>): SASLOptions {
	const {username, password} = sasl;
	switch (sasl.mechanism) {
		case 'plain': {
			return {mechanism: 'plain', username, password};
		}

		case 'scram-sha-256': {
			return {mechanism: 'scram-sha-256', username, password};
		}

		case 'scram-sha-512': {
			return {mechanism: 'scram-sha-512', username, password};
		}
	}
}

function client(options: ConnectOptions, sink: LogSink, debug = false): Kafka {
	return new Kafka({
		clientId: options.clientId,
		brokers: options.brokers,
		ssl: tlsOptions(options.ssl),
		...(options.sasl ? {sasl: saslOptions(options.sasl)} : {}),
		connectionTimeout: 3000,
		// Short: the reconnect loop in KafkaSource owns the long backoff.
		retry: {initialRetryTime: 300, maxRetryTime: 3000, retries: 3},
		logLevel: debug ? logLevel.DEBUG : logLevel.WARN,
		logCreator: logCreator(sink),
	});
}

/** The error a person should read: kafkajs wraps the cause in "retries exceeded". */
function reason(error: unknown): string {
	let e = error as {message?: unknown; cause?: unknown} | undefined;
	while (e?.cause && typeof e.cause === 'object') {
		e = e.cause as {message?: unknown; cause?: unknown};
	}

	const text = typeof e?.message === 'string' ? e.message : String(error);
	return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function isFatal(error: unknown): boolean {
	const name = (error as {name?: unknown} | undefined)?.name;
	return name === 'KafkaJSSASLAuthenticationError' || name === 'KafkaJSInvalidConfigurationError';
}

export function defaultGroup(): string {
	let user = process.env['USER'] ?? 'user';
	try {
		user = userInfo().username;
	} catch {
		// No passwd entry (containers): keep $USER.
	}

	return `logmon-${user}-${hostname()}`;
}

function headersText(headers: IHeaders | undefined): Record<string, string | string[]> | undefined {
	let out: Record<string, string | string[]> | undefined;
	// for-in, not Object.entries: most records have no headers, and this runs for each.
	for (const k in headers) {
		const v = headers[k];
		if (v !== undefined) {
			out ??= {};
			out[k] = Array.isArray(v) ? v.map(x => x.toString()) : v.toString();
		}
	}

	return out;
}

const tp = (topic: string, partition: number): string => `${topic}/${partition}`;

// Fetch tuning, measured with the benchmark (300,000 records of 250 bytes). At most
// 1 MB per fetch in all, not per partition: kafkajs decodes a whole response before
// the first batch is handed over, and with 4 partitions a 4 MB response kept four
// times the records alive through garbage collection (about 7% slower). 1 MB is
// about 4,000 such records, small next to the bus queue, so a pause takes effect
// soon. Sizes from 256 KB to 10 MB made no other difference beyond noise. The wait
// bounds latency on a quiet topic.
const fetchTuning = {
	maxBytesPerPartition: 1024 * 1024,
	maxBytes: 1024 * 1024,
	minBytes: 1,
	maxWaitTimeInMs: 250,
};

/** Events handed to the bus at a time while a fetched batch is mapped. */
const publishSlice = 256;

export class KafkaSource implements LogSource {
	readonly kind = 'kafka' as const;
	readonly group: string;
	private handle: SourceHandle | undefined;
	private kafka: Kafka | undefined;
	private consumer: Consumer | undefined;
	private adminReady: Promise<Admin> | undefined;
	private loop: Promise<void> | undefined;
	private stopping = false;
	private stopped: Promise<void> | undefined;
	private ending: Promise<void> | undefined;
	private paused = false;
	private wake: (() => void) | undefined;
	private readonly backoff = new Backoff({initialMs: 1000, maxMs: 30_000});
	private readonly dedup: CrossTopicDedup | undefined;
	private readonly delivered: DeliveredLog | undefined;
	/** Start offsets this run was asked for (--from-beginning, --since), applied once per partition. */
	private startAt: Map<string, string> | undefined;
	private readonly positioned = new Set<string>();
	private assigned: string[] = [];
	private readonly lag = new Map<string, number>();
	/** Next offset to read per partition, as far as this run knows. */
	private readonly position = new Map<string, number>();
	private readonly high = new Map<string, number>();
	private readonly atEnd = new Set<string>();
	private endChecked = false;
	private rebalances = 0;
	private skipped = 0;
	private duplicates = 0;
	private redelivered = 0;
	private lagTimer: NodeJS.Timeout | undefined;

	constructor(readonly id: string, readonly config: KafkaConfig, readonly deps: SourceDeps) {
		const base = config.group ?? defaultGroup();
		this.group = config.ephemeralGroup ? `${base}-${process.pid}-${Math.random().toString(36).slice(2, 8)}` : base;
		this.dedup = config.topics.length > 1 ? new CrossTopicDedup({windowMs: config.dedupWindowMs}) : undefined;
		// A throw-away group is never resumed, so there is nothing to compare with later.
		this.delivered = config.ephemeralGroup ? undefined : new DeliveredLog(this.group, config.brokers, stateDir());
	}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		handle.detail('group', this.group);
		handle.detail('topics', this.config.topics);
		this.publishDetails();
		try {
			this.kafka = client(this.config, (level, text) => {
				if (this.deps.debug) {
					process.stderr.write(`logmon: ${this.id}: kafkajs: ${text}\n`);
				} else {
					handle.log(level, `kafkajs: ${text}`);
				}
			}, this.deps.debug);
		} catch (error) {
			handle.setState('failed', reason(error));
			return;
		}

		handle.setState('connecting');
		this.loop = this.run();
		this.lagTimer = setInterval(() => {
			void this.refreshLag();
		}, 5000);
		this.lagTimer.unref();
	}

	pause = (): void => {
		this.paused = true;
		this.applyPause();
	};

	resume = (): void => {
		this.paused = false;
		this.applyPause();
	};

	async stop(): Promise<void> {
		this.stopped ??= this.shutDown();
		await this.stopped;
	}

	private async shutDown(): Promise<void> {
		this.stopping = true;
		clearInterval(this.lagTimer);
		this.wake?.();
		const consumer = this.consumer;
		this.consumer = undefined;
		// A clean disconnect leaves the group, so the others get its partitions at once.
		await consumer?.disconnect().catch(() => undefined);
		await this.ending;
		await this.loop;
		const admin = await this.adminReady?.catch(() => undefined);
		if (admin && this.config.ephemeralGroup) {
			await admin.deleteGroups([this.group]).catch(() => undefined);
		}

		await admin?.disconnect().catch(() => undefined);
		const counts = [
			this.duplicates > 0 ? `${this.duplicates} records seen on two topics shown once` : '',
			this.skipped > 0 ? `${this.skipped} tombstones or empty records skipped` : '',
			this.redelivered > 0 ? `${this.redelivered} records delivered again after a restart` : '',
		].filter(Boolean);
		if (counts.length > 0) {
			this.handle?.log('info', counts.join(', '));
		}
	}

	private applyPause(): void {
		const c = this.consumer;
		if (!c) {
			return;
		}

		const topics = this.config.topics.map(topic => ({topic}));
		try {
			if (this.paused) {
				c.pause(topics);
			} else {
				c.resume(topics);
			}
		} catch {
			// Not running yet; applied once it is.
		}
	}

	/** The admin client, connected; a failed connect is thrown (with its reason) and tried again next time. */
	private async getAdmin(): Promise<Admin> {
		if (!this.adminReady) {
			const admin = this.kafka!.admin({retry: {retries: 1, initialRetryTime: 300}});
			this.adminReady = admin.connect().then(() => admin, (error: unknown) => {
				this.adminReady = undefined;
				throw error;
			});
		}

		return this.adminReady;
	}

	/** Offsets for --from-beginning / --since, per partition, before the group is joined. */
	private async resolveStart(): Promise<void> {
		if (this.startAt !== undefined || (this.config.from !== 'beginning' && this.config.since === undefined)) {
			return;
		}

		// A throw-away group has no offsets, so subscribing from the beginning is enough.
		if (this.config.ephemeralGroup && this.config.since === undefined) {
			this.startAt = new Map();
			return;
		}

		// A failure here (unreachable, refused credentials) reaches the reconnect loop with its reason.
		const admin = await this.getAdmin();
		const startAt = new Map<string, string>();
		const since = this.config.since === undefined ? undefined : parseSince(this.config.since);
		for (const topic of this.config.topics) {
			const offsets = since === undefined
				? (await admin.fetchTopicOffsets(topic)).map(o => ({partition: o.partition, offset: o.low}))
				: await admin.fetchTopicOffsetsByTimestamp(topic, since);
			for (const o of offsets) {
				startAt.set(tp(topic, o.partition), o.offset);
			}
		}

		this.startAt = startAt;
	}

	private async run(): Promise<void> {
		const handle = this.handle!;
		while (!this.stopping) {
			let upSince: number | undefined;
			let failure: unknown;
			const consumer = this.kafka!.consumer({
				groupId: this.group,
				sessionTimeout: 10_000,
				rebalanceTimeout: 20_000,
				heartbeatInterval: 3000,
				...fetchTuning,
				retry: {initialRetryTime: 300, maxRetryTime: 3000, retries: 3, restartOnFailure: async () => false},
			});
			this.consumer = consumer;
			const crashed = new Promise<unknown>(resolve => {
				consumer.on(consumer.events.CRASH, event => {
					resolve(event.payload.error);
				});
				this.wake = () => {
					resolve(undefined);
				};
			});
			consumer.on(consumer.events.GROUP_JOIN, event => {
				upSince ??= Date.now();
				this.joined(event.payload.memberAssignment);
			});
			consumer.on(consumer.events.REBALANCING, () => {
				this.rebalances++;
				this.publishDetails();
			});

			try {
				await this.resolveStart();
				await consumer.connect();
				await consumer.subscribe({topics: this.config.topics, fromBeginning: this.config.from === 'beginning'});
				await consumer.run({
					eachBatchAutoResolve: false,
					autoCommit: true,
					partitionsConsumedConcurrently: 1,
					eachBatch: async payload => this.eachBatch(payload),
				});
				this.applyPause();
				failure = await crashed;
			} catch (error) {
				failure = error;
			}

			this.consumer = undefined;
			if (this.stopping) {
				break;
			}

			await consumer.disconnect().catch(() => undefined);
			if (this.stopping) {
				break;
			}

			if (failure === undefined && handle.health.state === 'ended') {
				break;
			}

			if (isFatal(failure)) {
				handle.setState('failed', reason(failure));
				break;
			}

			this.backoff.connectionEnded(upSince === undefined ? 0 : Date.now() - upSince);
			const delay = this.backoff.next();
			handle.setState('retrying', failure === undefined ? 'consumer stopped' : reason(failure), delay);
			handle.reconnected();
			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, delay);
				this.wake = () => {
					clearTimeout(timer);
					resolve();
				};
			});
			if (!this.stopping) {
				handle.setState('connecting');
			}
		}
	}

	private joined(assignment: Record<string, number[]>): void {
		const handle = this.handle!;
		const parts: string[] = [];
		for (const [topic, partitions] of Object.entries(assignment)) {
			for (const p of [...partitions].sort((a, b) => a - b)) {
				const key = tp(topic, p);
				parts.push(key);
				const offset = this.startAt?.get(key);
				if (offset !== undefined && !this.positioned.has(key)) {
					this.consumer?.seek({topic, partition: p, offset});
					this.position.set(key, Number(offset));
				}

				this.positioned.add(key);
			}
		}

		this.assigned = parts;
		for (const key of this.lag.keys()) {
			if (!parts.includes(key)) {
				this.lag.delete(key);
			}
		}

		handle.setState('live');
		handle.log('info', `joined group ${this.group}: ${parts.length > 0 ? parts.join(', ') : 'no partitions assigned'}`);
		this.publishDetails();
		void this.refreshLag();
	}

	private async eachBatch(payload: EachBatchPayload): Promise<void> {
		const {batch} = payload;
		const handle = this.handle!;
		const {topic, partition} = batch;
		const key = tp(topic, partition);
		const messages = batch.messages;
		if (messages.length === 0) {
			return;
		}

		const last = messages.at(-1)!.offset;
		const reportRedelivery = this.delivered !== undefined && this.startAt === undefined;
		if (this.delivered) {
			this.delivered.mark(topic, partition, Number(last));
			this.delivered.save();
		}

		// One origin per batch: every record of it shares the topic and the receive time.
		const origin: Origin = {sourceId: this.id, sourceKind: this.kind, service: topic, receivedAt: Date.now()};
		const events: EventInit[] = [];
		let again = 0;
		let firstAgain = '';
		let lastAgain = '';
		for (const m of messages) {
			if (reportRedelivery && this.delivered!.deliveredBefore(topic, partition, Number(m.offset))) {
				if (again === 0) {
					firstAgain = m.offset;
				}

				again++;
				lastAgain = m.offset;
			}

			const e = this.toEvent(origin, partition, m, handle);
			if (e) {
				events.push(e);
				// Hand over in small slices: events that reach stdout at once die young.
				if (events.length === publishSlice) {
					handle.publish(events.splice(0));
				}
			}
		}

		handle.publish(events);
		if (again > 0) {
			this.redelivered += again;
			handle.log('warn', `${again} records on ${key} (offsets ${firstAgain}–${lastAgain}) were delivered before logmon restarted; shown again (redelivered: ${this.redelivered})`);
		}

		payload.resolveOffset(last);
		await payload.commitOffsetsIfNecessary();
		const next = Number(last) + 1;
		const high = Number(batch.highWatermark);
		this.position.set(key, next);
		this.high.set(key, high);
		this.lag.set(key, Math.max(0, high - next));
		this.publishDetails();
		if (this.config.exitAtEnd) {
			this.checkEnd();
		}

		await payload.heartbeat();
	}

	private toEvent(origin: Origin, partition: number, m: KafkaMessage, handle: SourceHandle): EventInit | undefined {
		const topic = origin.service;
		const now = origin.receivedAt;
		const value = m.value;
		if (!value || value.length === 0) {
			this.skipped++;
			if (this.skipped <= 3 || this.skipped % 1000 === 0) {
				handle.log('info', `record ${topic}/${partition}@${m.offset} has no value (${value ? 'empty' : 'tombstone'}); skipped (skipped: ${this.skipped})`);
			}

			return undefined;
		}

		handle.addBytes(value.length);
		const kafkaTime = Number(m.timestamp);
		// Kept cheap: this runs for every record. The Kafka timestamp stays in ms.
		const meta: Record<string, unknown> = {
			topic,
			partition,
			offset: Number(m.offset),
			timestamp: Number.isFinite(kafkaTime) ? kafkaTime : m.timestamp,
			key: m.key ? m.key.toString('utf8') : null,
		};
		const headers = headersText(m.headers);
		if (headers) {
			meta['headers'] = headers;
		}

		let text: string;
		let cut = 0;
		if (value.length > this.deps.maxLine) {
			cut = value.length - this.deps.maxLine;
			text = value.toString('utf8', 0, this.deps.maxLine);
			handle.parseError(`record ${topic}/${partition}@${m.offset} is longer than the cap, ${cut} bytes cut`);
		} else {
			text = value.toString('utf8');
		}

		const obj = cut === 0 ? parseJsonObject(text) : undefined;
		let e: EventInit;
		if (obj) {
			meta['value'] = obj;
			// A record without a readable time of its own gets the Kafka timestamp.
			e = eventFromRecord(obj, text, origin, {record: meta, time: Number.isFinite(kafkaTime) ? kafkaTime : undefined});
			if (this.dedup) {
				const dk = dedupKey(obj, e.service, e.message);
				if (dk !== undefined && this.dedup.seen(dk, topic, now)) {
					this.duplicates++;
					if (this.duplicates <= 3 || this.duplicates % 1000 === 0) {
						handle.log('debug', `record ${topic}/${partition}@${m.offset} was already shown from another topic (duplicates: ${this.duplicates})`);
					}

					return undefined;
				}
			}
		} else {
			if (cut === 0 && text.trimStart().startsWith('{')) {
				handle.parseError(`record ${topic}/${partition}@${m.offset} is not valid JSON; shown as text`);
			}

			e = eventFromLine(text, origin);
			e.record = meta;
			if (Number.isFinite(kafkaTime)) {
				e.time = kafkaTime;
			}

			if (cut > 0) {
				const marker = truncationMarker(cut);
				e.message += marker;
				e.raw += marker;
			}
		}

		return e;
	}

	/** --exit-at-end: done once every assigned partition has been read to its high watermark. */
	private checkEnd(): void {
		const handle = this.handle!;
		if (handle.health.state === 'ended' || this.assigned.length === 0 || !this.endChecked) {
			return;
		}

		for (const key of this.assigned) {
			const pos = this.position.get(key);
			const high = this.high.get(key);
			if (pos !== undefined && high !== undefined && pos >= high) {
				this.atEnd.add(key);
			}
		}

		if (this.assigned.every(k => this.atEnd.has(k))) {
			handle.setState('ended', 'read to the end');
			this.stopping = true;
			this.wake?.();
			// Leave the group after this batch's commit has gone out.
			const consumer = this.consumer;
			this.consumer = undefined;
			this.ending = new Promise(resolve => {
				setImmediate(() => {
					void consumer?.disconnect().catch(() => undefined).then(() => {
						resolve();
					});
				});
			});
		}
	}

	/** Lag per partition: high watermark minus committed offset, from the brokers. */
	private async refreshLag(): Promise<void> {
		if (this.stopping || this.assigned.length === 0) {
			return;
		}

		try {
			const admin = await this.getAdmin();
			const committed = await admin.fetchOffsets({groupId: this.group, topics: this.config.topics});
			const done = new Map<string, number>();
			for (const t of committed) {
				for (const p of t.partitions) {
					done.set(tp(t.topic, p.partition), Number(p.offset));
				}
			}

			for (const topic of this.config.topics) {
				for (const o of await admin.fetchTopicOffsets(topic)) {
					const key = tp(topic, o.partition);
					if (!this.assigned.includes(key)) {
						continue;
					}

					const high = Number(o.high);
					const at = done.get(key) ?? -1;
					// No commit yet: the position this run knows, else where a new group starts.
					const committedAt = at >= 0 ? at : (this.position.get(key) ?? Number(this.config.from === 'beginning' ? o.low : o.high));
					this.lag.set(key, Math.max(0, high - committedAt));
					this.high.set(key, Math.max(high, this.high.get(key) ?? 0));
					if (!this.position.has(key)) {
						this.position.set(key, committedAt);
					}
				}
			}

			this.publishDetails();
			if (this.config.exitAtEnd) {
				this.endChecked = true;
				this.checkEnd();
			}
		} catch (error) {
			this.handle?.log('debug', `lag lookup failed: ${reason(error)}`);
		}
	}

	private publishDetails(): void {
		const h = this.handle;
		if (!h) {
			return;
		}

		h.detail('partitions', this.assigned);
		h.detail('lag', Object.fromEntries(this.lag));
		h.detail('rebalances', this.rebalances);
		h.detail('skipped', this.skipped);
		h.detail('duplicates', this.duplicates);
		h.detail('redelivered', this.redelivered);
	}
}

// ---- Producer and admin wrapper for `logmon publish`, the tests and the benchmark ----

export type OutRecord = {
	key?: string | null;
	value: string | Buffer | null;
	partition?: number;
	headers?: Record<string, string>;
	timestamp?: number;
};

export type GroupMember = {memberId: string; clientId: string; partitions: string[]};

export class KafkaTool {
	private readonly kafka: Kafka;
	private producer: Producer | undefined;
	private admin: Admin | undefined;

	constructor(options: Partial<ConnectOptions> & {brokers: string[]}, log: LogSink = () => undefined) {
		this.kafka = client({clientId: 'logmon', ssl: false, ...options}, log);
	}

	private async getAdmin(): Promise<Admin> {
		if (!this.admin) {
			const admin = this.kafka.admin();
			await admin.connect();
			this.admin = admin;
		}

		return this.admin;
	}

	/** Create topics that do not exist yet; waits for their leaders. */
	async createTopics(topics: Array<{topic: string; partitions?: number}>): Promise<void> {
		const admin = await this.getAdmin();
		await admin.createTopics({
			waitForLeaders: true,
			topics: topics.map(t => ({topic: t.topic, numPartitions: t.partitions ?? 1, configEntries: [{name: 'max.message.bytes', value: String(4 * 1024 * 1024)}]})),
		});
	}

	/** Send records to one topic; resolves when the brokers have them. */
	async produce(topic: string, records: OutRecord[]): Promise<void> {
		if (records.length === 0) {
			return;
		}

		if (!this.producer) {
			const producer = this.kafka.producer({createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true});
			await producer.connect();
			this.producer = producer;
		}

		await this.producer.send({
			topic,
			messages: records.map(r => ({
				key: r.key ?? null,
				value: r.value,
				...(r.partition === undefined ? {} : {partition: r.partition}),
				...(r.headers ? {headers: r.headers} : {}),
				...(r.timestamp === undefined ? {} : {timestamp: String(r.timestamp)}),
			})),
		});
	}

	/** Committed offsets of a group, "topic/partition" -> next offset (-1: none). */
	async committed(group: string, topics: string[]): Promise<Record<string, number>> {
		const admin = await this.getAdmin();
		const out: Record<string, number> = {};
		for (const t of await admin.fetchOffsets({groupId: group, topics})) {
			for (const p of t.partitions) {
				out[tp(t.topic, p.partition)] = Number(p.offset);
			}
		}

		return out;
	}

	/** High watermarks, "topic/partition" -> offset. */
	async highWatermarks(topic: string): Promise<Record<string, number>> {
		const admin = await this.getAdmin();
		return Object.fromEntries((await admin.fetchTopicOffsets(topic)).map(o => [tp(topic, o.partition), Number(o.high)]));
	}

	/** Move a group's committed offsets (the group must have no members). */
	async setOffsets(group: string, topic: string, partitions: Array<{partition: number; offset: number}>): Promise<void> {
		const admin = await this.getAdmin();
		await admin.setOffsets({groupId: group, topic, partitions: partitions.map(p => ({partition: p.partition, offset: String(p.offset)}))});
	}

	/** The group's state and who holds which partitions. */
	async describeGroup(group: string): Promise<{state: string; members: GroupMember[]}> {
		const admin = await this.getAdmin();
		const {groups} = await admin.describeGroups([group]);
		const g = groups[0];
		if (!g) {
			return {state: 'Dead', members: []};
		}

		return {
			state: g.state,
			members: g.members.map(m => {
				const decoded = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
				const partitions = decoded ? Object.entries(decoded.assignment).flatMap(([topic, ps]) => ps.map(p => tp(topic, p))) : [];
				return {memberId: m.memberId, clientId: m.clientId, partitions};
			}),
		};
	}

	async disconnect(): Promise<void> {
		await this.producer?.disconnect().catch(() => undefined);
		await this.admin?.disconnect().catch(() => undefined);
		this.producer = undefined;
		this.admin = undefined;
	}
}
