import {type SourceHandle} from '../core/bus.js';
import {type EventInit, type SourceKind} from '../core/event.js';
import {type Origin} from '../core/record.js';
import {type KafkaMessage, tp} from './kafka.js';
import {type DeliveredLog} from './kafka-delivered.js';
import {type RecordMapper} from './kafka-event.js';

// One fetched batch of one partition, as kafkajs' eachBatch hands it over: its records
// become events and go to the bus.
//
// No record can stop a partition. kafkajs fetches a batch again for as long as its
// handler throws, so one record that throws anywhere (while it is mapped, or in a stage
// after the bus such as the -o json writer) would be fetched again forever, with every
// record before it shown again each time. Here each record is mapped under its own
// guard, and a hand-over to the bus that throws is done again one event at a time: only
// the record that throws is lost, counted as an error in health, and the batch ends.
//
// Within one process, no offset is shown twice. After a broker restart or a rebalance
// the broker sends again what was shown but not yet committed; those records are
// skipped and counted (health: repeats).

/** Events handed to the bus at a time while a fetched batch is mapped: events that reach stdout at once die young. */
const publishSlice = 256;

export type FetchedBatch = {
	topic: string;
	partition: number;
	highWatermark: string;
	messages: KafkaMessage[];
};

const safe = 2 ** 52;

/** a <= b, for offsets as decimal text; exact past 2^53 too. */
function atOrBefore(a: string, b: string): boolean {
	const x = Number(a);
	const y = Number(b);
	return x < safe && y < safe ? x <= y : BigInt(a) <= BigInt(b);
}

/** What was thrown, as one short line; never throws itself. */
function describe(error: unknown): string {
	try {
		const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
		return text.length > 200 ? `${text.slice(0, 200)}…` : text;
	} catch {
		return 'an unprintable error';
	}
}

function offsetOf(e: EventInit): string {
	const offset = (e.record as {offset?: unknown} | undefined)?.offset;
	return typeof offset === 'number' ? String(offset) : '?';
}

export class BatchHandler {
	/** Records shown again after logmon restarted (the previous run had shown them). */
	redelivered = 0;
	/** Records the broker sent again within this run, skipped. */
	repeats = 0;
	/** Records whose handling threw, skipped. */
	failed = 0;
	/** Last offset shown per partition in this run. */
	private readonly lastShown = new Map<string, string>();
	private repeatReports = 0;

	constructor(
		private readonly source: {id: string; kind: SourceKind},
		private readonly mapper: RecordMapper,
		private readonly delivered: DeliveredLog | undefined,
	) {}

	/**
	 * Forget what this run showed of a partition: it is sought back to records not shown yet (a
	 * partition added while logmon consumes), which must not be taken for repeats.
	 */
	forget(topic: string, partition: number): void {
		this.lastShown.delete(tp(topic, partition));
	}

	/**
	 * Show the records of one batch. Nothing a record holds makes this throw.
	 * `reportRedelivery`: compare with what the previous run showed (not when this run was told where to start).
	 */
	handle(batch: FetchedBatch, handle: SourceHandle, reportRedelivery: boolean): void {
		const {topic, partition, messages} = batch;
		if (messages.length === 0) {
			return;
		}

		const key = tp(topic, partition);
		const last = messages.at(-1)!.offset;
		let shown = this.lastShown.get(key);
		if (shown !== undefined && atOrBefore(batch.highWatermark, shown)) {
			// The partition now ends before what this run showed: truncated or created again. Start afresh.
			shown = undefined;
		}

		// Offsets only grow within a batch, so the repeats are at its front.
		let from = 0;
		if (shown !== undefined) {
			while (from < messages.length && atOrBefore(messages[from]!.offset, shown)) {
				from++;
			}

			if (from > 0) {
				this.reportRepeats(handle, key, messages[0]!.offset, messages[from - 1]!.offset, from);
			}
		}

		if (from < messages.length) {
			this.show(batch, from, handle, reportRedelivery && this.delivered !== undefined);
			this.lastShown.set(key, last);
		}
	}

	private show(batch: FetchedBatch, from: number, handle: SourceHandle, reportRedelivery: boolean): void {
		const {topic, partition, messages} = batch;
		const key = tp(topic, partition);
		const last = messages.at(-1)!.offset;
		if (this.delivered) {
			this.delivered.mark(topic, partition, Number(last));
			this.delivered.save();
		}

		// One origin per batch: every record of it shares the topic and the receive time.
		const origin: Origin = {sourceId: this.source.id, sourceKind: this.source.kind, service: topic, receivedAt: Date.now(), parseError: why => {
			handle.parseError(`${topic}/${partition}: ${why}`);
		}};
		const events: EventInit[] = [];
		let again = 0;
		let firstAgain = '';
		let lastAgain = '';
		for (let i = from; i < messages.length; i++) {
			const m = messages[i]!;
			if (reportRedelivery && this.delivered!.deliveredBefore(topic, partition, Number(m.offset))) {
				if (again === 0) {
					firstAgain = m.offset;
				}

				again++;
				lastAgain = m.offset;
			}

			let e: EventInit | undefined;
			try {
				e = this.mapper.toEvent(origin, partition, m, handle);
			} catch (error) {
				this.fail(handle, `${key}@${m.offset}`, 'read', error);
				continue;
			}

			if (e) {
				events.push(e);
				if (events.length === publishSlice) {
					this.handOver(handle, key, events.splice(0));
				}
			}
		}

		this.handOver(handle, key, events);
		if (again > 0) {
			this.redelivered += again;
			handle.log('warn', `${again} records on ${key} (offsets ${firstAgain}–${lastAgain}) were delivered before logmon restarted; shown again (redelivered: ${this.redelivered})`);
		}
	}

	/**
	 * Hand events to the bus. When a stage after the bus throws on one of them, hand them
	 * over again one at a time, as copies (the bus stamped the first ones): only the one that
	 * throws is lost. A stage that had taken some of the first ones may see those twice.
	 */
	private handOver(handle: SourceHandle, key: string, events: EventInit[]): void {
		if (events.length === 0) {
			return;
		}

		// The bus counts events as read before it hands them on: a hand-over that throws is taken back.
		let counted = handle.health.events;
		try {
			handle.publish(events);
			return;
		} catch {
			handle.health.events = counted;
		}

		for (const e of events) {
			counted = handle.health.events;
			try {
				handle.publish([{...e}]);
			} catch (error) {
				handle.health.events = counted;
				this.fail(handle, `${key}@${offsetOf(e)}`, 'shown', error);
			}
		}
	}

	private fail(handle: SourceHandle, where: string, stage: 'read' | 'shown', error: unknown): void {
		this.failed++;
		handle.parseError(`record ${where} could not be ${stage} (${describe(error)}); skipped`);
	}

	private reportRepeats(handle: SourceHandle, key: string, first: string, last: string, count: number): void {
		this.repeats += count;
		this.repeatReports++;
		if (this.repeatReports <= 3 || this.repeatReports % 100 === 0) {
			handle.log('info', `${count} records on ${key} (offsets ${first}–${last}) were already shown by this run; skipped (repeats: ${this.repeats})`);
		}
	}
}
