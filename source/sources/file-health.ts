import {type SourceHandle} from '../core/bus.js';
import {type Problem} from './file-problems.js';

// What the file source shows in health: its files (problems first: they are what a reader of
// the health looks for), its counters, and its state.

/** Files listed one by one in health; the rest are counted. */
const maxListed = 100;

export type FileHealth = {
	problems: readonly Problem[];
	compressed: ReadonlyArray<{path: string; state: string; reader?: unknown}>;
	tailers: ReadonlyArray<{path: string; position: number; truncations: number; multilineCut: number}>;
	/** Files rotated away, still read. */
	retiring: number;
	watched: number;
	watchErrors: number;
	checkEveryMs: number;
	renamedAway: number;
	lost: number;
	/** When a file that cannot be read yet is tried again. */
	retryMs: number;
};

export function showFileHealth(h: SourceHandle, f: FileHealth): void {
	const files: Array<Record<string, unknown>> = [];
	for (const p of f.problems) {
		if (files.length < maxListed) {
			files.push({path: p.path, state: p.reason});
		}
	}

	for (const c of f.compressed) {
		if (files.length < maxListed) {
			files.push({path: c.path, state: c.state});
		}
	}

	for (const t of f.tailers) {
		if (files.length >= maxListed) {
			break;
		}

		files.push({path: t.path, state: 'following', position: t.position});
	}

	h.detail('files', files);
	h.detail('following', f.tailers.length);
	h.detail('problems', f.problems.length);
	h.detail('watchedDirectories', f.watched);
	h.detail('checkEveryMs', f.checkEveryMs);
	h.detail('renamedAway', f.renamedAway);
	h.detail('truncations', f.tailers.reduce((n, t) => n + t.truncations, 0));
	h.detail('lostAtTruncation', f.lost);
	h.detail('multilineCut', f.tailers.reduce((n, t) => n + t.multilineCut, 0));
	if (f.watchErrors > 0) {
		h.detail('watchErrors', f.watchErrors);
	}

	if (h.health.state === 'ended') {
		return;
	}

	const reading = f.tailers.length > 0 || f.retiring > 0 || f.compressed.some(c => c.reader);
	if (reading || f.problems.length === 0) {
		h.setState('live');
	} else {
		const first = f.problems[0]!;
		const more = f.problems.length > 1 ? ` (and ${f.problems.length - 1} more)` : '';
		h.setState('retrying', `no file can be read yet: ${first.path}: ${first.reason}${more}`, f.retryMs);
	}
}
