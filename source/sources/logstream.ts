import {type SourceHandle} from '../core/bus.js';
import {type LogstreamConfig} from '../config/logstream.js';
import {type SourceDeps} from './index.js';
import {type LogSource} from './source.js';

// Placeholder until this source kind lands.
export class LogstreamSource implements LogSource {
	readonly kind = 'logstream' as const;

	constructor(readonly id: string, readonly config: LogstreamConfig, readonly deps: SourceDeps) {}

	async start(handle: SourceHandle): Promise<void> {
		handle.setState('failed', 'this source kind is not built yet');
	}

	async stop(): Promise<void> {
		// Nothing to release.
	}
}
