import {constants, readdirSync, statSync} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {compareSegments, gzSuffix, indexSuffix, parseSegmentFile, rawSuffix} from './format.js';
import {type Stream} from './retention-plan.js';

// The files of the two segment streams (all/, errors/) as they are on disk now.

export const streams: readonly Stream[] = ['all', 'errors'];

/** Modes set explicitly, whatever the umask: logs carry personal data and secrets. */
export const dirMode = 0o700;
export const fileMode = 0o600;

export type SegmentFiles = {
	stream: Stream;
	hour: number;
	n: number;
	base: string;
	dir: string;
	/** The raw NDJSON, present while the segment is written (or when a seal did not finish). */
	raw?: string | undefined;
	/** The sealed gzip; when both exist the gzip is complete (renamed into place) and wins. */
	gz?: string | undefined;
	index?: string | undefined;
	bytes: number;
	mtimeMs: number;
};

export function streamDir(dir: string, stream: Stream): string {
	return path.join(dir, stream);
}

export function rawPath(dir: string, stream: Stream, base: string): string {
	return path.join(dir, stream, base + rawSuffix);
}

export function gzPath(dir: string, stream: Stream, base: string): string {
	return path.join(dir, stream, base + gzSuffix);
}

export function indexPath(dir: string, stream: Stream, base: string): string {
	return path.join(dir, stream, base + indexSuffix);
}

/** The segments of one stream, oldest first. A missing directory is an empty stream. */
export async function listSegments(dir: string, stream: Stream): Promise<SegmentFiles[]> {
	const where = streamDir(dir, stream);
	let names: string[];
	try {
		names = await fs.readdir(where);
	} catch (error) {
		return noDirectory(error);
	}

	const sizes = await Promise.all(names.map(async name => fs.stat(path.join(where, name)).catch(() => undefined)));
	return segmentsOf(stream, where, names, sizes);
}

/**
 * listSegments without the event loop, for a one-shot `logmon query`: a few hundred stats in a
 * row cost less than as many round trips through the thread pool.
 */
export function listSegmentsSync(dir: string, stream: Stream): SegmentFiles[] {
	const where = streamDir(dir, stream);
	let names: string[];
	try {
		names = readdirSync(where);
	} catch (error) {
		return noDirectory(error);
	}

	return segmentsOf(stream, where, names, names.map(name => statSync(path.join(where, name), {throwIfNoEntry: false})));
}

function noDirectory(error: unknown): SegmentFiles[] {
	if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
		return [];
	}

	throw error;
}

/** Segments from a directory's names and their stats (undefined: deleted meanwhile, by a seal or retention). */
function segmentsOf(stream: Stream, where: string, names: string[], stats: ReadonlyArray<{size: number; mtimeMs: number} | undefined>): SegmentFiles[] {
	const byBase = new Map<string, SegmentFiles>();
	for (const [i, name] of names.entries()) {
		const p = parseSegmentFile(name);
		if (!p) {
			continue;
		}

		let seg = byBase.get(p.base);
		if (!seg) {
			seg = {stream, hour: p.hour, n: p.n, base: p.base, dir: where, bytes: 0, mtimeMs: 0};
			byBase.set(p.base, seg);
		}

		seg[p.kind] = path.join(where, name);
		const st = stats[i];
		if (st) {
			seg.bytes += st.size;
			seg.mtimeMs = Math.max(seg.mtimeMs, st.mtimeMs);
		}
	}

	return [...byBase.values()].filter(s => s.raw !== undefined || s.gz !== undefined).sort(compareSegments);
}

/** mkdir -p with mode 0700 for the directories logmon creates, and chmod so the umask does not widen it. */
export async function makeDir(dir: string): Promise<void> {
	const created = await fs.mkdir(dir, {recursive: true, mode: dirMode});
	if (created !== undefined) {
		await fs.chmod(dir, dirMode);
	}
}

/** Write a small file atomically: temp file (0600), fsync, rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
	const tmp = `${file}.${process.pid}.tmp`;
	const h = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, fileMode);
	try {
		await h.chmod(fileMode);
		await h.writeFile(data);
		await h.sync();
	} finally {
		await h.close();
	}

	await fs.rename(tmp, file);
}

/** A short reason for a failed write, as the status bar shows it. */
export function failureReason(error: unknown): string {
	const code = (error as NodeJS.ErrnoException).code;
	switch (code) {
		case 'ENOSPC':
		case 'EDQUOT': {
			return 'disk full';
		}

		case 'EROFS':
		case 'EACCES':
		case 'EPERM': {
			return 'read-only';
		}

		case 'EFBIG': {
			return 'file size limit';
		}

		default: {
			return code ?? (error instanceof Error ? error.message : String(error));
		}
	}
}
