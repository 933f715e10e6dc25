import {readdir, stat} from 'node:fs/promises';
import path from 'node:path';
import {compareRotations, isGzip, isRotationOf, type RotatedCopy} from './file-names.js';
import {type FileReader} from './file-tailer.js';

// What goes wrong with followed files, said in words, and where copy-truncate left a file's old content.

export type Problem = {path: string; reason: string};

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
			if (!first && reason.startsWith('missing')) {
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
	const dir = path.dirname(file.path);
	const name = path.basename(file.firstPath);
	let names: string[];
	try {
		names = await readdir(dir);
	} catch {
		return [];
	}

	const copies: RotatedCopy[] = [];
	for (const n of names) {
		if (isRotationOf(n, name) && !isGzip(n)) {
			const full = path.join(dir, n);
			try {
				const st = await stat(full); // eslint-disable-line no-await-in-loop
				// Only a regular file is a copy: a FIFO of that name would be waited on, not read.
				if (st.isFile()) {
					copies.push({path: full, mtime: st.mtimeMs});
				}
			} catch {
				// Gone already.
			}
		}
	}

	return copies.sort((a, b) => compareRotations(b, a));
}
