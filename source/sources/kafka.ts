import {type SourceHandle} from '../core/bus.js';
import {type KafkaConfig} from '../config/kafka.js';
import {type SourceDeps} from './index.js';
import {type LogSource} from './source.js';

// Placeholder until this source kind lands.
export class KafkaSource implements LogSource {
	readonly kind = 'kafka' as const;

	constructor(readonly id: string, readonly config: KafkaConfig, readonly deps: SourceDeps) {}

	async start(handle: SourceHandle): Promise<void> {
		handle.setState('failed', 'this source kind is not built yet');
	}

	async stop(): Promise<void> {
		// Nothing to release.
	}
}
