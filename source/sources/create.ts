import {type SourceConfig} from '../config/schema.js';
import {type LogSource, type SourceDeps} from './source.js';

// Builds a source from its config. Each kind is imported only when used, so
// pipe mode with stdin never loads ws or kafkajs.

export function sourceId(config: SourceConfig, index: number, taken: Set<string>): string {
	let id = config.name ?? config.type;
	if (!config.name && taken.has(id)) {
		id = `${config.type}-${index + 1}`;
	}

	taken.add(id);
	return id;
}

export async function createSource(config: SourceConfig, id: string, deps: SourceDeps): Promise<LogSource> {
	switch (config.type) {
		case 'stdin': {
			const {StdinSource} = await import('./stdin.js');
			return new StdinSource({name: id, service: config.service, maxLine: deps.maxLine, multiline: config.multiline});
		}

		case 'file': {
			const {FileSource} = await import('./file.js');
			return new FileSource(id, config, deps);
		}

		case 'logstream': {
			const {LogstreamSource} = await import('./logstream.js');
			return new LogstreamSource(id, config, deps);
		}

		case 'logio': {
			const {LogioSubscriberSource} = await import('./logio.js');
			return new LogioSubscriberSource(id, config, deps);
		}

		case 'logio-listen': {
			const {LogioListenSource} = await import('./logio-listen.js');
			return new LogioListenSource(id, config, deps);
		}

		case 'connect': {
			const {ConnectSource} = await import('./connect.js');
			return new ConnectSource(id, config, deps);
		}

		case 'kafka': {
			const {KafkaSource} = await import('./kafka-source.js');
			return new KafkaSource(id, config, deps);
		}

		case 'otlp': {
			const {OtlpSource} = await import('./otlp.js');
			return new OtlpSource(id, config, deps);
		}

		case 'journald': {
			const {JournalSource} = await import('./journal.js');
			return new JournalSource(id, config, deps);
		}

		case 'docker': {
			const {DockerSource} = await import('./docker.js');
			return new DockerSource(id, config, deps);
		}
	}
}
