import {HistoryFormatError, openHistory} from './history/open.js';
import {type QueryOutput} from './query-output.js';
import {type Prepared, type QueryIo} from './query-prepare.js';
import {QueryStoreError} from './query-store.js';

// `logmon query --follow`: the stored events, then the live ones, with no gap and no repeat.
//
// Another logmon writes the directory (it holds writer.lock): follow the files it appends to, like
// `tail -F` across segment rolls (the reader's follow, by byte offset, so the seam is exact). The
// writer flushes at least once a second, so a line shows up within about a second.

export async function runFollow(p: Prepared, out: QueryOutput, signal: AbortSignal, io: QueryIo): Promise<void> {
	const history = await openHistory(p.where.dir, {readOnly: true}).catch((error: unknown) => {
		throw error instanceof HistoryFormatError ? new QueryStoreError(error.message) : error;
	});
	const stop = new AbortController();
	const abort = (): void => {
		stop.abort();
	};

	signal.addEventListener('abort', abort, {once: true});
	try {
		for await (const e of history.reader.scan({...p.query, follow: true, signal: stop.signal})) {
			if (out.line(p.format(e))) {
				await out.flush();
				if (out.closed) {
					break;
				}
			} else {
				out.flushSoon();
			}
		}
	} finally {
		signal.removeEventListener('abort', abort);
	}

	void io;
}
