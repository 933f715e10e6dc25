import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {truncationMarker} from '../core/lines.js';
import {type Origin, eventFromLine, eventFromRecord, parseJsonObject} from '../core/record.js';
import {type IHeaders, type KafkaMessage} from './kafka.js';
import {type CrossTopicDedup, dedupKey} from './kafka-dedup.js';

// One Kafka record to one event. A JSON object value uses the shared field names
// (core/record.ts) and keeps the Kafka metadata (topic, partition, offset, timestamp,
// key, headers) in `record`; any other value is a plain-text line. Tombstones, empty
// values and a record already shown from the other topic give no event, counted.

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

export class RecordMapper {
	/** Tombstones and empty values. */
	skipped = 0;
	/** Records already shown from another topic. */
	duplicates = 0;

	constructor(private readonly maxLine: number, private readonly dedup: CrossTopicDedup | undefined) {}

	/** The event for one record, or undefined when it gives none. May throw on a record nobody foresaw: the caller guards it. */
	toEvent(origin: Origin, partition: number, m: KafkaMessage, handle: SourceHandle): EventInit | undefined {
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
		if (value.length > this.maxLine) {
			cut = value.length - this.maxLine;
			text = value.toString('utf8', 0, this.maxLine);
			handle.parseError(`record ${topic}/${partition}@${m.offset} is longer than the cap, ${cut} bytes cut`);
		} else {
			text = value.toString('utf8');
		}

		const obj = cut === 0 ? parseJsonObject(text, why => {
			handle.parseError(`record ${topic}/${partition}@${m.offset}: ${why}`);
		}) : undefined;
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
}
