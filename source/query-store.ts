import {existsSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {type Flags} from './cli.js';
import {type ConfigFile} from './config/schema.js';
import {type Settings} from './settings.js';
import {checkFormat} from './history/format.js';
import {defaultHistoryDir} from './history/paths.js';
import {Reader} from './history/reader.js';
import {type HistoryReader} from './history/types.js';
import {type WordRule} from './query-tokens.js';

// What `logmon query` needs from the store: where it is, a reader that never writes, and how its
// index cuts words.

export class QueryStoreError extends Error {
	constructor(message: string, readonly missing = false) {
		super(message);
		this.name = 'QueryStoreError';
	}
}

/** The index's words: runs of ASCII letters, digits and `_` (history/bloom.ts), all lengths. */
export const indexWordRule: WordRule = {
	isWordChar: c => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95,
	minLength: 1,
	maxLength: Number.POSITIVE_INFINITY,
};

export type QueryDir = {
	dir: string;
	/** Where it was named: a missing directory is an error when the user named it. */
	from: '--history-dir' | 'history.dir' | undefined;
};

/** The directory settings.ts resolved (--history-dir, then history.dir, then the XDG default), and where it was named. */
export function resolveQueryDir(flags: Flags, config: ConfigFile, settings: Settings, env: NodeJS.ProcessEnv): QueryDir {
	const from = flags.historyDir === undefined ? (config.history.dir === undefined ? undefined : 'history.dir') : '--history-dir';
	return {dir: path.resolve(settings.history.dir ?? defaultHistoryDir(env)), from};
}

/** A reader of the history at `where`, never writing it. Throws QueryStoreError naming the directory. */
export async function openQueryReader(where: QueryDir): Promise<HistoryReader> {
	let format: string | undefined;
	try {
		format = await fs.readFile(path.join(where.dir, 'FORMAT'), 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw new QueryStoreError(`history ${where.dir}: ${(error as Error).message}`);
		}

		if (!existsSync(where.dir)) {
			throw where.from
				? new QueryStoreError(`${where.from}: no history at ${where.dir} (no such directory)`)
				: new QueryStoreError(`no history in ${where.dir} yet (logmon keeps one while a network source runs)`, true);
		}
	}

	// A directory without FORMAT yet (a writer just made it) reads as empty.
	const check = format === undefined ? {ok: true as const} : checkFormat(format);
	if (!check.ok) {
		throw new QueryStoreError(`history ${where.dir}: ${check.reason}`);
	}

	// The reader alone: a query never writes, so the writer's modules are not loaded.
	return new Reader(where.dir, {readOnlyReason: 'read-only'});
}
