import {z} from 'zod';
import {sourceName} from './common.js';

// Source kind "logstream": Acquia logstream over WebSocket (protocols.md §1).
export const defaultLogstreamTypes = ['apache-request', 'php-error', 'drupal-watchdog', 'varnish-request'];

export const logstreamConfig = z.strictObject({
	type: z.literal('logstream'),
	name: sourceName.optional(),
	/** A ready stream-environment message, obtained elsewhere. */
	url: z.string().url().optional(),
	auth: z.strictObject({site: z.string(), env: z.string(), t: z.union([z.string(), z.number()]), d: z.string()}).optional(),
	/** Or run the Cloud API v2 flow before every (re)connect. */
	acquia: z.strictObject({
		application: z.string().min(1),
		environment: z.string().min(1),
		credentials: z.string().default('~/.acquia/cloudapiv2.conf'),
		tokenUrl: z.string().url().optional(),
		apiUrl: z.string().url().optional(),
		/** Override the WebSocket base URL returned by the API (tests, private endpoints). */
		streamUrl: z.string().url().optional(),
	}).optional(),
	types: z.array(z.string()).default(defaultLogstreamTypes),
	/** Empty: every server. */
	servers: z.array(z.string()).default([]),
	maxPayload: z.number().int().positive().default(1024 * 1024),
	pingIntervalMs: z.number().int().positive().default(15_000),
	/** A connection silent this long is treated as dead. */
	deadAfterMs: z.number().int().positive().default(45_000),
}).refine(c => c.acquia !== undefined || (c.url !== undefined && c.auth !== undefined), {
	message: 'a logstream source needs either "acquia" (Cloud API sign-in) or both "url" and "auth"',
});

export type LogstreamConfig = z.infer<typeof logstreamConfig>;
