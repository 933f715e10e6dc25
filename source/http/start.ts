import {type App} from '../app.js';
import {threadedReader} from '../history/reader-thread.js';
import {startAggregates} from './aggregates.js';
import {readBaseline} from './history-baseline.js';
import {type HttpContext, type HttpCounters, defaultLimits} from './context.js';
import {startGrafana} from './grafana-live.js';
import {createRouter} from './routes.js';
import {type HttpServer, startServer} from './server.js';
import {type HttpSettings} from './settings.js';

// The HTTP server of a run (--http, logmon serve): its context over the app, then the server.
// Loaded only when HTTP is on. Call before the sources start, so the aggregates see every event.

export type RunningHttp = HttpServer & {readonly context: HttpContext};

export type StartHttpOptions = {
	version: string;
	/** The history's flush interval (settings.history.flushMs). */
	historyFlushMs: number;
	say: HttpContext['say'];
	now?: () => number;
};

export async function startHttp(app: App, settings: HttpSettings, options: StartHttpOptions): Promise<RunningHttp> {
	if (settings.token !== undefined) {
		app.bus.diagnostics.secrets.add(settings.token);
	}

	const aggregates = startAggregates(app.bus);
	// Reads of the history run off this thread: decoding a segment must not hold up the bus.
	const reader = app.history?.reader ? threadedReader(app.history.dir) : undefined;
	const baseline = await readBaseline(reader);
	const cleanups: Array<() => void | Promise<void>> = [];
	const counters: HttpCounters = {requests: 0, byStatus: {}, unauthorized: 0, streamClients: 0, streamRefused: 0, streamLost: 0, streamDropped: 0};
	const context: HttpContext = {
		bus: app.bus,
		store: app.store,
		reader,
		historyFlushMs: options.historyFlushMs,
		historyStatus: () => app.history?.status(),
		aggregates,
		baseline,
		alerts: () => app.alerts?.alertsSnapshot(),
		version: options.version,
		startedAt: Date.now(),
		limits: {...defaultLimits, maxStreamClients: settings.maxStreamClients, streamQueue: settings.streamQueue, streamStuckMs: settings.streamStuckMs},
		counters,
		say: options.say,
		now: options.now ?? Date.now,
		onClose(cleanup) {
			cleanups.push(cleanup);
		},
	};

	startGrafana(context);
	let server: HttpServer;
	try {
		server = await startServer(settings, createRouter(), context);
	} catch (error) {
		aggregates.stop();
		baseline.stop();
		await reader?.close();
		throw error;
	}

	return {
		url: server.url,
		port: server.port,
		context,
		async close() {
			await Promise.allSettled(cleanups.splice(0).map(async c => c()));
			await server.close();
			aggregates.stop();
			baseline.stop();
			await reader?.close();
		},
	};
}
