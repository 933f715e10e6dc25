import {Bus, type SourceHandle} from '../source/core/bus.js';
import {type LogEvent} from '../source/core/event.js';
import {type LogstreamConfig, logstreamConfig} from '../source/config/logstream.js';
import {LogstreamSource, type LogstreamOptions} from '../source/sources/logstream.js';
import {type LogstreamTestServer} from '../source/testing/logstream-server.js';

// Shared by the logstream tests: an in-process source on a real bus, talking to
// the real test servers over real sockets.

export {freePort, until} from './support/logmon.js';

export type Harness = {
	bus: Bus;
	handle: SourceHandle;
	source: LogstreamSource;
	/** Every event published, markers included. */
	events: LogEvent[];
	/** Real log lines only. */
	lines: () => LogEvent[];
	debug: string[];
	stop: () => Promise<void>;
};

export function config(raw: Record<string, unknown>): LogstreamConfig {
	return logstreamConfig.parse({type: 'logstream', ...raw});
}

/** A source with static url + auth from the test server. */
export function staticConfig(server: LogstreamTestServer, extra: Record<string, unknown> = {}): LogstreamConfig {
	return config({url: server.url, auth: server.auth(), ...extra});
}

export async function startSource(cfg: LogstreamConfig, options: LogstreamOptions & {debug?: boolean; id?: string; bus?: Bus; maxLine?: number} = {}): Promise<Harness> {
	const bus = options.bus ?? new Bus();
	const debug: string[] = [];
	const id = options.id ?? 'logstream';
	const source = new LogstreamSource(id, cfg, {diagnostics: bus.diagnostics, debug: options.debug ?? false, maxLine: options.maxLine ?? 1024 * 1024}, {
		debugOut: line => debug.push(line),
		backoff: {initialMs: 100, maxMs: 1000, ...options.backoff},
		...(options.authFallbackMs === undefined ? {} : {authFallbackMs: options.authFallbackMs}),
	});
	const handle = bus.addSource(id, 'logstream');
	const events: LogEvent[] = [];
	bus.subscribe(batch => {
		for (const e of batch) {
			if (e.sourceId === id) {
				events.push(e);
			}
		}
	});
	await source.start(handle);
	return {
		bus,
		handle,
		source,
		events,
		lines: () => events.filter(e => !e.marker),
		debug,
		stop: async () => source.stop(),
	};
}

/** The client messages of one connection, as parsed objects. */
export function sent(server: LogstreamTestServer, connection = 0): Array<Record<string, unknown>> {
	return (server.connections[connection]?.received ?? []) as Array<Record<string, unknown>>;
}

