import fs from 'node:fs/promises';
import zlib from 'node:zlib';
import {GzipDamage, inflateMember, LargeMember} from './gzip-members.js';

// A segment's text in chunks of whole lines (each chunk ends with a newline), read the way a
// scan of days of history needs: a sealed segment member by member (gzip-members.ts), the one
// being written in slices up to its last newline (a write in progress is never half-read).
// Holds the segment's compressed bytes and about 1 MiB of its text at a time.

export type SegmentSource = {
	/** The sealed gzip. */
	gz?: string | undefined;
	/** The raw file, while the segment is written. */
	raw?: string | undefined;
	/** For a raw file: the gzip it becomes when sealed, read instead once the raw file is gone. */
	sealedAs?: string | undefined;
};

export type TextCounts = {
	/** The segment could not be read to its end (a damaged gzip, an unreadable file): what came before was given. */
	damaged: boolean;
};

/** A raw segment is read this much at a time. */
const sliceBytes = 1024 * 1024;

/** A member with more text than this is not the sealer's: the rest of the file is read as a stream. */
const maxMemberText = 8 * 1024 * 1024;

/** Joins pieces of text and gives out the whole lines; what follows the last newline waits for more. */
class Lines {
	private carry: Buffer | undefined;

	/** The whole lines completed by `piece`: the one the last piece began, then the rest (each may be absent). */
	take(piece: Buffer): Buffer[] {
		const out: Buffer[] = [];
		let from = 0;
		if (this.carry) {
			const nl = piece.indexOf(10);
			if (nl < 0) {
				this.carry = Buffer.concat([this.carry, piece]);
				return out;
			}

			out.push(Buffer.concat([this.carry, piece.subarray(0, nl + 1)]));
			this.carry = undefined;
			from = nl + 1;
		}

		const end = piece.lastIndexOf(10) + 1;
		if (end > from) {
			out.push(piece.subarray(from, end));
		}

		// A copy: the rest must not hold on to the whole piece it came from.
		if (end < piece.length) {
			this.carry = Buffer.from(piece.subarray(end));
		}

		return out;
	}
}

/**
 * Reads segments one after the other, each sealed one into the same buffer: a scan of days of
 * history reads hundreds of MiB of gzip, and a fresh buffer per file leaves the garbage collector
 * tens of MiB behind. One segment at a time; the chunks it gives are their own memory.
 */
export class SegmentReader {
	private packed = Buffer.allocUnsafeSlow(0);

	/** The chunks of a segment's text. Sets `counts.damaged` when it cannot be read to its end. */
	async * text(source: SegmentSource, counts: TextCounts): AsyncGenerator<Buffer> {
		if (source.gz) {
			yield * this.gzipText(source.gz, counts);
			return;
		}

		if (source.raw) {
			yield * this.rawText(source.raw, source.sealedAs, counts);
		}
	}

	/** The whole file in `this.packed`; undefined when it is gone. */
	private async readPacked(file: string): Promise<Buffer | undefined> {
		let handle: fs.FileHandle;
		try {
			handle = await fs.open(file, 'r');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				return undefined; // removed by retention meanwhile: nothing to read, nothing wrong
			}

			throw error;
		}

		try {
			const {size} = await handle.stat();
			if (this.packed.length < size) {
				this.packed = Buffer.allocUnsafeSlow(Math.max(size, 2 * this.packed.length));
			}

			let got = 0;
			while (got < size) {
				const {bytesRead} = await handle.read(this.packed, got, size - got, got);
				if (bytesRead === 0) {
					break;
				}

				got += bytesRead;
			}

			return this.packed.subarray(0, got);
		} finally {
			await handle.close();
		}
	}

	private async * gzipText(file: string, counts: TextCounts): AsyncGenerator<Buffer> {
		let packed: Buffer | undefined;
		try {
			packed = await this.readPacked(file);
		} catch {
			counts.damaged = true;
		}

		if (!packed) {
			return;
		}

		const lines = new Lines();
		let at = 0;
		try {
			for (;;) {
				const member = inflateMember(packed, at, maxMemberText);
				if (!member) {
					counts.damaged ||= at === 0; // not a gzip at all
					return;
				}

				at = member.next;
				yield * lines.take(member.text);
			}
		} catch (error) {
			if (error instanceof LargeMember) {
				yield * streamedText(packed.subarray(at), lines, counts);
				return;
			}

			if (!(error instanceof GzipDamage)) {
				throw error;
			}

			// What the damaged member held up to the damage, whole lines only.
			counts.damaged = true;
			yield * lines.take(error.salvaged);
		}
	}

	/** The raw file up to its last newline; once it is gone (sealed meanwhile), its gzip. */
	private async * rawText(file: string, sealedAs: string | undefined, counts: TextCounts): AsyncGenerator<Buffer> {
		let handle: fs.FileHandle;
		try {
			handle = await fs.open(file, 'r');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT' && sealedAs) {
				yield * this.gzipText(sealedAs, counts);
			} else {
				counts.damaged ||= (error as NodeJS.ErrnoException).code !== 'ENOENT';
			}

			return;
		}

		// An open file stays readable when the sealer unlinks it: read on to its end.
		const lines = new Lines();
		try {
			for (let position = 0; ;) {
				const slice = Buffer.allocUnsafeSlow(sliceBytes);
				const {bytesRead} = await handle.read(slice, 0, sliceBytes, position);
				if (bytesRead === 0) {
					return; // a torn last line stays behind
				}

				position += bytesRead;
				yield * lines.take(slice.subarray(0, bytesRead));
			}
		} catch {
			counts.damaged = true;
		} finally {
			await handle.close();
		}
	}
}

/** Members too large to inflate at once (a gzip made by other means), through a gunzip stream. */
async function * streamedText(packed: Buffer, lines: Lines, counts: TextCounts): AsyncGenerator<Buffer> {
	const gunzip = zlib.createGunzip({chunkSize: sliceBytes});
	// A copy: the reader's buffer is used again once this segment is done.
	gunzip.end(Buffer.from(packed));
	try {
		for await (const piece of gunzip as AsyncIterable<Buffer>) {
			yield * lines.take(piece);
		}
	} catch {
		counts.damaged = true;
	} finally {
		gunzip.destroy();
	}
}
