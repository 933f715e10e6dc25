import {type AlertSettings, type SinkConfig} from '../config/alerts.js';
import {AlertEngine, type AlertsSnapshot} from '../core/alert-engine.js';
import {type AlertNotice, alertEvent} from '../core/alert-notice.js';
import {type Bus, type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {type Sink, type SinkContext, type SinkHealth} from './delivery.js';

// Alerts at run time: the rule engine as a direct bus subscriber, a tick a second,
// and the sinks, each loaded only when configured (nodemailer only for email).
// Every notice goes onto the bus as an alert event (source "alerts", type "alert"),
// to the terminal handler the mode installs, and to the sinks its rule names.
// The "alerts" source's health details hold what firing and every sink's state.

export type TerminalHandler = (notice: AlertNotice) => void;

export type AlertsRuntime = {
	readonly engine: AlertEngine;
	/** Firing and recent alerts, rules and sinks: the UI's pane and `GET /api/v1/alerts`. */
	alertsSnapshot(): AlertsSnapshot & {sinks: SinkHealth[]};
	sinkHealth(): SinkHealth[];
	/** Where `terminal` notices go: stderr in pipe mode, the banner in the UI. */
	setTerminal(handler: TerminalHandler): void;
	/** Wait up to `timeoutMs` for queued notices to go out, then stop. */
	stop(timeoutMs?: number): Promise<void>;
};

export type AlertsOptions = {
	now?: () => number;
	tickMs?: number;
	generatorURL?: string | undefined;
};

async function createSink(name: string, config: Exclude<SinkConfig, {type: 'terminal'}>, context: SinkContext): Promise<Sink> {
	switch (config.type) {
		case 'webhook': {
			return (await import('./webhook.js')).webhookSink(name, config, context);
		}

		case 'alertmanager': {
			return (await import('./alertmanager.js')).alertmanagerSink(name, config, context);
		}

		case 'slack': {
			return (await import('./slack.js')).slackSink(name, config, context);
		}

		case 'email': {
			return (await import('./email.js')).emailSink(name, config, context);
		}

		case 'command': {
			return (await import('./command.js')).commandSink(name, config, context);
		}
	}
}

/** Secrets a sink's config holds: a Slack URL is a credential, so are header values and passwords. */
function sinkSecrets(config: SinkConfig): string[] {
	switch (config.type) {
		case 'slack': {
			return [config.url, new URL(config.url).pathname].filter(s => s.length > 8);
		}

		case 'webhook':
		case 'alertmanager': {
			return Object.values(config.headers).filter(v => v.length > 4);
		}

		case 'email': {
			return config.password ? [config.password] : [];
		}

		default: {
			return [];
		}
	}
}

export async function startAlerts(bus: Bus, settings: AlertSettings, options: AlertsOptions = {}): Promise<AlertsRuntime> {
	const handle: SourceHandle = bus.addSource('alerts', 'alerts');
	let terminal: TerminalHandler | undefined;
	let pending: EventInit[] = [];
	const sinks = new Map<string, Sink>();
	/** "terminal", and any sink configured with that type under another name. */
	const terminals = new Set(['terminal', ...Object.entries(settings.sinks).filter(([, c]) => c.type === 'terminal').map(([name]) => name)]);
	const {secrets} = bus.diagnostics;
	const sinkHealth = (): SinkHealth[] => [...sinks.values()].map(s => {
		const h = s.delivery.health;
		return {...h, ...(h.exits ? {exits: {...h.exits}} : {}), lastError: h.lastError === undefined ? undefined : secrets.redact(h.lastError)};
	});

	const updateHealth = (): void => {
		handle.detail('rules', settings.rules.length);
		handle.detail('firing', engine.firingCount);
		handle.detail('sinks', sinkHealth());
	};

	const context: SinkContext = {
		onChange() {
			updateHealth();
		},
		onFailure(sink, reason) {
			bus.diagnostics.add('error', `alerts: ${sink}`, reason);
		},
		generatorURL: options.generatorURL,
	};

	const engine = new AlertEngine({
		rules: settings.rules,
		...(options.now ? {now: options.now} : {}),
		onNotice(notice) {
			// Published after the batch that fired it has reached every consumer: the bus is not re-entered.
			if (pending.length === 0) {
				queueMicrotask(() => {
					const events = pending;
					pending = [];
					handle.publish(events);
				});
			}

			pending.push(alertEvent(notice));
			if (notice.silenced && notice.status === 'resolved') {
				for (const name of notice.notify) {
					sinks.get(name)?.settle?.(notice);
				}
			} else if (!notice.silenced) {
				for (const name of notice.notify) {
					if (terminals.has(name)) {
						terminal?.(notice);
					} else {
						sinks.get(name)?.offer(notice);
					}
				}
			}

			updateHealth();
		},
	});

	const used = new Set(settings.rules.flatMap(r => r.notify));
	for (const [name, config] of Object.entries(settings.sinks)) {
		if (config.type === 'terminal' || !used.has(name)) {
			continue;
		}

		for (const secret of sinkSecrets(config)) {
			secrets.add(secret);
		}

		sinks.set(name, await createSink(name, config, context));
	}

	const urls = Object.entries(settings.sinks).flatMap(([name, c]) => sinks.has(name) && (c.type === 'webhook' || c.type === 'alertmanager' || c.type === 'slack') ? [c.url] : []);
	if (urls.length > 0) {
		const {loadHttpClient} = await import('./http.js');
		await Promise.all(urls.map(async url => loadHttpClient(url)));
	}

	const off = bus.subscribe(events => {
		engine.observe(events);
	});
	const timer = setInterval(() => {
		engine.tick();
	}, options.tickMs ?? 1000);
	timer.unref();
	handle.setState('live');
	updateHealth();

	return {
		engine,
		alertsSnapshot: () => ({...engine.alertsSnapshot(), sinks: sinkHealth()}),
		sinkHealth,
		setTerminal(handler) {
			terminal = handler;
		},
		async stop(timeoutMs = 2000) {
			off();
			clearInterval(timer);
			await Promise.all([...sinks.values()].map(async s => s.delivery.drain(timeoutMs)));
			await Promise.all([...sinks.values()].map(async s => s.stop()));
			handle.setState('stopped');
		},
	};
}
