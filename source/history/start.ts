import {mkdtemp, readdir, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {type Bus} from '../core/bus.js';
import {type HistorySettings} from '../settings.js';
import {lockIsStale} from './lock.js';
import {HistoryFormatError, openHistory, type History} from './open.js';
import {type HistoryReader, type HistoryStatus} from './types.js';

// The history of a logmon run (pipe mode or UI): open it, subscribe the writer to the bus,
// close it at exit. Loaded only when the history is on.

export type RunHistory = {
	readonly dir: string;
	/** Undefined when the history could not be opened (see status). */
	readonly reader: HistoryReader | undefined;
	status(): HistoryStatus;
	onStatus(listener: (status: HistoryStatus) => void): () => void;
	close(): Promise<void>;
};

/** A history that is off for a reason (a directory from a newer logmon): logmon runs on without it. */
function offHistory(dir: string, reason: string): RunHistory {
	const status: HistoryStatus = {state: 'off', reason, dir, written: 0, dropped: 0, tornLines: 0, damagedSegments: 0, bytesOnDisk: 0, segments: 0};
	return {
		dir,
		reader: undefined,
		status: () => status,
		onStatus: () => () => undefined,
		async close() {
			// Nothing open.
		},
	};
}

const demoPrefix = 'logmon-demo-history-';

/** Temporary histories of demos that were killed before they could remove theirs. */
async function removeStaleDemoDirs(): Promise<void> {
	const names = await readdir(tmpdir()).catch(() => [] as string[]);
	await Promise.all(names.filter(n => n.startsWith(demoPrefix)).map(async n => {
		const dir = path.join(tmpdir(), n);
		if (lockIsStale(dir)) {
			await rm(dir, {recursive: true, force: true}).catch(() => undefined);
		}
	}));
}

export async function startHistory(bus: Bus, settings: HistorySettings): Promise<RunHistory> {
	// --demo: a temporary directory, removed at exit, so the user's own history is left alone.
	const temporary = settings.dir === undefined;
	if (temporary) {
		await removeStaleDemoDirs();
	}

	const dir = settings.dir ?? await mkdtemp(path.join(tmpdir(), demoPrefix));
	let history: History;
	try {
		history = await openHistory(dir, {writer: {
			flushMs: settings.flushMs,
			limits: {maxAgeMs: settings.retentionMs, errorMaxAgeMs: settings.errorRetentionMs, maxBytes: settings.maxBytes},
		}});
	} catch (error) {
		if (error instanceof HistoryFormatError) {
			return offHistory(dir, error.reason);
		}

		throw error;
	}

	history.writer?.attach(bus);
	return {
		dir: history.dir,
		reader: history.reader,
		status: () => history.status(),
		onStatus: listener => history.onStatus(listener),
		async close() {
			await history.close();
			if (temporary) {
				await rm(dir, {recursive: true, force: true});
			}
		},
	};
}
