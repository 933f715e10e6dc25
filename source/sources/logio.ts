import {type SourceHandle} from '../core/bus.js';
import {type LogioConfig} from '../config/logio.js';
import {type SourceDeps} from './index.js';
import {type LogSource} from './source.js';

// Placeholder until this source kind lands.
export class LogioSubscriberSource implements LogSource {
	readonly kind = 'logio' as const;

	constructor(readonly id: string, readonly config: LogioConfig, readonly deps: SourceDeps) {}

	async start(handle: SourceHandle): Promise<void> {
		handle.setState('failed', 'this source kind is not built yet');
	}

	async stop(): Promise<void> {
		// Nothing to release.
	}
}
