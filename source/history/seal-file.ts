import {createReadStream} from 'node:fs';
import fs, {type FileHandle} from 'node:fs/promises';
import {pipeline} from 'node:stream/promises';
import {Transform} from 'node:stream';
import zlib from 'node:zlib';
import {decodeLine} from './format.js';
import {IndexBuilder} from './index-builder.js';
import {LineIndexer} from './line-index.js';
import {fileMode, writeFileAtomic} from './segments.js';

// Sealing one raw segment: gzip it (level 1 or 6, see sealLevel) to `.gz.tmp`, fsync, rename to `.ndjson.gz`, write
// its sidecar the same way, then unlink the raw file. Runs in the seal worker (seal-worker.ts)
// so the ingest thread only encodes and writes; a crash at any step leaves either the raw file
// (sealed again at the next start) or a complete `.gz` (its sidecar rebuilt if missing).

/**
 * The gzip level of a segment, by how fast it filled (its bytes over the span of its lines'
 * receive times). Measured in 1 MiB members: on the fixture lines, level 1 takes about 25% less
 * CPU than 3 for 3% more disk; on the bench's 3-day store, level 6 takes 2.3 times the CPU of 1
 * (8 ms a MiB here) for 20% less disk (31.9 against 39.6 bytes per event).
 * - A segment that filled at 1 MiB/s or more (some 4,000 events/s and up) gets level 1: sealing
 *   shares the CPU with ingest, and at that rate disk is the cheaper of the two.
 * - A slower one gets level 6: its extra CPU is at most 8 ms for every second it took to fill,
 *   under 1% of a core however the segments come, as their spans add up to no more than the
 *   time that passed. Most stores (a few hundred events/s) are sealed this way.
 * - Unknown span (a line that does not read): level 1.
 */
export function sealLevel(rawBytes: number, spanMs: number | undefined): number {
	if (spanMs === undefined) {
		return 1;
	}

	return rawBytes < slowBytesPerSecond * Math.max(spanMs, 1) / 1000 ? 6 : 1;
}

const slowBytesPerSecond = 1024 * 1024;

/** A seal reads, indexes and compresses this much at a time: one gzip member each (0.3% more disk than one member). */
const sliceBytes = 1024 * 1024;

export type SealJob = {raw: string; gz: string; index: string};

export type SealResult = {
	events: number;
	/** Lines that did not decode (damage inside the file): kept in the gzip, skipped by readers. */
	badLines: number;
	/** Bytes after the last newline: a torn last write, left out. */
	tornBytes: number;
	rawBytes: number;
	gzBytes: number;
	/** The gzip level it was sealed at (sealLevel); absent for a sidecar rebuilt from the gzip. */
	level?: number;
};

/** Offset just past the last newline of the file (0 when it has none). */
export async function lastNewlineEnd(file: string): Promise<{end: number; size: number}> {
	const h = await fs.open(file, 'r');
	try {
		const {size} = await h.stat();
		const chunk = Buffer.alloc(64 * 1024);
		let pos = size;
		while (pos > 0) {
			const from = Math.max(0, pos - chunk.length);
			const {bytesRead} = await h.read(chunk, 0, pos - from, from);
			const i = chunk.subarray(0, bytesRead).lastIndexOf(10);
			if (i >= 0) {
				return {end: from + i + 1, size};
			}

			pos = from;
		}

		return {end: 0, size};
	} finally {
		await h.close();
	}
}

/** `"recv":…` of a line in the writer's shape, from its first bytes. */
const recvAtHead = /^\{"seq":\d+,"time":(?:-?\d+|null),"recv":(-?\d+),/;

/**
 * Milliseconds between the receive times of the first and the last complete line (which ends
 * at `end`); undefined when either does not read as the writer writes lines.
 */
export async function receiveSpan(file: string, end: number): Promise<number | undefined> {
	if (end === 0) {
		return undefined;
	}

	const h = await fs.open(file, 'r');
	try {
		const head = Buffer.alloc(Math.min(end, 256));
		await h.read(head, 0, head.length, 0);
		const tail = Buffer.alloc(Math.min(end, 64 * 1024));
		await h.read(tail, 0, tail.length, end - tail.length);
		// The last line starts after the newline before the one that ends it.
		const lastStart = tail.subarray(0, tail.length - 1).lastIndexOf(10) + 1;
		const first = recvAtHead.exec(head.toString('latin1'));
		const last = recvAtHead.exec(tail.toString('latin1', lastStart, Math.min(tail.length, lastStart + 256)));
		return first && last ? Math.abs(Number(last[1]) - Number(first[1])) : undefined;
	} finally {
		await h.close();
	}
}

/** Feeds every complete line of the stream (its bytes, newline left out) to `onLine` and passes the bytes through. */
function lineTap(onLine: (buf: Buffer, from: number, to: number) => void): Transform {
	let carry: Buffer | undefined;
	return new Transform({
		transform(chunk: Buffer, _encoding, done) {
			let start = 0;
			let buf = chunk;
			if (carry) {
				buf = Buffer.concat([carry, chunk]);
				carry = undefined;
			}

			for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
				onLine(buf, start, nl);
				start = nl + 1;
			}

			if (start < buf.length) {
				carry = Buffer.from(buf.subarray(start));
			}

			done(null, chunk);
		},
	});
}

/** Index a segment's lines: those in the writer's shape from their bytes, others decoded; counts the damaged. */
function indexer(builder: IndexBuilder): {onLine: (buf: Buffer, from: number, to: number) => void; badLines: () => number} {
	const lines = new LineIndexer(builder);
	let badLines = 0;
	return {
		onLine(buf, from, to) {
			if (lines.line(buf, from, to)) {
				return;
			}

			const e = decodeLine(buf.toString('utf8', from, to));
			if (e) {
				builder.add(e);
			} else if (to > from) {
				badLines++;
			}
		},
		badLines: () => badLines,
	};
}

/** Write all of `data` at `position`. */
async function writeAt(h: FileHandle, data: Buffer, position: number): Promise<void> {
	for (let done = 0; done < data.length;) {
		const {bytesWritten} = await h.write(data, done, data.length - done, position + done);
		done += bytesWritten;
	}
}

/**
 * Read the raw segment a slice at a time; index its lines and gzip the slice as one member of
 * the `.gz` (gzip readers, `zcat` and Node's gunzip alike, read concatenated members as one
 * stream). The compression runs on this thread, the seal worker's, which runs at low priority,
 * rather than on libuv's pool, which runs at the priority of ingest. Returns the `.gz` size.
 */
async function compressAndIndex(raw: string, end: number, tmp: string, level: number, onLine: (buf: Buffer, from: number, to: number) => void): Promise<number> {
	const input = await fs.open(raw, 'r');
	let output: FileHandle | undefined;
	try {
		output = await fs.open(tmp, 'w', fileMode);
		await output.chmod(fileMode);
		if (end === 0) {
			const empty = zlib.gzipSync(Buffer.alloc(0), {level});
			await writeAt(output, empty, 0);
			return empty.length;
		}

		let buf = Buffer.allocUnsafe(sliceBytes);
		let held = 0; // the start of an unfinished line, moved to the front of buf
		let pos = 0;
		let gzBytes = 0;
		while (pos < end) {
			if (held === buf.length) {
				// A line longer than the buffer: a bigger one.
				const bigger = Buffer.allocUnsafe(buf.length * 2);
				buf.copy(bigger, 0, 0, held);
				buf = bigger;
			}

			const {bytesRead} = await input.read(buf, held, Math.min(buf.length - held, sliceBytes, end - pos), pos);
			if (bytesRead === 0) {
				throw new Error(`${raw} is shorter than it was a moment ago`);
			}

			const packed = zlib.gzipSync(buf.subarray(held, held + bytesRead), {level});
			await writeAt(output, packed, gzBytes);
			gzBytes += packed.length;
			pos += bytesRead;

			const filled = buf.subarray(0, held + bytesRead);
			let start = 0;
			for (let nl = filled.indexOf(10); nl >= 0; nl = filled.indexOf(10, start)) {
				onLine(filled, start, nl);
				start = nl + 1;
			}

			held = filled.length - start;
			buf.copyWithin(0, start, filled.length);
		}

		await output.sync();
		return gzBytes;
	} finally {
		await output?.close();
		await input.close();
	}
}

/** gzip → fsync → rename, then the sidecar, then unlink the raw file. */
export async function sealFile(job: SealJob): Promise<SealResult> {
	const {end, size} = await lastNewlineEnd(job.raw);
	const builder = new IndexBuilder();
	const lines = indexer(builder);
	const tmp = `${job.gz}.tmp`;
	const level = sealLevel(end, await receiveSpan(job.raw, end));
	const gzBytes = await compressAndIndex(job.raw, end, tmp, level, lines.onLine);
	await fs.rename(tmp, job.gz);
	await writeFileAtomic(job.index, JSON.stringify(builder.build(end, gzBytes)));
	await fs.unlink(job.raw);
	return {events: builder.events, badLines: lines.badLines(), tornBytes: size - end, rawBytes: end, gzBytes, level};
}

/** A sealed segment that lost its sidecar (a crash between the two renames): build it from the gzip. */
export async function indexFromGz(gz: string, index: string): Promise<SealResult> {
	const builder = new IndexBuilder();
	const lines = indexer(builder);
	let rawBytes = 0;
	const counter = new Transform({
		transform(chunk: Buffer, _encoding, done) {
			rawBytes += chunk.length;
			done(null, chunk);
		},
	});
	await pipeline(createReadStream(gz), zlib.createGunzip(), counter, lineTap(lines.onLine), async function * (source) {
		for await (const _ of source) {
			// Drained: only the tap's lines matter.
		}
	});
	const gzBytes = (await fs.stat(gz)).size;
	await writeFileAtomic(index, JSON.stringify(builder.build(rawBytes, gzBytes)));
	return {events: builder.events, badLines: lines.badLines(), tornBytes: 0, rawBytes, gzBytes};
}
