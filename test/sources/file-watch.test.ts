import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, expect, test} from 'vitest';
import {DirWatches, maxWatches} from '../../source/sources/file-watch.js';

// The directory watches of the file source, on real directories: past the limit, the first
// directories of the set that can be watched are the ones watched, even when later ones held
// watches before.

const root = mkdtempSync(path.join(tmpdir(), 'logmon-watch-'));

afterAll(() => {
	rmSync(root, {recursive: true, force: true});
});

function dirs(prefix: string, n: number): string[] {
	return Array.from({length: n}, (_, i) => {
		const d = path.join(root, `${prefix}-${i}`);
		mkdirSync(d, {recursive: true});
		return d;
	});
}

test('directories waiting for a pattern\'s next one give their watches up to directories with files, past the limit', () => {
	const watches = new DirWatches(() => undefined);
	try {
		const waiting = dirs('waiting', 10);
		watches.set(new Set(waiting));
		expect(waiting.every(d => watches.watching(d))).toBe(true);

		const withFiles = dirs('files', maxWatches);
		watches.set(new Set([...withFiles, ...waiting]));
		expect(watches.size).toBe(maxWatches);
		expect(withFiles.every(d => watches.watching(d))).toBe(true);
		expect(waiting.some(d => watches.watching(d))).toBe(false);

		// A directory that cannot be watched (not there) takes no place.
		const missing = path.join(root, 'not-there');
		const errors = watches.errors;
		for (let check = 0; check < 3; check++) {
			watches.set(new Set([missing, ...withFiles, ...waiting]));
			expect(watches.size).toBe(maxWatches);
			expect(withFiles.every(d => watches.watching(d))).toBe(true);
		}

		// Counted once, not at every check.
		expect(watches.errors).toBe(errors + 1);

		// Fewer with files again: the waiting ones are watched once more.
		watches.set(new Set([...withFiles.slice(0, 100), ...waiting]));
		expect(watches.size).toBe(110);
		expect(waiting.every(d => watches.watching(d))).toBe(true);
	} finally {
		watches.close();
	}
});
