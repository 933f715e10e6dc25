import * as z from 'zod';
import {sourceName} from './common.js';

// Source kind "logstream": Acquia logstream over WebSocket (protocols.md §1).
export const defaultLogstreamTypes = ['apache-request', 'php-error', 'drupal-watchdog', 'varnish-request'];

export const defaultTokenUrl = 'https://accounts.acquia.com/api/auth/oauth/token';
export const defaultApiUrl = 'https://cloud.acquia.com/api';

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
		/** Default https://accounts.acquia.com/api/auth/oauth/token. */
		tokenUrl: z.string().url().optional(),
		/** Base of the Cloud API, default https://cloud.acquia.com/api. */
		apiUrl: z.string().url().optional(),
		/** Override the WebSocket base URL returned by the API (tests, private endpoints). */
		streamUrl: z.string().url().optional(),
	}).optional(),
	types: z.array(z.string()).default(defaultLogstreamTypes),
	/** Empty: every server. */
	servers: z.array(z.string()).default([]),
	/**
	 * Largest frame read, bytes. A longer frame closes the connection (ws cannot skip one), so this is
	 * well above any real line; a line longer than --max-line inside it is cut there. Memory stays
	 * bounded: ws assembles one frame at a time.
	 */
	maxPayload: z.number().int().positive().default(16 * 1024 * 1024),
	/** Off by default: log frames are small and many, and inflating each costs more CPU than the bytes saved on a 2-core box. */
	perMessageDeflate: z.boolean().default(false),
	pingIntervalMs: z.number().int().positive().default(15_000),
	/** A connection silent this long is treated as dead. */
	deadAfterMs: z.number().int().positive().default(45_000),
}).refine(c => c.acquia !== undefined || (c.url !== undefined && c.auth !== undefined), {
	message: 'a logstream source needs either "acquia" (Cloud API sign-in) or both "url" and "auth"',
});

export type LogstreamConfig = z.infer<typeof logstreamConfig>;
export type LogstreamAuth = NonNullable<LogstreamConfig['auth']>;
export type AcquiaConfig = NonNullable<LogstreamConfig['acquia']>;
