import {setPriority} from 'node:os';
import {parentPort} from 'node:worker_threads';
import {type SealJob, indexFromGz, sealFile} from './seal-file.js';

// The seal worker: gzip, index and bloom filter off the ingest thread. One job at a time.

// Sealing can wait; ingest cannot. On Linux the nice value is per thread: this lowers only this one.
try {
	setPriority(19);
} catch {
	// Not allowed here: the seal runs at the normal priority.
}

type Message = {id: number; job: SealJob; indexOnly?: boolean};

parentPort?.on('message', (m: Message) => {
	const work = m.indexOnly ? indexFromGz(m.job.gz, m.job.index) : sealFile(m.job);
	work.then(
		result => parentPort!.postMessage({id: m.id, result}),
		(error: unknown) => parentPort!.postMessage({id: m.id, error: {message: error instanceof Error ? error.message : String(error), code: (error as NodeJS.ErrnoException).code}}),
	);
});
