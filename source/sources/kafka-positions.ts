import {type KafkaConfig, parseSince} from '../config/kafka.js';
import {type Admin, tp} from './kafka.js';

// Where the Kafka source stands in each partition: the start offsets this run was
// asked for (--from-beginning, --since), the assigned partitions, the next offset to
// read, high watermarks and lag, and whether every partition is read to its end
// (--exit-at-end). Keys are "topic/partition".

type StartConfig = Pick<KafkaConfig, 'topics' | 'from' | 'since' | 'ephemeralGroup'>;

export class Positions {
	/** Start offsets this run was asked for, applied once per partition; undefined when none were. */
	startAt: Map<string, string> | undefined;
	assigned: string[] = [];
	readonly lag = new Map<string, number>();
	/** Partitions already sought to their start offset: a rebalance must not seek them again. */
	private readonly positioned = new Set<string>();
	/** Next offset to read per partition, as far as this run knows. */
	private readonly position = new Map<string, number>();
	private readonly high = new Map<string, number>();
	private readonly atEnd = new Set<string>();
	/** Set once the brokers' high watermarks were read: before that, "at the end" cannot be told. */
	private endChecked = false;

	constructor(private readonly config: StartConfig) {}

	/** Offsets for --from-beginning / --since, per partition, before the group is joined. Throws what the admin client throws. */
	async resolveStart(getAdmin: () => Promise<Admin>): Promise<void> {
		const {config} = this;
		if (this.startAt !== undefined || (config.from !== 'beginning' && config.since === undefined)) {
			return;
		}

		// A throw-away group has no offsets, so subscribing from the beginning is enough.
		if (config.ephemeralGroup && config.since === undefined) {
			this.startAt = new Map();
			return;
		}

		const admin = await getAdmin();
		const startAt = new Map<string, string>();
		const since = config.since === undefined ? undefined : parseSince(config.since);
		for (const topic of config.topics) {
			const offsets = since === undefined
				? (await admin.fetchTopicOffsets(topic)).map(o => ({partition: o.partition, offset: o.low}))
				: await admin.fetchTopicOffsetsByTimestamp(topic, since);
			for (const o of offsets) {
				startAt.set(tp(topic, o.partition), o.offset);
			}
		}

		this.startAt = startAt;
	}

	/**
	 * A new assignment: partitions seen for the first time go to their start offset. Returns the
	 * assigned keys. `added` gets the partitions first assigned after this run's first assignment that
	 * have no start offset of their own: most often partitions created since, which a group without a
	 * committed offset for them would read from their end (see KafkaSource.startAdded).
	 */
	assign(assignment: Record<string, number[]>, seek: (topic: string, partition: number, offset: string) => void, added?: (topic: string, partition: number) => void): string[] {
		const parts: string[] = [];
		const first = this.positioned.size === 0;
		for (const [topic, partitions] of Object.entries(assignment)) {
			for (const p of [...partitions].sort((a, b) => a - b)) {
				const key = tp(topic, p);
				parts.push(key);
				const offset = this.startAt?.get(key);
				if (offset !== undefined && !this.positioned.has(key)) {
					seek(topic, p, offset);
					this.position.set(key, Number(offset));
				} else if (!first && !this.positioned.has(key)) {
					added?.(topic, p);
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

		return parts;
	}

	/** A batch was read: `next` is the offset after its last record, `high` the partition's high watermark. */
	read(key: string, next: number, high: number): void {
		this.position.set(key, next);
		this.high.set(key, high);
		this.lag.set(key, Math.max(0, high - next));
	}

	/** Lag per partition from the brokers: high watermark minus committed offset. */
	async refresh(admin: Admin, group: string): Promise<void> {
		const {topics} = this.config;
		const committed = await admin.fetchOffsets({groupId: group, topics});
		const done = new Map<string, number>();
		for (const t of committed) {
			for (const p of t.partitions) {
				done.set(tp(t.topic, p.partition), Number(p.offset));
			}
		}

		for (const topic of topics) {
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

		this.endChecked = true;
	}

	/** --exit-at-end: true once every assigned partition has been read to its high watermark. */
	allAtEnd(): boolean {
		if (this.assigned.length === 0 || !this.endChecked) {
			return false;
		}

		for (const key of this.assigned) {
			const pos = this.position.get(key);
			const high = this.high.get(key);
			if (pos !== undefined && high !== undefined && pos >= high) {
				this.atEnd.add(key);
			}
		}

		return this.assigned.every(k => this.atEnd.has(k));
	}
}
