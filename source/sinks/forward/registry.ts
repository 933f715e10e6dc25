import path from 'node:path';
import {type ForwardSettings} from '../../config/forward.js';
import {configSecrets} from '../../config/secrets.js';
import {type Bus} from '../../core/bus.js';
import {compileFilter, emptySpec, parseFilterExpression} from '../../core/filter.js';
import {DeadLetter, deadLetterName} from './dead-letter.js';
import {type Destination, type DestinationContext} from './destination.js';
import {type Feed, MemoryFeed} from './feed.js';
import {Forwarder, type ForwarderCounters} from './forwarder.js';

// The forwarders of a run: each destination loaded only when one of its kind is configured
// (kafkajs, the AWS SDK), each with its feed (memory or disk spool), dead-letter file and
// health handle ("forward:NAME", kind "forward", on the bus beside the sources).

export type ForwardOptions = {
	/** logmon's state directory ($XDG_STATE_HOME/logmon): spools go under spool/NAME/. */
	stateDir: string;
};

export type ForwarderSnapshot = ForwarderCounters & {name: string; kind: string; target: string; state: string; reason?: string | undefined};

export type ForwardRuntime = {
	readonly forwarders: readonly Forwarder[];
	/** Send what is held for up to `timeoutMs`, then release every destination and spool. */
	stop(timeoutMs: number): Promise<void>;
};

async function loadDestination(config: ForwardSettings, context: DestinationContext): Promise<Destination> {
	switch (config.type) {
		case 'file': {
			return (await import('./file.js')).createDestination(config, context);
		}

		case 'kafka': {
			return (await import('./kafka.js')).createDestination(config, context);
		}

		case 'http': {
			return (await import('./http.js')).createDestination(config, context);
		}

		case 'cloudwatch': {
			return (await import('./cloudwatch.js')).createDestination(config, context);
		}
	}
}

/** Where a forwarder keeps its spool and dead-letter file. */
export function forwarderDir(stateDir: string, name: string): string {
	return path.join(stateDir, 'spool', name.replace(/[^\w.-]/g, '_'));
}

export class ForwardStartError extends Error {}

export async function startForwarders(bus: Bus, settings: readonly ForwardSettings[], options: ForwardOptions): Promise<ForwardRuntime> {
	const forwarders: Forwarder[] = [];
	const {secrets} = bus.diagnostics;
	try {
		for (const config of settings) {
			for (const secret of configSecrets(config)) {
				secrets.add(secret);
			}

			const dir = forwarderDir(options.stateDir, config.name);
			const context: DestinationContext = {name: config.name, diagnostics: bus.diagnostics, stateDir: dir};
			let destination: Destination;
			try {
				destination = await loadDestination(config, context);
			} catch (error) {
				const message = error instanceof Error ? error.message : String(error);
				throw new ForwardStartError(message.startsWith(`forward ${config.name}`) ? message : `forward ${config.name}: ${message}`);
			}

			let feed: Feed;
			if (config.spool) {
				const {openSpool} = await import('./spool.js');
				feed = await openSpool(dir, {capacity: config.queue, maxBytes: config.spoolMaxSize, log: (level, text) => bus.diagnostics.add(level, `forward ${config.name}`, text)});
			} else {
				feed = new MemoryFeed(config.queue);
			}

			const handle = bus.addSource(`forward:${config.name}`, 'forward');
			const filter = config.filter.trim() ? compileFilter(parseFilterExpression(config.filter, emptySpec()), {grep: 'filter', exclude: 'filter'}) : undefined;
			const forwarder = new Forwarder({
				name: config.name,
				destination,
				feed,
				filter,
				handle,
				deadLetter: new DeadLetter(path.join(dir, deadLetterName), config.name),
				retry: {initialMs: config.retry.initialDelay, maxMs: config.retry.maxDelay, maxAttempts: config.retry.maxAttempts},
				timeoutMs: config.timeout,
				holdMax: config.queue,
				redact: text => secrets.redact(text),
			});
			forwarder.start(bus);
			forwarders.push(forwarder);
		}
	} catch (error) {
		await Promise.allSettled(forwarders.map(async f => f.stop(0)));
		throw error;
	}

	return {
		forwarders,
		async stop(timeoutMs) {
			await Promise.allSettled(forwarders.map(async f => f.stop(timeoutMs)));
		},
	};
}
