import {z} from 'zod';
import {LEVELS} from '../core/event.js';
import {defaultBufferSize} from '../core/store.js';
import {defaultMaxLine} from '../core/lines.js';
import {alertsConfig} from './alerts.js';
import {kafkaConfig} from './kafka.js';
import {logioConfig, logioListenConfig} from './logio.js';
import {logstreamConfig} from './logstream.js';
import {stdinConfig} from './stdin.js';

// The whole config file: {"sources": [...], ...global options}. CLI flags override it.

export const sourceConfig = z.discriminatedUnion('type', [logstreamConfig, logioConfig, logioListenConfig, kafkaConfig, stdinConfig]);
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

export const outputFormats = ['text', 'raw', 'json', 'template'] as const;
export const colorModes = ['auto', 'always', 'never'] as const;

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
	ui: z.strictObject({
		/** Slowest and fastest UI refresh, ms. */
		minIntervalMs: z.number().int().min(16).default(50),
		maxIntervalMs: z.number().int().max(5000).default(1000),
	}).prefault({}),
	/** Alert rules over the live stream and the sinks they notify (config/alerts.ts). */
	alerts: alertsConfig,
});

export type ConfigFile = z.infer<typeof configFile>;
