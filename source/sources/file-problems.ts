import {readdir, stat} from 'node:fs/promises';
import path from 'node:path';
import {compareRotations, isGzip, isRotationOf, type RotatedCopy} from './file-names.js';
import {type FileReader} from './file-tailer.js';

// What goes wrong with followed files, said in words; where copy-truncate left a file's old content,
// and which rotations by rename came and went between two checks.

export type Problem = {path: string; reason: string};

/** A pattern that matches no file (yet). */
export const noMatch = 'no file matches it yet, waiting for one';

/** Why a file cannot be followed, as health and stderr say it. */
export function describeFileError(error: unknown): string {
	const e = error as NodeJS.ErrnoException;
	switch (e.code) {
		case 'EACCES':
		case 'EPERM': {
			return 'unreadable: permission denied';
		}

		case 'ENOENT': {
			return 'missing, waiting for it';
		}

		case 'ENOTFILE': {
			return e.message;
		}

		// A named .gz file, as zcat says it.
		case 'Z_DATA_ERROR': {
			return 'unreadable: not in gzip format, or damaged';
		}

		case 'Z_BUF_ERROR': {
			return 'unreadable: unexpected end of file (a gzip file cut short)';
		}

		default: {
			return `unreadable: ${e.code ?? (error instanceof Error ? error.message : String(error))}`;
		}
	}
}

/**
 * A file that cannot be read is said once in the diagnostics (stderr in pipe mode), and again
 * when it can be. A missing file only at start: during a rotation the name is briefly free.
 */
export class ProblemLog {
	/** Problems already told (path -> reason). */
	private readonly told = new Map<string, string>();

	constructor(private readonly say: (level: 'info' | 'warn', text: string) => void) {}

	tell(problems: readonly Problem[], first: boolean, followed: (file: string) => boolean): void {
		const now = new Map(problems.map(p => [p.path, p.reason]));
		for (const [file, reason] of now) {
			if (!first && (reason.startsWith('missing') || reason === noMatch)) {
				continue;
			}

			if (this.told.get(file) !== reason) {
				this.told.set(file, reason);
				this.say('warn', `${file}: ${reason}`);
			}
		}

		for (const file of [...this.told.keys()]) {
			if (!now.has(file)) {
				this.told.delete(file);
				if (followed(file)) {
					this.say('info', `${file}: readable now, followed`);
				}
			}
		}
	}
}

/** Files beside this one named as its rotations, newest first: where copy-truncate put the old content. */
export async function rotatedCopies(file: FileReader): Promise<RotatedCopy[]> {
	const copies = await rotations(path.dirname(file.path), path.basename(file.firstPath));
	return copies.map(c => ({path: c.path, mtime: c.mtime})).sort((a, b) => compareRotations(b, a));
}

/**
 * Rotations of `file` by name that are unknown here (`known`, by device and inode) and written after
 * `since`: generations made under its name and rotated away between two checks. Oldest first.
 */
export async function missedRotations(file: string, since: number, known: (key: string) => boolean): Promise<RotatedCopy[]> {
	const found = await rotations(path.dirname(file), path.basename(file));
	return found.filter(r => r.mtime > since && !known(r.key)).map(r => ({path: r.path, mtime: r.mtime})).sort(compareRotations);
}

/**
 * The regular files in `dir` named as rotations of `name`, gzip ones left out. Only a regular file
 * counts: a FIFO of that name would be waited on, not read.
 */
async function rotations(dir: string, name: string): Promise<Array<RotatedCopy & {key: string}>> {
	let names: string[];
	try {
		names = await readdir(dir);
	} catch {
		return [];
	}

	const out: Array<RotatedCopy & {key: string}> = [];
	for (const n of names) {
		if (!isRotationOf(n, name) || isGzip(n)) {
			continue;
		}

		const full = path.join(dir, n);
		try {
			const st = await stat(full); // eslint-disable-line no-await-in-loop
			if (st.isFile()) {
				out.push({path: full, mtime: st.mtimeMs, key: `${st.dev}:${st.ino}`});
			}
		} catch {
			// Gone already.
		}
	}

	return out;
}
