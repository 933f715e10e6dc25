import {App} from './app.js';
import {startHistory} from './history/start.js';
import {createRedactor, diagnosticScrub} from './redact-key.js';
import {type LogEvent} from './core/event.js';
import {type HistoryReader} from './history/types.js';
import {type QueryOutput} from './query-output.js';
import {type Prepared, type QueryIo} from './query-prepare.js';
import {QueryStoreError} from './query-store.js';

// `logmon query --follow`: the stored events (with --limit N, the newest N), then the live ones,
// with no gap and no repeat.
//
// - Another logmon writes the directory (it holds writer.lock): follow the files it appends to,
//   like `tail -F` across segment rolls. The reader's follow goes by byte offset from where the
//   stored part ended, so the seam is exact. The writer flushes at least once a second.
// - Nobody writes it: this process takes the lock and becomes the writer. It prints the stored
//   events (nothing can be added meanwhile: the sources have not started), then starts the
//   configured sources, as the default command would, and prints their events as pipe mode does
//   while writing them to the history. The seam is where the sources start.

/** The newest `limit` stored matches, oldest first. */
async function newest(reader: HistoryReader, p: Prepared, limit: number, signal: AbortSignal): Promise<LogEvent[]> {
	const kept: LogEvent[] = [];
	for await (const e of reader.scan({...p.query, reverse: true, limit, signal})) {
		kept.push(e);
	}

	return kept.reverse();
}

async function printFollowing(reader: HistoryReader, p: Prepared, out: QueryOutput, signal: AbortSignal): Promise<void> {
	const {limit} = p.options;
	// With --limit N: from the oldest of the newest N on (what is appended meanwhile comes too).
	const first = limit === undefined ? undefined : (await newest(reader, p, limit, signal))[0];
	const from = first && {receivedAt: first.receivedAt, seq: first.seq};
	for await (const e of reader.scan({...p.query, follow: true, from, signal})) {
		if (out.line(p.format(e))) {
			await out.flush();
			if (out.closed) {
				return;
			}
		} else {
			// A live line is not held back waiting for 64 KiB of company.
			out.flushSoon();
		}
	}
}

async function printStored(reader: HistoryReader, p: Prepared, out: QueryOutput, signal: AbortSignal): Promise<void> {
	const {limit} = p.options;
	// With --limit N, the newest N: nothing is written meanwhile (the sources have not started).
	const events = limit === undefined ? reader.scan({...p.query, signal}) : await newest(reader, p, limit, signal);
	for await (const e of events) {
		if (out.line(p.format(e))) {
			await out.flush();
			if (out.closed) {
				return;
			}
		}
	}

	await out.end();
}

/** The exit code when this process ran the sources; undefined when it followed another logmon's files. */
export async function runFollow(p: Prepared, out: QueryOutput, signal: AbortSignal, io: QueryIo): Promise<number | undefined> {
	const app = new App(1);
	const history = await startHistory(app.bus, {...p.settings.history, enabled: true, dir: p.where.dir});
	const status = history.status();
	if (status.state === 'off') {
		// A directory written by a newer logmon.
		throw new QueryStoreError(status.reason ?? `cannot read the history in ${p.where.dir}`);
	}

	if (status.state === 'read-only') {
		// Another logmon writes it: follow its files. This process holds nothing.
		try {
			await printFollowing(history.reader!, p, out, signal);
		} finally {
			await history.close();
		}

		return undefined;
	}

	// This process writes the history now (or tries to: a failure shows on stderr and live events still print).
	app.history = history;
	// The live events pass the same redaction as the default command's before they are kept or printed.
	app.bus.redactor = createRedactor(p.settings.redact, {secret: s => app.bus.diagnostics.secrets.add(s), warn: text => io.stderr.write(`logmon: ${text}\n`), env: process.env});
	app.bus.diagnostics.scrub = diagnosticScrub(p.settings.redact);
	try {
		await printStored(history.reader!, p, out, signal);
		if (out.closed || signal.aborted) {
			return undefined;
		}

		await app.addSources(p.settings.sources, {debug: p.settings.debug, maxLine: p.settings.maxLine});
		const {runPipe} = await import('./pipe.js');
		return await runPipe(app, {filter: p.filter, format: p.format, stderr: io.stderr, out: io.stdout as never});
	} finally {
		await history.close();
	}
}
