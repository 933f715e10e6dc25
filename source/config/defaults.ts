import {defaultBufferSize} from '../core/store.js';
import {defaultMaxLine} from '../core/lines.js';
import {type LogioListenConfig} from './logio.js';
import {type ConfigFile} from './schema.js';

// What the config schema (schema.ts) gives when there is no config file, without zod: a run
// with no config starts without loading and building the schema (tens of ms).
// test/core/config.test.ts checks each against the schema's own result.

/** configFile.parse({}): a fresh object each time, as the caller may change it. */
export function defaultConfig(): ConfigFile {
	return {
		sources: [],
		buffer: defaultBufferSize,
		output: 'text',
		color: 'auto',
		maxLine: defaultMaxLine,
		filter: {grep: [], exclude: [], services: [], hosts: [], types: [], sources: []},
		history: {retention: 3 * 86_400_000, errorRetention: 30 * 86_400_000, maxSize: 2 * 1024 ** 3, flushMs: 1000},
		http: {maxStreamClients: 64, streamQueue: 10_000, streamStuckMs: 10_000},
		redact: {enabled: true, mode: 'mask', enable: [], disable: [], rules: [], fields: []},
		ui: {minIntervalMs: 50, maxIntervalMs: 1000},
		alerts: {defaults: {cooldown: 600_000, groupBy: [], resolve: true, notify: ['terminal']}, rules: [], sinks: {}},
		forward: [],
	};
}

/** sourceConfig.parse({type: 'logio-listen'}): the source of a run that names none. */
export function defaultListenSource(): LogioListenConfig {
	return {
		type: 'logio-listen',
		listen: '127.0.0.1:7701',
		maxValue: 1024 * 1024,
		maxPublishers: 1024,
		topicTimeoutMs: 5000,
		maxPartialBytes: 64 * 1024 * 1024,
		subscriberBufferBytes: 4 * 1024 * 1024,
	};
}
