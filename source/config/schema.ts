import * as z from 'zod';
import {LEVELS} from '../core/event.js';
import {defaultBufferSize} from '../core/store.js';
import {defaultMaxLine} from '../core/lines.js';
import {alertsConfig} from './alerts.js';
import {connectConfig} from './connect.js';
import {dockerConfig} from './docker.js';
import {kafkaConfig} from './kafka.js';
import {logioConfig, logioListenConfig} from './logio.js';
import {logstreamConfig} from './logstream.js';
import {stdinConfig} from './stdin.js';
import {otlpConfig} from './otlp.js';
import {journaldConfig} from './journald.js';
import {colorModes, outputFormats} from './choices.js';
import {fileConfig} from './file.js';
import {historyConfig} from './history.js';
import {httpConfig} from './http.js';
import {forwardList} from './forward.js';

// The whole config file: {"sources": [...], ...global options}. CLI flags override it.

export const sourceConfig = z.discriminatedUnion('type', [logstreamConfig, logioConfig, logioListenConfig, kafkaConfig, stdinConfig, connectConfig, otlpConfig, journaldConfig, fileConfig, dockerConfig]);
export type SourceConfig = z.infer<typeof sourceConfig>;

const levelName = z.string().transform((v, ctx) => {
	const up = v.toUpperCase() === 'WARNING' ? 'WARN' : v.toUpperCase();
	const found = LEVELS.find(l => l === up);
	if (!found) {
		ctx.addIssue({code: 'custom', message: `expected one of ${LEVELS.join(', ').toLowerCase()}`});
		return z.NEVER;
	}

	return found;
});

export {colorModes, outputFormats};

export const configFile = z.strictObject({
	$schema: z.string().optional(),
	sources: z.array(sourceConfig).default([]),
	buffer: z.number().int().min(100).max(10_000_000).default(defaultBufferSize),
	output: z.enum(outputFormats).default('text'),
	template: z.string().optional(),
	color: z.enum(colorModes).default('auto'),
	maxLine: z.number().int().min(1024).default(defaultMaxLine),
	filter: z.strictObject({
		grep: z.array(z.string()).default([]),
		exclude: z.array(z.string()).default([]),
		level: levelName.optional(),
		services: z.array(z.string()).default([]),
		hosts: z.array(z.string()).default([]),
		types: z.array(z.string()).default([]),
		sources: z.array(z.string()).default([]),
	}).prefault({}),
	history: historyConfig,
	/** The HTTP server of `logmon serve` and --http (source/http/). */
	http: httpConfig,
	/** Redaction of secrets and personal data in events (core/redact.ts); on unless turned off. */
	redact: z.strictObject({
		enabled: z.boolean().default(true),
		mode: z.enum(['mask', 'hash']).default('mask'),
		/** The key of hash mode (say `${LOGMON_REDACT_KEY}`); without it one is made in the state directory. */
		key: z.string().min(16, 'expected at least 16 characters (a random key; put it in an environment variable)').optional(),
		/** Built-in rules to turn on besides the default ones: email, ipv4, ipv6, ip. */
		enable: z.array(z.string()).default([]),
		disable: z.array(z.string()).default([]),
		/** Your own rules: RE2 regexes; with a capture group, only the first group is replaced. */
		rules: z.array(z.strictObject({name: z.string(), pattern: z.string()})).default([]),
		/** Keys of JSON records whose whole value is replaced: `ssn`, `user.email`. */
		fields: z.array(z.string()).default([]),
	}).prefault({}),
	ui: z.strictObject({
		/** Slowest and fastest UI refresh, ms. */
		minIntervalMs: z.number().int().min(16).default(50),
		maxIntervalMs: z.number().int().max(5000).default(1000),
	}).prefault({}),
	/** Alert rules over the live stream and the sinks they notify (config/alerts.ts). */
	alerts: alertsConfig,
	/** Forwarders: the filtered stream sent on to files, Kafka, HTTP log stores, CloudWatch (config/forward.ts). */
	forward: forwardList,
});

export type ConfigFile = z.infer<typeof configFile>;
