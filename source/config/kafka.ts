import * as z from 'zod';
import {parseSince} from '../core/since.js';
import {sourceName} from './common.js';

// Source kind "kafka".

export {parseSince} from '../core/since.js';
export const defaultKafkaTopics = ['application-logs', 'application-logs-errors'];

/** SASL credentials, shared by the source and the kafka forwarder. */
export const kafkaSasl = z.strictObject({
	mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
	username: z.string(),
	password: z.string(),
});

/** TLS: true, or the CA, client certificate and key (PEM text or a file path). */
export const kafkaSsl = z.union([
	z.boolean(),
	z.strictObject({
		ca: z.string().optional(),
		cert: z.string().optional(),
		key: z.string().optional(),
		rejectUnauthorized: z.boolean().optional(),
	}),
]);

export const kafkaConfig = z.strictObject({
	type: z.literal('kafka'),
	name: sourceName.optional(),
	brokers: z.array(z.string().min(1)).min(1),
	topics: z.array(z.string().min(1)).default(defaultKafkaTopics),
	/** Default logmon-<user>-<hostname>. */
	group: z.string().min(1).optional(),
	/** A throw-away group: starts where asked, commits nothing anyone will reuse. */
	ephemeralGroup: z.boolean().default(false),
	from: z.enum(['latest', 'beginning']).default('latest'),
	/** 10m, 2h, or an RFC 3339 time: start from offsets for that time. */
	since: z.string().refine(v => parseSince(v) !== undefined, 'expected a duration like 30s, 10m, 2h, 1d or an RFC 3339 time').optional(),
	/** Stop once every assigned partition is read to its end (like kcat -e). */
	exitAtEnd: z.boolean().default(false),
	clientId: z.string().default('logmon'),
	sasl: kafkaSasl.optional(),
	ssl: kafkaSsl.default(false),
	/** Window for de-duplicating a record seen on both topics, ms. */
	dedupWindowMs: z.number().int().positive().default(60_000),
}).refine(c => !(c.from === 'beginning' && c.since !== undefined), {
	message: 'give either "from": "beginning" (--from-beginning) or "since" (--since), not both',
});

export type KafkaConfig = z.infer<typeof kafkaConfig>;

