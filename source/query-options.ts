import {type Flags} from './cli.js';
import {parseSince} from './core/since.js';
import {UsageError} from './settings.js';

// `logmon query`'s own flags, checked: a time window, how many, in which order, and what to print.
// The filters and output formats are pipe mode's, resolved by settings.ts.

export type QueryMode = 'events' | 'count' | 'stats';

export type QueryOptions = {
	mode: QueryMode;
	/** Event time bounds in ms, inclusive; undefined is open. */
	since: number | undefined;
	until: number | undefined;
	limit: number | undefined;
	reverse: boolean;
	follow: boolean;
};

function time(value: string | undefined, flag: string, now: number): number | undefined {
	if (value === undefined) {
		return undefined;
	}

	const ms = parseSince(value, now);
	if (ms === undefined) {
		throw new UsageError(`${flag}: expected a duration before now like 30s, 10m, 2h, 3d, or an RFC 3339 time like 2025-05-01T10:00:00Z, got ${JSON.stringify(value)}`);
	}

	return ms;
}

/** Flags that only make sense for a live run; `logmon query` refuses them rather than ignore them. */
const liveOnly: Array<[keyof Flags, string]> = [
	['listen', '--listen'],
	['serveSubscribers', '--serve-subscribers'],
	['logstream', '--logstream'],
	['kafka', '--kafka'],
	['demo', '--demo'],
	['ui', '--ui'],
	['to', '--to'],
];

export function queryOptions(flags: Flags, now = Date.now()): QueryOptions {
	for (const [key, flag] of liveOnly) {
		const v = flags[key];
		if (v !== undefined && v !== false) {
			throw new UsageError(`${flag}: not a logmon query option (query reads the history on disk; with --follow it watches the sources of the config)`);
		}
	}

	if (flags.logio.length > 0) {
		throw new UsageError('--logio: not a logmon query option (query reads the history on disk; with --follow it watches the sources of the config)');
	}

	const since = time(flags.since, '--since', now);
	const until = time(flags.until, '--until', now);
	if (since !== undefined && until !== undefined && since > until) {
		throw new UsageError(`--since ${flags.since} is after --until ${flags.until}: nothing can match`);
	}

	const {limit} = flags;
	if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
		throw new UsageError(`--limit: expected a whole number of events, at least 1, got ${String(limit)}`);
	}

	if (flags.count && flags.stats) {
		throw new UsageError('--count and --stats: give one of them');
	}

	const mode: QueryMode = flags.count ? 'count' : (flags.stats ? 'stats' : 'events');
	if (mode !== 'events') {
		const flag = mode === 'count' ? '--count' : '--stats';
		for (const [given, other] of [[flags.follow, '--follow'], [flags.reverse, '--reverse'], [limit !== undefined, '--limit'], [flags.template !== undefined, '--template']] as const) {
			if (given) {
				throw new UsageError(`${other}: cannot be combined with ${flag}`);
			}
		}
	}

	if (flags.follow && flags.reverse) {
		throw new UsageError('--reverse: cannot be combined with --follow (new events come last)');
	}

	if (flags.follow && until !== undefined) {
		throw new UsageError('--until: cannot be combined with --follow (following never ends)');
	}

	return {mode, since, until, limit, reverse: flags.reverse, follow: flags.follow};
}
