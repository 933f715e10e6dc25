import {parentPort, workerData} from 'node:worker_threads';
import {type LogEvent} from '../core/event.js';
import {type FilterSpec, compileFilter} from '../core/filter.js';
import {Reader} from './reader.js';
import {type HistoryQuery} from './types.js';

// The reader's worker (reader-thread.ts): decompressing and decoding segments happens here, so
// the thread that draws the UI never waits for it. Answers one request at a time per scan;
// a scan's events go back in batches, each asked for.

export type WorkerQuery = Omit<HistoryQuery, 'filter' | 'signal'> & {spec?: FilterSpec | undefined};

export type Request =
	| {id: number; op: 'before'; key: Pick<LogEvent, 'receivedAt' | 'seq'>; count: number; spec?: FilterSpec | undefined; maxChars?: number | undefined}
	| {id: number; op: 'counts'; since?: number | undefined; until?: number | undefined; errorsOnly?: boolean | undefined}
	| {id: number; op: 'scan-next'; scan: number; query: WorkerQuery; max: number}
	| {id: number; op: 'scan-close'; scan: number};

export type Reply = {id: number; result?: unknown; error?: string};

const reader = new Reader((workerData as {dir: string}).dir);
const scans = new Map<number, {iterator: AsyncIterator<LogEvent>; abort: AbortController}>();

function filterOf(spec: FilterSpec | undefined) {
	return spec ? compileFilter(spec) : undefined;
}

async function answer(m: Request): Promise<unknown> {
	switch (m.op) {
		case 'before': {
			return reader.before(m.key, m.count, filterOf(m.spec), m.maxChars);
		}

		case 'counts': {
			return reader.counts(m.since, m.until, m.errorsOnly);
		}

		case 'scan-next': {
			let scan = scans.get(m.scan);
			if (!scan) {
				const abort = new AbortController();
				const {spec, ...query} = m.query;
				scan = {abort, iterator: reader.scan({...query, filter: filterOf(spec), signal: abort.signal})[Symbol.asyncIterator]()};
				scans.set(m.scan, scan);
			}

			const events: LogEvent[] = [];
			while (events.length < m.max) {
				// eslint-disable-next-line no-await-in-loop
				const next = await scan.iterator.next();
				if (next.done) {
					scans.delete(m.scan);
					return {events, done: true};
				}

				events.push(next.value);
			}

			return {events, done: false};
		}

		case 'scan-close': {
			const scan = scans.get(m.scan);
			scans.delete(m.scan);
			scan?.abort.abort();
			await scan?.iterator.return?.();
			return undefined;
		}
	}
}

parentPort?.on('message', (m: Request) => {
	answer(m).then(
		result => {
			parentPort!.postMessage({id: m.id, result} satisfies Reply);
		},
		(error: unknown) => {
			parentPort!.postMessage({id: m.id, error: error instanceof Error ? error.message : String(error)} satisfies Reply);
		},
	);
});
