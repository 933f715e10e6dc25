import * as z from 'zod';
import {ForwardTemplateError, compileTemplate} from '../core/forward-template.js';
import {parseDuration} from '../history/units.js';
import {durationField} from './common.js';
import {kafkaSasl, kafkaSsl} from './kafka.js';

// `forward` entries of type "kafka": only this kind's own fields (config/forward.ts adds the common ones).
//
//   {"type": "kafka", "brokers": ["10.0.0.5:9092"], "topic": "application-logs", "errorsTopic": true}
//
// Records have the shape of the services' Kafka logging handler (as `logmon publish` writes
// them). The batch settings bound one send; the default byte cap keeps each partition's
// record batch under the broker's default message.max.bytes (1 MiB) even uncompressed.

export const kafkaForwardDefaults = {
	topic: 'application-logs',
	batchSize: 10_000,
	batchBytes: 900_000,
	lingerMs: 100,
	maxRecordBytes: 900_000,
	maxInFlight: 4,
};

/** "100ms", "1s"; a bare number is seconds (as the forwarder's other durations). */
const linger = durationField('100ms or 1s', {seconds: 'nonnegative', parse: text => (text.trim() === '0' ? 0 : parseDuration(text)), max: 60_000, what: 'a duration up to 60s'});

/** Keys by name; anything else is a template such as "{service}-{host}". */
export const keyWords = new Set(['service', 'host', 'none']);

export const kafkaForwardConfig = z.strictObject({
	type: z.literal('kafka'),
	brokers: z.array(z.string().min(1)).min(1),
	topic: z.string().min(1).default(kafkaForwardDefaults.topic),
	/** ERROR and CRITICAL records also to this topic; true: `<topic>-errors`. */
	errorsTopic: z.union([z.boolean(), z.string().min(1)]).default(false),
	/** The record key (the partition follows it): "service", "host", "none", or a template such as "{service}-{host}". */
	key: z.string().min(1).default('service').superRefine((v, ctx) => {
		if (keyWords.has(v)) {
			return;
		}

		try {
			compileTemplate(v);
		} catch (error) {
			if (!(error instanceof ForwardTemplateError)) {
				throw error;
			}

			ctx.addIssue({code: 'custom', message: `${error.message}; or "service", "host" or "none"`});
		}
	}),
	/** all: every in-sync replica acknowledges (at-least-once); leader; none: fire and forget. */
	acks: z.enum(['all', 'leader', 'none']).default('all'),
	/** gzip is built into the client; snappy, lz4 and zstd would need extra codecs. */
	compression: z.enum(['none', 'gzip']).default('none'),
	/** Records in one send at most. */
	batchSize: z.number().int().min(1).max(100_000).default(kafkaForwardDefaults.batchSize),
	/** JSON bytes in one send at most. */
	batchBytes: z.number().int().min(1024).default(kafkaForwardDefaults.batchBytes),
	/** Sends awaiting the brokers' acknowledgement at once: the next batch is encoded and sent meanwhile. */
	maxInFlight: z.number().int().min(1).max(16).default(kafkaForwardDefaults.maxInFlight),
	/** A batch that is not full goes out this long after its first record (ms once parsed). */
	linger: linger.default(kafkaForwardDefaults.lingerMs),
	/** A longer record has its message cut, with a marker, to fit (and to batchBytes at most). */
	maxRecordBytes: z.number().int().min(1024).default(kafkaForwardDefaults.maxRecordBytes),
	clientId: z.string().min(1).default('logmon-forward'),
	sasl: kafkaSasl.optional(),
	ssl: kafkaSsl.default(false),
});

export type KafkaForwardConfig = z.infer<typeof kafkaForwardConfig>;

/** The errors topic a config names, or undefined. */
export function errorsTopicOf(config: Pick<KafkaForwardConfig, 'topic' | 'errorsTopic'>): string | undefined {
	if (config.errorsTopic === false) {
		return undefined;
	}

	return config.errorsTopic === true ? `${config.topic}-errors` : config.errorsTopic;
}

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off']);

/**
 * The config a `--forward` URL of this kind means:
 *   kafka://host:9092/topic?brokers=host2:9092,host3:9092&errors=1&key=host&acks=leader&compression=gzip
 * More brokers go in `brokers` (a URL cannot list several host:port pairs in its authority;
 * the authority's text is still split at commas when a caller got it past URL parsing).
 * `errors` is 1 (`<topic>-errors`) or a topic name. Other parameters are left to the schema to check.
 */
export function kafkaForwardFromUrl(url: URL): Record<string, unknown> {
	// The authority may list several brokers, which URL parsing does not split.
	const authority = /^kafka:\/\/([^/?#]*)/i.exec(url.href)?.[1] ?? url.host;
	const brokers = authority.split(',').map(b => b.trim()).filter(Boolean);
	const topic = decodeURIComponent(url.pathname.replace(/^\//, ''));
	const out: Record<string, unknown> = {type: 'kafka', brokers};
	if (topic) {
		out['topic'] = topic;
	}

	for (const [name, value] of url.searchParams) {
		switch (name) {
			case 'brokers': {
				brokers.push(...value.split(',').map(b => b.trim()).filter(Boolean));
				break;
			}

			case 'errors': {
				out['errorsTopic'] = truthy.has(value.toLowerCase()) ? true : (falsy.has(value.toLowerCase()) ? false : value);
				break;
			}

			case 'spool': {
				// The forwarder's own switch (config/forward.ts), as a URL can say it.
				out[name] = truthy.has(value.toLowerCase()) ? true : (falsy.has(value.toLowerCase()) ? false : value);
				break;
			}

			case 'batchSize':
			case 'batchBytes':
			case 'maxInFlight':
			case 'maxRecordBytes': {
				out[name] = /^\d+$/.test(value) ? Number(value) : value;
				break;
			}

			default: {
				// key, acks, compression, linger, clientId, and the forwarder's name and filter; an
				// unknown name fails the strict schema, naming it.
				out[name] = value;
			}
		}
	}

	return out;
}
