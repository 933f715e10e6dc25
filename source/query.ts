import {type Flags} from './cli.js';
import {ConfigError} from './config/errors.js';
import {type LogEvent} from './core/event.js';
import {FilterError} from './core/filter.js';
import {sanitize} from './core/sanitize.js';
import {exitCodes} from './exit.js';
import {type HistoryReader} from './history/types.js';
import {type Formatter, TemplateError} from './sinks/format.js';
import {UsageError} from './settings.js';
import {QueryOutput, serviceRows, statsTable} from './query-output.js';
import {prepare, type Prepared, type QueryIo} from './query-prepare.js';
import {QueryScan, type ScanCounts} from './query-scan.js';
import {openQueryReader, QueryStoreError} from './query-store.js';

// `logmon query`: the history on disk, through pipe mode's filters and output formats.
//   logmon query --since 2h --level error --service checkout
// Exit 0 when the query ran (also when nothing matched: --count then prints 0), 2 for a usage
// error (naming the flag) or a directory this logmon cannot read (naming it), 130/143 on a signal.

/** Print events as they come; stop early when the reader goes away. */
async function print(batches: AsyncIterable<LogEvent[]> | Iterable<LogEvent[]>, format: Formatter, out: QueryOutput): Promise<void> {
	for await (const events of batches) {
		for (const e of events) {
			if (out.line(format(e))) {
				await out.flush();
				if (out.closed) {
					return;
				}
			}
		}
	}
}

function scan(p: Prepared, signal: AbortSignal, order: {reverse?: boolean; limit?: number | undefined} = {}): QueryScan {
	return new QueryScan(p.where.dir, {...p.query, ...order, signal});
}

async function runEvents(p: Prepared, out: QueryOutput, signal: AbortSignal): Promise<ScanCounts> {
	const {limit, reverse} = p.options;
	if (limit !== undefined && !reverse) {
		// The newest N, printed oldest first: read newest first, then turn them round.
		const newest = scan(p, signal, {reverse: true, limit});
		const kept: LogEvent[] = [];
		for await (const events of newest.batches()) {
			kept.push(...events);
		}

		await print([kept.reverse()], p.format, out);
		return newest.counts;
	}

	const all = scan(p, signal, {reverse, limit});
	await print(all.batches(), p.format, out);
	return all.counts;
}

async function runCount(p: Prepared, out: QueryOutput, signal: AbortSignal): Promise<ScanCounts> {
	const all = scan(p, signal);
	const n = await all.count();
	out.line(p.settings.output === 'json' ? JSON.stringify({count: n}) : String(n));
	return all.counts;
}

async function runStats(reader: HistoryReader, p: Prepared, out: QueryOutput): Promise<void> {
	const {counts} = await reader.counts(p.options.since, p.options.until);
	const services = p.settings.filter.services.length > 0 ? new Set(p.settings.filter.services) : undefined;
	const rows = serviceRows(counts, services, p.settings.filter.minLevel);
	if (p.settings.output === 'json') {
		for (const r of rows) {
			out.line(JSON.stringify(r));
		}

		return;
	}

	for (const line of statsTable(rows, sanitize)) {
		out.line(line);
	}
}

/** Returns the exit code of a follow run that became the writer; undefined otherwise. */
async function run(p: Prepared, out: QueryOutput, signal: AbortSignal, io: QueryIo): Promise<number | undefined> {
	if (p.options.follow) {
		const {runFollow} = await import('./query-follow.js');
		return runFollow(p, out, signal, io);
	}

	const reader = await openQueryReader(p.where);
	if (p.options.mode === 'stats') {
		await runStats(reader, p, out);
		return undefined;
	}

	const counts = p.options.mode === 'count' ? await runCount(p, out, signal) : await runEvents(p, out, signal);
	if (counts.damagedLines + counts.damagedSegments > 0) {
		io.stderr.write(`logmon: query: skipped ${counts.damagedLines} damaged lines and ${counts.damagedSegments} damaged segments in ${p.where.dir}\n`);
	}

	return undefined;
}

function usage(stderr: NodeJS.WritableStream, message: string): number {
	stderr.write(`logmon: query: ${message}\n`);
	return exitCodes.usage;
}

export async function runQuery(flags: Flags, io: QueryIo = {stdout: process.stdout, stderr: process.stderr, env: process.env}): Promise<number> {
	let p: Prepared;
	try {
		p = await prepare(flags, io);
	} catch (error) {
		if (error instanceof ConfigError || error instanceof FilterError || error instanceof UsageError || error instanceof TemplateError) {
			return usage(io.stderr, error.message);
		}

		throw error;
	}

	const out = new QueryOutput(io.stdout);
	const stop = new AbortController();
	let signalled: 'SIGINT' | 'SIGTERM' | undefined;
	const onSignal = (name: 'SIGINT' | 'SIGTERM') => () => {
		signalled = name;
		stop.abort();
	};

	const onInt = onSignal('SIGINT');
	const onTerm = onSignal('SIGTERM');
	process.once('SIGINT', onInt);
	process.once('SIGTERM', onTerm);
	let code: number | undefined;
	try {
		code = await run(p, out, stop.signal, io);
		await out.end();
	} catch (error) {
		if (!(error instanceof QueryStoreError)) {
			throw error;
		}

		if (!error.missing) {
			return usage(io.stderr, error.message);
		}

		// No history yet: nothing to print, nothing went wrong.
		io.stderr.write(`logmon: query: ${error.message}\n`);
		if (p.options.mode === 'count') {
			out.line('0');
		}

		await out.end();
	} finally {
		process.off('SIGINT', onInt);
		process.off('SIGTERM', onTerm);
	}

	if (code !== undefined) {
		return code;
	}

	if (signalled) {
		return signalled === 'SIGINT' ? exitCodes.sigint : exitCodes.sigterm;
	}

	return exitCodes.ok;
}

