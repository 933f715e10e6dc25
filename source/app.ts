import {type AlertsOptions, type AlertsRuntime} from './alerts/run.js';
import {type AlertSettings} from './config/alerts.js';
import {Bus} from './core/bus.js';
import {configSecrets} from './config/secrets.js';
import {Store} from './core/store.js';
import {type SourceHandle} from './core/bus.js';
import {type SourceConfig} from './config/schema.js';
import {createSource, sourceId} from './sources/create.js';
import {type LogSource, type SourceDeps} from './sources/source.js';
import {type RunHistory} from './history/start.js';
import {type ForwardSettings} from './config/forward.js';
import {type ForwardOptions, type ForwardRuntime} from './sinks/forward/registry.js';

// Wires sources to the bus and the bus to the store. Shared by pipe mode and the UI.

export type RunningSource = {source: LogSource; handle: SourceHandle};

/** A logio-listen source's `serveSubscribers`: the drop-in logio subscriber server, a sink on the bus. */
type FanoutPlan = {hostPort: string; bufferBytes: number};

export class App {
	readonly bus = new Bus();
	readonly store: Store;
	readonly sources: RunningSource[] = [];
	private readonly fanoutPlans: FanoutPlan[] = [];
	private readonly fanouts: Array<{close(): Promise<void>}> = [];
	/** The on-disk history, when it is on: its writer is subscribed to the bus. */
	history: RunHistory | undefined;
	/** The alert rules and their sinks; undefined when no rule is configured. */
	alerts: AlertsRuntime | undefined;
	/** The forwarders; undefined when none is configured. */
	forward: ForwardRuntime | undefined;

	constructor(bufferSize: number) {
		this.store = new Store(bufferSize);
		this.bus.subscribe(events => {
			this.store.append(events);
		});
	}

	async addSources(configs: SourceConfig[], deps: Omit<SourceDeps, 'diagnostics'>): Promise<void> {
		const taken = new Set(this.sources.map(s => s.source.id));
		for (const [i, config] of configs.entries()) {
			for (const secret of configSecrets(config)) {
				this.bus.diagnostics.secrets.add(secret);
			}

			const id = sourceId(config, i, taken);
			const source = await createSource(config, id, {...deps, diagnostics: this.bus.diagnostics});
			this.add(source);
			if (config.type === 'logio-listen' && config.serveSubscribers !== undefined) {
				this.fanoutPlans.push({hostPort: config.serveSubscribers, bufferBytes: config.subscriberBufferBytes});
			}
		}
	}

	/**
	 * Start the rule engine as a direct bus subscriber, before the sources start, so it sees
	 * every event. Nothing of it is loaded when there is no rule.
	 */
	async startAlerts(settings: AlertSettings, options: AlertsOptions = {}): Promise<AlertsRuntime | undefined> {
		if (settings.rules.length === 0) {
			return undefined;
		}

		const {startAlerts} = await import('./alerts/run.js');
		this.alerts = await startAlerts(this.bus, settings, options);
		return this.alerts;
	}

	/**
	 * Start the forwarders as direct bus subscribers, before the sources start, so they see every
	 * event. Nothing of them is loaded when none is configured; a destination's code (kafkajs, the
	 * AWS SDK) only when one of its kind is.
	 */
	async startForwarders(settings: readonly ForwardSettings[], options: ForwardOptions): Promise<ForwardRuntime | undefined> {
		if (settings.length === 0) {
			return undefined;
		}

		const {startForwarders} = await import('./sinks/forward/registry.js');
		this.forward = await startForwarders(this.bus, settings, options);
		return this.forward;
	}

	add(source: LogSource): SourceHandle {
		const handle = this.bus.addSource(source.id, source.kind, source.pause ? {pause: source.pause, resume: source.resume} : {});
		this.sources.push({source, handle});
		return handle;
	}

	/** Start every source; one that throws is marked failed and the others go on. */
	async start(): Promise<void> {
		for (const plan of this.fanoutPlans.splice(0)) {
			try {
				const {startFanout} = await import('./sinks/logio-fanout.js');
				this.fanouts.push(await startFanout(this.bus, plan.hostPort, {bufferBytes: plan.bufferBytes}));
			} catch (error) {
				this.bus.diagnostics.add('error', 'logio-fanout', error instanceof Error ? error.message : String(error));
			}
		}

		await Promise.all(this.sources.map(async ({source, handle}) => {
			try {
				await source.start(handle);
			} catch (error) {
				handle.setState('failed', error instanceof Error ? error.message : String(error));
			}
		}));
	}

	async stop(timeoutMs = 2000): Promise<void> {
		const started = Date.now();
		const fanouts = this.fanouts.splice(0).map(async f => f.close());
		// Notices still queued get most of the time to go out.
		const alerts = this.alerts?.stop(Math.max(0, timeoutMs - 200));
		const all = Promise.allSettled([...fanouts, alerts, ...this.sources.map(async ({source, handle}) => {
			await source.stop();
			if (handle.health.state !== 'ended' && handle.health.state !== 'failed') {
				handle.setState('stopped');
			}
		})]);
		await Promise.race([all, new Promise(resolve => setTimeout(resolve, timeoutMs).unref())]);
		// What the redaction thread still screens reaches the consumers before they close.
		await Promise.race([this.bus.settled(), new Promise(resolve => setTimeout(resolve, Math.max(0, timeoutMs - (Date.now() - started))).unref())]);
		this.bus.closeScreen();
		// The sources are quiet: what the forwarders hold goes out in the time left (a spool keeps the rest).
		await this.forward?.stop(Math.max(500, timeoutMs - (Date.now() - started)));
	}

	/** True when no source can produce anything more (all ended, failed or stopped). */
	finished(): boolean {
		return this.sources.every(({handle}) => ['ended', 'failed', 'stopped'].includes(handle.health.state));
	}

	/**
	 * True when a source failed and none of the others read anything: "every source failed", exit 1.
	 * A source that ended empty (stdin from /dev/null, added because stdin was not a terminal) counts
	 * as failed, or a refused logstream would exit 0 whenever logmon runs from a script.
	 */
	allFailed(): boolean {
		const healths = this.sources.map(({handle}) => handle.health);
		return healths.some(h => h.state === 'failed') && healths.every(h => h.state === 'failed' || (h.state === 'ended' && h.events === 0));
	}

	/** Resolves when `finished()` becomes true. */
	async whenFinished(): Promise<void> {
		if (this.finished()) {
			return;
		}

		await new Promise<void>(resolve => {
			const off = this.bus.onHealth(() => {
				if (this.finished()) {
					off();
					resolve();
				}
			});
		});
	}
}
