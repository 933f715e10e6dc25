import {type LogEvent, eventChars} from '../core/event.js';
import {type Filter} from '../core/filter.js';
import {Reader} from './reader.js';
import {type Reply, type Request, type WorkerQuery} from './reader-worker.js';
import {type HistoryCounts, type HistoryQuery, type HistoryReader, type HistoryStatus} from './types.js';
import {WorkerClient, workerFile} from './worker-client.js';

// A history reader whose work runs in a worker thread (reader-worker.ts): for the UI, whose
// frames must not wait while a segment of 200,000 events is decompressed and decoded (a few
// hundred ms on one thread). Filters cross as their specs and are compiled again there. Where
// there is no compiled worker file (the single executable, tests run from the TypeScript
// source) the reader runs in this thread.

/** Events a scan sends back per message. */
const scanBatch = 512;

export type ClosableReader = HistoryReader & {close(): Promise<void>};

/** A reader of `dir` off this thread when it can be. */
export function threadedReader(dir: string): ClosableReader {
	const file = workerFile('reader-worker.js');
	if (!file) {
		const reader = new Reader(dir);
		return Object.assign(reader, {
			async close() {
				// Nothing held.
			},
		});
	}

	return new ThreadedReader(dir, file);
}

type Call = Request extends infer R ? (R extends {id: number} ? Omit<R, 'id'> : never) : never;

class ThreadedReader implements ClosableReader {
	private readonly worker: WorkerClient<Reply>;
	private nextScan = 1;
	private stopped: Error | undefined;

	constructor(readonly dir: string, file: string) {
		// Reads cut short at exit are of no use to anyone: the worker never holds the process.
		this.worker = new WorkerClient<Reply>(file, {
			worker: {workerData: {dir}},
			stopped: 'the history reader stopped',
			onStop: error => {
				this.stopped ??= error;
			},
		});
		this.worker.start();
	}

	async newest(count: number, since?: number, maxChars = Number.POSITIVE_INFINITY): Promise<LogEvent[]> {
		// As a scan, so the events cross in batches: 50,000 in one message take long to unpack here.
		const out: LogEvent[] = [];
		let chars = 0;
		for await (const e of this.run({reverse: true, limit: count})) {
			chars += eventChars(e);
			if ((since !== undefined && e.receivedAt < since) || (chars > maxChars && out.length > 0)) {
				break;
			}

			out.push(e);
		}

		return out.reverse();
	}

	async before(before: Pick<LogEvent, 'receivedAt' | 'seq'>, count: number, filter?: Filter, maxChars?: number): Promise<LogEvent[]> {
		return this.call({op: 'before', key: {receivedAt: before.receivedAt, seq: before.seq}, count, spec: filter?.spec, maxChars}) as Promise<LogEvent[]>;
	}

	async counts(since?: number, until?: number, errorsOnly?: boolean): Promise<HistoryCounts> {
		return this.call({op: 'counts', since, until, errorsOnly}) as Promise<HistoryCounts>;
	}

	scan(query: HistoryQuery): AsyncIterable<LogEvent> {
		return this.run(query);
	}

	status(): HistoryStatus {
		return {state: 'read-only', dir: this.dir, written: 0, dropped: 0, tornLines: 0, damagedSegments: 0, bytesOnDisk: 0, segments: 0};
	}

	async close(): Promise<void> {
		await this.worker.close(new Error('history reader closed'));
	}

	private async * run(query: HistoryQuery): AsyncGenerator<LogEvent> {
		const {filter, signal, ...rest} = query;
		const wanted: WorkerQuery = {...rest, spec: filter?.spec};
		const scan = this.nextScan++;
		let done = false;
		try {
			while (!done && !signal?.aborted) {
				// eslint-disable-next-line no-await-in-loop
				const batch = await this.call({op: 'scan-next', scan, query: wanted, max: scanBatch}) as {events: LogEvent[]; done: boolean};
				done = batch.done;
				for (const e of batch.events) {
					if (signal?.aborted) {
						return;
					}

					yield e;
				}
			}
		} finally {
			if (!done && !this.stopped) {
				void this.call({op: 'scan-close', scan}).catch(() => undefined);
			}
		}
	}

	private async call(request: Call): Promise<unknown> {
		if (this.stopped) {
			throw this.stopped;
		}

		const m = await this.worker.request(request);
		if (m.error !== undefined) {
			throw new Error(m.error);
		}

		return m.result;
	}
}
