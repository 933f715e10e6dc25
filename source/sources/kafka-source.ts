import {hostname, userInfo} from 'node:os';
import {type KafkaConfig} from '../config/kafka.js';
import {Backoff} from '../core/backoff.js';
import {type SourceHandle} from '../core/bus.js';
import {type Admin, type Consumer, type EachBatchPayload, type Kafka, client, groupConsumer, isFatal, reason, tp} from './kafka.js';
import {BatchHandler} from './kafka-batch.js';
import {CrossTopicDedup} from './kafka-dedup.js';
import {DeliveredLog, stateDir} from './kafka-delivered.js';
import {RecordMapper} from './kafka-event.js';
import {Positions} from './kafka-positions.js';
import {type SourceDeps} from './source.js';
import {type LogSource} from './source.js';

// The Kafka source: its lifecycle, the reconnect loop and group membership. The client
// is built in kafka.ts, each fetched batch is handled in kafka-batch.ts, positions and
// lag are kept in kafka-positions.ts.
//
// Consuming: eachBatch, offsets committed per batch after the batch is published
// (at-least-once). The bus pauses fetching when a consumer queue is full; records
// already fetched are still published. kafkajs' own retries are kept short and the
// reconnect loop here owns the backoff, so health shows "retrying in N s".

export function defaultGroup(): string {
	let user = process.env['USER'] ?? 'user';
	try {
		user = userInfo().username;
	} catch {
		// No passwd entry (containers): keep $USER.
	}

	return `logmon-${user}-${hostname()}`;
}

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
	private readonly delivered: DeliveredLog | undefined;
	private readonly mapper: RecordMapper;
	private readonly batches: BatchHandler;
	private readonly positions: Positions;
	private rebalances = 0;
	/** When this source started: partitions assigned later with no committed offset start at the first record since. */
	private readonly startedAt = Date.now();
	private lagTimer: NodeJS.Timeout | undefined;
	/** Partitions added while consuming, held (paused) from their assignment until they are sought to where they start. */
	private readonly held = new Map<string, {topic: string; partition: number}>();

	constructor(readonly id: string, readonly config: KafkaConfig, readonly deps: SourceDeps) {
		const base = config.group ?? defaultGroup();
		this.group = config.ephemeralGroup ? `${base}-${process.pid}-${Math.random().toString(36).slice(2, 8)}` : base;
		const dedup = config.topics.length > 1 ? new CrossTopicDedup({windowMs: config.dedupWindowMs}) : undefined;
		// A throw-away group is never resumed, so there is nothing to compare with later.
		this.delivered = config.ephemeralGroup ? undefined : new DeliveredLog(this.group, config.brokers, stateDir());
		this.mapper = new RecordMapper(deps.maxLine, dedup);
		this.batches = new BatchHandler(this, this.mapper, this.delivered);
		this.positions = new Positions(config);
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
		const {mapper, batches} = this;
		const counts = [
			mapper.duplicates > 0 ? `${mapper.duplicates} records seen on two topics shown once` : '',
			mapper.skipped > 0 ? `${mapper.skipped} tombstones or empty records skipped` : '',
			batches.redelivered > 0 ? `${batches.redelivered} records delivered again after a restart` : '',
			batches.repeats > 0 ? `${batches.repeats} repeats of records already shown skipped` : '',
			batches.failed > 0 ? `${batches.failed} records that could not be handled skipped` : '',
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
				// A topic's resume resumes its every partition: those still held stay paused.
				if (this.held.size > 0) {
					c.pause([...this.held.values()].map(h => ({topic: h.topic, partitions: [h.partition]})));
				}
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

	private async run(): Promise<void> {
		const handle = this.handle!;
		while (!this.stopping) {
			let upSince: number | undefined;
			let failure: unknown;
			const consumer = groupConsumer(this.kafka!, this.group);
			this.consumer = consumer;
			this.held.clear();
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
				// A failure here (unreachable, refused credentials) reaches the reconnect loop with its reason.
				await this.positions.resolveStart(async () => this.getAdmin());
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
				handle.setState('failed', reason(failure, this.config.brokers));
				break;
			}

			this.backoff.connectionEnded(upSince === undefined ? 0 : Date.now() - upSince);
			const delay = this.backoff.next();
			handle.setState('retrying', failure === undefined ? 'consumer stopped' : reason(failure, this.config.brokers), delay);
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
		const added: Array<{topic: string; partition: number}> = [];
		const parts = this.positions.assign(assignment, (topic, partition, offset) => {
			this.consumer?.seek({topic, partition, offset});
		}, (topic, partition) => added.push({topic, partition}));
		if (added.length > 0) {
			// Paused now, before kafkajs fetches them from their end: a record shown from there would
			// be taken for a repeat once they are sought back (see startAdded).
			for (const a of added) {
				this.held.set(tp(a.topic, a.partition), a);
			}

			try {
				this.consumer?.pause(added.map(a => ({topic: a.topic, partitions: [a.partition]})));
			} catch {
				// Not running: nothing is fetched either.
			}

			void this.startAdded(added);
		}

		handle.setState('live');
		handle.log('info', `joined group ${this.group}: ${parts.length > 0 ? parts.join(', ') : 'no partitions assigned'}`);
		this.publishDetails();
		void this.refreshLag();
	}

	/**
	 * Partitions assigned for the first time after this run's first join (most often created since):
	 * with no committed offset for the group, kafkajs would start them at their end (or their start,
	 * with --from-beginning), and what was written to them before the group noticed them would be
	 * lost. They start at the first record written since this source started instead: all of a
	 * partition created since, nothing older of one that was not. They are held paused from their
	 * assignment (joined) until they are sought, so nothing is shown from their end first (it would
	 * make the records before it look like repeats); what this run showed of them is forgotten.
	 */
	private async startAdded(added: Array<{topic: string; partition: number}>): Promise<void> {
		const handle = this.handle!;
		const consumer = this.consumer;
		try {
			const admin = await this.getAdmin();
			const topics = [...new Set(added.map(a => a.topic))];
			const committed = new Set<string>();
			for (const t of await admin.fetchOffsets({groupId: this.group, topics})) {
				for (const p of t.partitions) {
					if (Number(p.offset) >= 0) {
						committed.add(tp(t.topic, p.partition));
					}
				}
			}

			const wanted = new Set(added.map(a => tp(a.topic, a.partition)));
			for (const topic of topics) {
				for (const o of await admin.fetchTopicOffsetsByTimestamp(topic, this.startedAt)) {
					const key = tp(topic, o.partition);
					if (wanted.has(key) && !committed.has(key) && this.consumer === consumer && !this.stopping) {
						this.batches.forget(topic, o.partition);
						consumer?.seek({topic, partition: o.partition, offset: o.offset});
						handle.log('info', `${key}: newly assigned, with no committed offset: read from offset ${o.offset}, the first record since logmon started`);
					}
				}
			}
		} catch (error) {
			handle.log('warn', `newly assigned partitions (${added.map(a => tp(a.topic, a.partition)).join(', ')}): could not look up where to start (${reason(error)}); kafkajs' default applies`);
		} finally {
			this.release(consumer, added);
		}
	}

	/** Resume partitions held by startAdded (unless the bus has paused the consumer: its resume resumes them). */
	private release(consumer: Consumer | undefined, added: Array<{topic: string; partition: number}>): void {
		for (const a of added) {
			this.held.delete(tp(a.topic, a.partition));
		}

		if (!consumer || consumer !== this.consumer || this.paused) {
			return;
		}

		try {
			consumer.resume(added.map(a => ({topic: a.topic, partitions: [a.partition]})));
		} catch {
			// Not running any more.
		}
	}

	private async eachBatch(payload: EachBatchPayload): Promise<void> {
		const {batch} = payload;
		const last = batch.messages.at(-1)?.offset;
		if (last === undefined) {
			return;
		}

		// Nothing a record holds makes this throw. Should anything else, the batch is
		// skipped with a word rather than fetched again and again by kafkajs.
		try {
			this.batches.handle(batch, this.handle!, this.positions.startAt === undefined);
		} catch (error) {
			this.handle?.log('error', `records ${tp(batch.topic, batch.partition)}@${batch.messages[0]!.offset}–${last} could not be handled (${reason(error)}); skipped`);
		}

		payload.resolveOffset(last);
		await payload.commitOffsetsIfNecessary();
		this.positions.read(tp(batch.topic, batch.partition), Number(last) + 1, Number(batch.highWatermark));
		this.publishDetails();
		if (this.config.exitAtEnd) {
			this.checkEnd();
		}

		await payload.heartbeat();
	}

	/** --exit-at-end: done once every assigned partition has been read to its high watermark. */
	private checkEnd(): void {
		const handle = this.handle!;
		if (handle.health.state === 'ended' || !this.positions.allAtEnd()) {
			return;
		}

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

	/** Lag per partition: high watermark minus committed offset, from the brokers. */
	private async refreshLag(): Promise<void> {
		if (this.stopping || this.positions.assigned.length === 0) {
			return;
		}

		try {
			await this.positions.refresh(await this.getAdmin(), this.group);
			this.publishDetails();
			if (this.config.exitAtEnd) {
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

		h.detail('partitions', this.positions.assigned);
		h.detail('lag', Object.fromEntries(this.positions.lag));
		h.detail('rebalances', this.rebalances);
		h.detail('skipped', this.mapper.skipped);
		h.detail('duplicates', this.mapper.duplicates);
		h.detail('redelivered', this.batches.redelivered);
		h.detail('repeats', this.batches.repeats);
		h.detail('failedRecords', this.batches.failed);
	}
}
