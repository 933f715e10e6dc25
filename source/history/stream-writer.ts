import {constants} from 'node:fs';
import fs, {type FileHandle} from 'node:fs/promises';
import {segmentBase} from './format.js';
import {type Stream} from './retention-plan.js';
import {fileMode, makeDir, rawPath, streamDir} from './segments.js';

// One segment stream of the writer (all/ or errors/): its active segment file, to which each
// flush appends its lines with one writev per hour's chunk.

/** Lines received within one hour, as UTF-8 bytes. */
export type Chunk = {hour: number; parts: Buffer[]; lines: number; bytes: number};

export type Active = {base: string; hour: number; file: string; handle: FileHandle; size: number};

/** One segment stream (all/ or errors/): its active segment. */
export class StreamWriter {
	active: Active | undefined;
	/** The highest segment number used per hour. */
	readonly lastN = new Map<number, number>();

	constructor(readonly stream: Stream, private readonly dir: string) {}

	/** Append one chunk, rolling first when its hour differs or the segment is full. Returns a rolled segment. */
	async write(chunk: Chunk, segmentBytes: number): Promise<Active | undefined> {
		let rolled: Active | undefined;
		if (this.active && (this.active.hour !== chunk.hour || this.active.size >= segmentBytes)) {
			rolled = this.active;
			this.active = undefined;
			await rolled.handle.close();
		}

		this.active ??= await this.open(chunk.hour);
		const a = this.active;
		let parts = chunk.parts;
		let done = 0;
		try {
			// One writev per chunk; a short write (disk nearly full) continues with what is left.
			while (done < chunk.bytes) {
				const {bytesWritten} = await a.handle.writev(parts);
				done += bytesWritten;
				if (done < chunk.bytes) {
					parts = remainder(chunk.parts, done);
				}
			}
		} catch (error) {
			// Take back what landed of this batch, so the segment ends on a whole line.
			await a.handle.truncate(a.size).catch(() => undefined);
			throw error;
		}

		a.size += chunk.bytes;
		return rolled;
	}

	/** Close the active segment after a failure or at exit; returns it for sealing. */
	async abandon(): Promise<Active | undefined> {
		const a = this.active;
		this.active = undefined;
		await a?.handle.close().catch(() => undefined);
		return a;
	}

	private async open(hour: number): Promise<Active> {
		await makeDir(streamDir(this.dir, this.stream));
		for (;;) {
			const n = (this.lastN.get(hour) ?? -1) + 1;
			this.lastN.set(hour, n);
			const base = segmentBase(hour, n);
			const file = rawPath(this.dir, this.stream, base);
			let handle: FileHandle;
			try {
				handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, fileMode);
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
					continue;
				}

				throw error;
			}

			await handle.chmod(fileMode);
			return {base, hour, file, handle, size: 0};
		}
	}
}

/** The parts after the first `skip` bytes. */
function remainder(parts: Buffer[], skip: number): Buffer[] {
	const out: Buffer[] = [];
	for (const p of parts) {
		if (skip >= p.length) {
			skip -= p.length;
		} else {
			out.push(skip > 0 ? p.subarray(skip) : p);
			skip = 0;
		}
	}

	return out;
}

