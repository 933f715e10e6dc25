import fs from 'node:fs/promises';
import path from 'node:path';
import {checkFormat, formatFileText} from './format.js';
import {acquireLock, type LockHolder} from './lock.js';
import {Reader} from './reader.js';
import {Sealer} from './seal.js';
import {makeHistoryDirs, HistoryWriter, type StatusListener, type WriterOptions} from './writer.js';
import {hostname} from 'node:os';
import {type HistoryReader, type HistoryStatus} from './types.js';
import {makeDir, writeFileAtomic} from './segments.js';

// Opening a history directory: check its FORMAT, take the writer lock (or open read-only when
// another logmon holds it), and hand out the reader and, when this process writes, the writer.

export {defaultHistoryDir} from './paths.js';

/** The directory was written by a newer logmon, or is not a history: refuse rather than misread. */
export class HistoryFormatError extends Error {
	constructor(readonly dir: string, readonly reason: string) {
		super(`history ${dir}: ${reason}`);
		this.name = 'HistoryFormatError';
	}
}

export type OpenOptions = {
	/** Never write (`logmon query`): no lock, no directory created. */
	readOnly?: boolean;
	writer?: Partial<WriterOptions>;
};

export type History = {
	readonly dir: string;
	readonly reader: HistoryReader & {refresh(): Promise<void>};
	/** Present when this process holds the lock and writes. */
	readonly writer: HistoryWriter | undefined;
	status(): HistoryStatus;
	/** Called when the state or its reason changes (writing, failed: disk full, …). */
	onStatus(listener: StatusListener): () => void;
	/** Final flush, release the lock. */
	close(): Promise<void>;
};

const formatFile = 'FORMAT';

/** Read FORMAT; write it when the directory is new (and we may write). */
async function checkDirFormat(dir: string, create: boolean): Promise<void> {
	let text: string | undefined;
	try {
		text = await fs.readFile(path.join(dir, formatFile), 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw error;
		}
	}

	if (text === undefined) {
		if (create) {
			await writeFileAtomic(path.join(dir, formatFile), formatFileText);
		}

		return;
	}

	const check = checkFormat(text);
	if (!check.ok) {
		throw new HistoryFormatError(dir, check.reason);
	}
}

/** Who holds the lock, as the status says it. */
function holderText(holder: LockHolder | undefined): string {
	if (!holder) {
		return 'read-only: another logmon writes it';
	}

	return `read-only: another logmon (pid ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}) writes it`;
}

/**
 * Open the history at `dir`. Throws HistoryFormatError for a directory this logmon must not
 * read. Any other trouble (the directory cannot be made or written) gives a writer in state
 * `failed` that keeps trying, so logmon runs on.
 */
export async function openHistory(dir: string, options: OpenOptions = {}): Promise<History> {
	dir = path.resolve(dir);
	if (options.readOnly) {
		await checkDirFormat(dir, false);
		const reader = new Reader(dir, {readOnlyReason: 'read-only'});
		return readOnlyHistory(dir, reader);
	}

	let release: () => void = () => undefined;
	/** Make the directory, check FORMAT, take the lock; returns why it is read-only, if it is. */
	const setup = async (): Promise<string | undefined> => {
		await makeDir(dir);
		await checkDirFormat(dir, true); // before anything is made inside a directory that may not be ours to change
		await makeHistoryDirs(dir);
		const lock = acquireLock(dir);
		if (!lock.ok) {
			return holderText(lock.holder);
		}

		release = lock.release;
		return undefined;
	};

	let first: string | undefined;
	let setupError: unknown;
	try {
		first = await setup();
	} catch (error) {
		if (error instanceof HistoryFormatError) {
			throw error;
		}

		setupError = error;
	}

	if (first !== undefined) {
		const reader = new Reader(dir, {readOnlyReason: first});
		await reader.refresh().catch(() => undefined);
		return readOnlyHistory(dir, reader);
	}

	const sealer = new Sealer();
	// Set up already, or to be tried again before each write until it works.
	const writer = new HistoryWriter(dir, sealer, options.writer, setupError === undefined ? undefined : setup);
	await writer.start();
	const reader = new Reader(dir, {writerStatus: () => writer.status()});
	return {
		dir,
		reader,
		writer,
		status: () => reader.status(),
		onStatus: listener => writer.onStatus(listener),
		async close() {
			await writer.close();
			await sealer.close();
			release();
		},
	};
}

function readOnlyHistory(dir: string, reader: Reader): History {
	return {
		dir,
		reader,
		writer: undefined,
		status: () => reader.status(),
		onStatus: () => () => undefined,
		async close() {
			// Nothing held.
		},
	};
}
