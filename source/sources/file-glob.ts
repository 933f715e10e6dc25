import {existsSync} from 'node:fs';
import {readdir, stat} from 'node:fs/promises';
import path from 'node:path';
import {type Glob, hasMagic, matchSegment} from '../core/glob.js';

// Expanding a glob against the directory tree (the matching itself is core/glob.ts).
// `**` descends at most `maxDepth` directories and never through symbolic links, so a
// link loop cannot make it endless.

const maxDepth = 16;

export type Expansion = {
	files: string[];
	/** Directories read on the way: where a new matching file would appear. */
	dirs: string[];
	/** Directories where the next directory of the pattern is not there yet: where it would appear. */
	waiting: string[];
	/** Directories that could not be read, with why (a missing base directory is not an error). */
	errors: Array<{dir: string; reason: string}>;
};

export async function expandGlob(glob: Glob): Promise<Expansion> {
	const out: Expansion = {files: [], dirs: [], waiting: [], errors: []};
	if (glob.literal) {
		out.files.push(glob.pattern);
		out.dirs.push(path.dirname(glob.pattern));
		return out;
	}

	await walk(glob.base, glob.segments, 0, out, 0);
	return out;
}

/** Walks `dir` for `segments[at]` on; false when `dir` is not there. */
async function walk(dir: string, segments: readonly string[], at: number, out: Expansion, depth: number): Promise<boolean> {
	const seg = segments[at]!;
	const last = at === segments.length - 1;
	if (!hasMagic(seg)) {
		// Plain text: no need to list the directory.
		const next = path.join(dir, seg);
		if (last) {
			out.files.push(next);
			// A file that is not there yet in a directory that is not there either (`logs` of
			// `/srv/*/logs/app.log` not made yet): the caller watches where the directory would appear.
			if (!existsSync(next) && !(await isDirectory(dir))) {
				return false;
			}

			out.dirs.push(dir);
			return true;
		}

		if (await walk(next, segments, at + 1, out, depth)) {
			return true;
		}

		// `next` is not there yet (`logs` of `/srv/*/logs/*.log` in a service directory just made):
		// this directory is watched until it comes, so its making is seen, not left to the next check.
		const here = await isDirectory(dir);
		if (here) {
			out.waiting.push(dir);
		}

		return here;
	}

	let entries;
	try {
		entries = await readdir(dir, {withFileTypes: true});
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code !== 'ENOENT' && code !== 'ENOTDIR') {
			out.errors.push({dir, reason: code ?? String(error)});
		}

		return false;
	}

	out.dirs.push(dir);
	if (seg === '**') {
		// Zero directories: the rest of the pattern here; then each subdirectory, still under `**`.
		if (last) {
			for (const e of entries) {
				if (!e.name.startsWith('.') && (e.isFile() || e.isSymbolicLink())) {
					out.files.push(path.join(dir, e.name));
				}
			}
		} else {
			await walk(dir, segments, at + 1, out, depth);
		}

		if (depth < maxDepth) {
			for (const e of entries) {
				if (e.isDirectory() && !e.name.startsWith('.')) {
					await walk(path.join(dir, e.name), segments, at, out, depth + 1);
				}
			}
		}

		return true;
	}

	for (const e of entries) {
		if (!matchSegment(seg, e.name)) {
			continue;
		}

		const full = path.join(dir, e.name);
		if (last) {
			if (!e.isDirectory()) {
				out.files.push(full);
			}
		} else if (e.isDirectory() || e.isSymbolicLink()) {
			await walk(full, segments, at + 1, out, depth + 1);
		}
	}

	return true;
}

async function isDirectory(dir: string): Promise<boolean> {
	return stat(dir).then(st => st.isDirectory(), () => false);
}
