import {type SourceHandle} from '../core/bus.js';
import {type LogioListenConfig} from '../config/logio.js';
import {type SourceDeps} from './index.js';
import {type LogSource} from './source.js';

// Placeholder until this source kind lands.
export class LogioListenSource implements LogSource {
	readonly kind = 'logio-listen' as const;

	constructor(readonly id: string, readonly config: LogioListenConfig, readonly deps: SourceDeps) {}

	async start(handle: SourceHandle): Promise<void> {
		handle.setState('failed', 'this source kind is not built yet');
	}

	async stop(): Promise<void> {
		// Nothing to release.
	}
}
