import {z} from 'zod';
import {sourceName} from './common.js';

// Source kind "kafka".
export const defaultKafkaTopics = ['application-logs', 'application-logs-errors'];

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
	since: z.string().optional(),
	clientId: z.string().default('logmon'),
	sasl: z.strictObject({
		mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
		username: z.string(),
		password: z.string(),
	}).optional(),
	ssl: z.union([
		z.boolean(),
		z.strictObject({
			ca: z.string().optional(),
			cert: z.string().optional(),
			key: z.string().optional(),
			rejectUnauthorized: z.boolean().optional(),
		}),
	]).default(false),
	/** Window for de-duplicating a record seen on both topics, ms. */
	dedupWindowMs: z.number().int().positive().default(60_000),
});

export type KafkaConfig = z.infer<typeof kafkaConfig>;
