import {type Writable} from 'node:stream';
import {type Flags} from './cli.js';
import {readConfig} from './config/read.js';
import {levelRank} from './core/event.js';
import {type Filter, compileFilter} from './core/filter.js';
import {colorLevel, createFormatter, type Formatter} from './sinks/format.js';
import {resolveSettings, type Settings, UsageError} from './settings.js';
import {queryOptions, type QueryOptions} from './query-options.js';
import {grepLiterals, grepWords} from './query-tokens.js';
import {type ScanQuery} from './query-scan.js';
import {indexWordRule, type QueryDir, resolveQueryDir} from './query-store.js';

// `logmon query`'s flags and config resolved once: the options, pipe mode's filter and format,
// the HistoryQuery, and the directory.

export type QueryIo = {
	stdout: Writable & {isTTY?: boolean};
	stderr: NodeJS.WritableStream;
	env: NodeJS.ProcessEnv;
};

export type Prepared = {
	options: QueryOptions;
	settings: Settings;
	filter: Filter;
	format: Formatter;
	query: ScanQuery;
	where: QueryDir;
};

/** How a stored line spells its service (history/format.ts): a line of that service holds it. */
export function serviceField(service: string): string {
	return `"service":${JSON.stringify(service)},`;
}

export async function prepare(flags: Flags, io: QueryIo): Promise<Prepared> {
	const options = queryOptions(flags);
	const {config, file} = await readConfig(flags.config, io.env);
	// Pipe mode's resolution: config filter and output merged with the flags. --since is query's
	// own here (in the default command it is Kafka's start position).
	const settings = await resolveSettings({...flags, since: undefined}, config, {stdinIsTTY: true, input: [], env: io.env, configFile: file});
	const filter = compileFilter(settings.filter);
	if (options.mode === 'stats') {
		const {grep, exclude, hosts, types, sources} = settings.filter;
		const unanswerable = [[grep, '--grep', 'grep'], [exclude, '--exclude', 'exclude'], [hosts, '--host', 'hosts'], [types, '--type', 'types'], [sources, '--source', 'sources']] as const;
		for (const [values, flag, key] of unanswerable) {
			if (values.length > 0) {
				const given = config.filter[key].length < values.length ? flag : `filter.${key} in the config`;
				throw new UsageError(`${given}: --stats counts from the index, per service and level only; use --count to count with ${flag}`);
			}
		}

		if (settings.output !== 'text' && settings.output !== 'json') {
			throw new UsageError(`--output ${settings.output}: --stats prints text or json`);
		}
	}

	const toTerminal = Boolean(io.stdout.isTTY);
	const format = await createFormatter({
		format: settings.output,
		template: settings.template,
		colorLevel: colorLevel(settings.color, toTerminal, io.env),
		toTerminal,
	});
	const where = resolveQueryDir(flags, config, settings, io.env);
	const tokens = grepWords(settings.filter.grep, indexWordRule);
	const query: ScanQuery = {
		since: options.since,
		until: options.until,
		filter: filter.all ? undefined : filter,
		tokens: tokens.length > 0 ? tokens : undefined,
		// ERROR and CRITICAL only: their own stream, smaller and kept longer.
		errorsOnly: settings.filter.minLevel !== undefined && levelRank[settings.filter.minLevel] >= levelRank.ERROR,
		lineHolds: grepLiterals(settings.filter.grep) ?? (settings.filter.services.length > 0 ? settings.filter.services.map(s => serviceField(s)) : undefined),
	};
	return {options, settings, filter, format, query, where};
}

