import {readFileSync} from 'node:fs';
import {type ConnectionOptions} from 'node:tls';
import {
	type Admin,
	AssignerProtocol,
	CompressionTypes,
	type Consumer,
	Kafka,
	type KafkaConfig as ClientConfig,
	type ICustomPartitioner,
	type LogEntry,
	logLevel,
	Partitioners,
	type Producer,
	type SASLOptions,
} from 'kafkajs';
import {type KafkaConfig} from '../config/kafka.js';
import {expandHome} from '../config/locate.js';

// The Kafka client, and the only module that imports kafkajs: a later change of client
// library starts here. It builds the client from logmon's config (TLS, SASL, logging,
// retries), the consumer with its fetch tuning, the batch producer of the kafka
// forwarder (sinks/forward/kafka.ts), and the small producer and admin wrapper that
// `logmon publish`, the tests and the benchmark use. The other kafka-*.ts files take
// kafkajs' types from here.
// patches/kafkajs+2.2.4.patch speeds up kafkajs' record decoding (see the README).
//
//   kafka-source.ts     the source: lifecycle, the reconnect loop, group membership
//   kafka-batch.ts      one fetched batch: repeats skipped, records mapped and handed on, guarded
//   kafka-event.ts      one record to one event
//   kafka-positions.ts  start offsets, positions, lag, --exit-at-end
//   kafka-dedup.ts      a record on two topics shown once
//   kafka-delivered.ts  records shown again after logmon restarted, reported

export type {Admin, Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage} from 'kafkajs';

export type ConnectOptions = Pick<KafkaConfig, 'brokers' | 'clientId' | 'sasl' | 'ssl'>;

export type LogSink = (level: 'debug' | 'info' | 'warn' | 'error', text: string) => void;

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

/**
 * A request's wait for its answer (kafkajs: 30 s), besides fetches and group joins, which set their
 * own. A peer that accepts the connection and never answers showed `connecting` for 30 s a try.
 */
export const requestTimeoutMs = 10_000;

export function client(options: ConnectOptions, sink: LogSink, debug = false, requestTimeout = requestTimeoutMs): Kafka {
	return new Kafka({
		clientId: options.clientId,
		brokers: options.brokers,
		ssl: tlsOptions(options.ssl),
		...(options.sasl ? {sasl: saslOptions(options.sasl)} : {}),
		connectionTimeout: 3000,
		requestTimeout,
		// Short: the reconnect loop in KafkaSource owns the long backoff.
		retry: {initialRetryTime: 300, maxRetryTime: 3000, retries: 3},
		logLevel: debug ? logLevel.DEBUG : logLevel.WARN,
		logCreator: logCreator(sink),
	});
}

/**
 * The error a person should read: kafkajs wraps the cause in "retries exceeded". With `brokers`,
 * kafkajs' bare "Broker not connected" (after a peer that never answered) is given the brokers and why;
 * `timeoutMs`: the request timeout of the client that failed (the forwarder's is longer).
 */
export function reason(error: unknown, brokers?: readonly string[], timeoutMs = requestTimeoutMs): string {
	let e = error as {message?: unknown; cause?: unknown} | undefined;
	while (e?.cause && typeof e.cause === 'object') {
		e = e.cause as {message?: unknown; cause?: unknown};
	}

	let text = typeof e?.message === 'string' ? e.message : String(error);
	if (brokers && brokers.length > 0 && text === 'Broker not connected') {
		text = `${brokers.join(',')}: no answer within ${timeoutMs / 1000} s (${text})`;
	}

	return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Refused credentials or a config kafkajs rejects: trying again cannot help. Wrapped causes count too. */
export function isFatal(error: unknown): boolean {
	let e = error as {name?: unknown; cause?: unknown} | undefined;
	for (let depth = 0; e && depth < 10; depth++) {
		if (e.name === 'KafkaJSSASLAuthenticationError' || e.name === 'KafkaJSInvalidConfigurationError') {
			return true;
		}

		e = typeof e.cause === 'object' && e.cause !== null ? e.cause as {name?: unknown; cause?: unknown} : undefined;
	}

	return false;
}

/** "topic/partition": the key of a partition in logmon's maps and messages. */
export const tp = (topic: string, partition: number): string => `${topic}/${partition}`;

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

/** A group consumer. kafkajs' own retries are short: the source's reconnect loop owns the backoff. */
export function groupConsumer(kafka: Kafka, groupId: string): Consumer {
	return kafka.consumer({
		groupId,
		sessionTimeout: 10_000,
		// Partitions added to a topic are noticed at the next metadata refresh (kafkajs: every 5 min).
		metadataMaxAge: 10_000,
		rebalanceTimeout: 20_000,
		heartbeatInterval: 3000,
		...fetchTuning,
		retry: {initialRetryTime: 300, maxRetryTime: 3000, retries: 3, restartOnFailure: async () => false},
	});
}

// ---- The forwarder's batch producer ----

export type ProduceSettings = {
	/** -1: every in-sync replica, 1: the leader, 0: no acknowledgement. */
	acks: -1 | 0 | 1;
	compression: 'none' | 'gzip';
	/** How long the broker may take to acknowledge, ms. */
	timeoutMs: number;
};

export type TopicBatch = {topic: string; messages: Array<{key: Buffer | string | null; value: Buffer | string}>};

/**
 * kafkajs' default partitioner (murmur2 of the key, as the Java client), remembered per key
 * Buffer: its hash runs on BigInt-backed longs, a good part of a record's cost, and the
 * forwarder reuses one Buffer per key. Same partitions as the default, for the same keys.
 */
const keyedPartitioner: ICustomPartitioner = () => {
	const byDefault = Partitioners.DefaultPartitioner();
	const memo = new WeakMap<Buffer, {partitions: number; partition: number}>();
	return args => {
		const {message, partitionMetadata} = args;
		const key = message.key;
		if (!Buffer.isBuffer(key) || message.partition !== undefined) {
			return byDefault(args);
		}

		const known = memo.get(key);
		if (known?.partitions === partitionMetadata.length) {
			return known.partition;
		}

		const partition = byDefault(args);
		memo.set(key, {partitions: partitionMetadata.length, partition});
		return partition;
	};
};

/**
 * A producer that sends a whole batch, over topics, as one request per broker. kafkajs'
 * own retries are short (a leader change, a metadata refresh): the forwarder's delivery
 * loop owns the backoff.
 */
export class BatchProducer {
	private readonly producer: Producer;
	private connected: Promise<void> | undefined;

	constructor(kafka: Kafka, private readonly settings: ProduceSettings) {
		this.producer = kafka.producer({
			createPartitioner: keyedPartitioner,
			allowAutoTopicCreation: true,
			retry: {initialRetryTime: 200, maxRetryTime: 1000, retries: 2},
		});
		this.producer.on('producer.disconnect', () => {
			this.connected = undefined;
		});
	}

	/** Connects once; a failed attempt is tried again by the next call. */
	async connect(): Promise<void> {
		this.connected ??= this.producer.connect().catch((error: unknown) => {
			this.connected = undefined;
			throw error;
		});
		await this.connected;
	}

	/** Resolves once the brokers acknowledged every message (as `acks` asks). */
	async send(batches: TopicBatch[]): Promise<void> {
		await this.connect();
		await this.producer.sendBatch({
			topicMessages: batches,
			acks: this.settings.acks,
			timeout: this.settings.timeoutMs,
			compression: this.settings.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
		});
	}

	async disconnect(): Promise<void> {
		this.connected = undefined;
		await this.producer.disconnect().catch(() => undefined);
	}
}

/**
 * Whether a failed send can succeed when tried again, and why it failed. kafkajs wraps the
 * broker's error ("retries exceeded", "non-retriable"): the innermost one decides. A record
 * too large, a topic the credentials may not write, a bad topic name: never. Refused
 * credentials: never either.
 */
export function produceFailure(error: unknown): {retry: boolean; reason: string} {
	let e = error as {retriable?: unknown; type?: unknown; cause?: unknown} | undefined;
	for (let depth = 0; depth < 10 && e?.cause && typeof e.cause === 'object'; depth++) {
		e = e.cause as {retriable?: unknown; type?: unknown; cause?: unknown};
	}

	const type = typeof e?.type === 'string' ? `${e.type}: ` : '';
	return {retry: e?.retriable !== false && !isFatal(error), reason: `${type}${reason(error)}`};
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

	/** Create topics that do not exist yet; waits for their leaders. `maxMessageBytes` default 4 MiB. */
	async createTopics(topics: Array<{topic: string; partitions?: number; maxMessageBytes?: number}>): Promise<void> {
		const admin = await this.getAdmin();
		await admin.createTopics({
			waitForLeaders: true,
			topics: topics.map(t => ({topic: t.topic, numPartitions: t.partitions ?? 1, configEntries: [{name: 'max.message.bytes', value: String(t.maxMessageBytes ?? 4 * 1024 * 1024)}]})),
		});
	}

	/** Grow a topic to `count` partitions. */
	async addPartitions(topic: string, count: number): Promise<void> {
		const admin = await this.getAdmin();
		await admin.createPartitions({topicPartitions: [{topic, count}]});
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
		for (let attempt = 1; ; attempt++) {
			const admin = await this.getAdmin(); // eslint-disable-line no-await-in-loop
			try {
				return Object.fromEntries((await admin.fetchTopicOffsets(topic)).map(o => [tp(topic, o.partition), Number(o.high)])); // eslint-disable-line no-await-in-loop
			} catch (error) {
				// The admin client retries this only for an unknown topic. After a leader moved (a new
				// topic's leaders settling, a broker back), its metadata, kept for minutes, names the old
				// one: a new client reads it afresh.
				if (attempt >= 5 || (error as {retriable?: boolean}).retriable !== true) {
					throw error;
				}

				this.admin = undefined;
				await admin.disconnect().catch(() => undefined); // eslint-disable-line no-await-in-loop
				await new Promise(resolve => { // eslint-disable-line no-await-in-loop
					setTimeout(resolve, 200 * attempt);
				});
			}
		}
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
