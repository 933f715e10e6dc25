import {closeSync, createReadStream, fstatSync, openSync, readSync} from 'node:fs';
import fs from 'node:fs/promises';
import zlib from 'node:zlib';
import {GzipDamage, inflateMember, LargeMember} from './gzip-members.js';
import {type MemberInflater} from './member-inflater.js';

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

/** A piece of a segment's text, not cut at a line. */
export type Piece = {
	text: Buffer;
	/** The text is the whole of its memory's only use (an inflated member), which can be handed to another thread as it is. */
	own: boolean;
	/** The CRC-32 the text must have, when reading was asked to leave the check to the caller (gzip-members.ts checkCrc). */
	crc?: number | undefined;
	/** The first piece after damage was skipped: text is missing before it, so its first line is a part (Lines.skipPart). */
	afterGap?: boolean;
};

export type TextCounts = {
	/** The segment could not be read to its end (a damaged gzip, an unreadable file): what came before was given. */
	damaged: boolean;
};

/** A raw segment is read this much at a time. */
const sliceBytes = 1024 * 1024;

/** A member with more text than this is not the sealer's: the rest of the file is read as a stream. */
export const maxMemberText = 8 * 1024 * 1024;

/** How every member the sealer writes begins: the magic, deflate, no flags, no time (zlib.gzipSync). */
const memberHeader = Buffer.from([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);

function zeros(buffer: Buffer, from: number, to: number): boolean {
	for (let i = from; i < to; i++) {
		if (buffer[i] !== 0) {
			return false;
		}
	}

	return true;
}

/** A gzip is read this much at a time: the sealer's members are some 150 KiB each. */
const packedWindow = 1024 * 1024;

/** Joins pieces of text and gives out the whole lines; what follows the last newline waits for more. */
export class Lines {
	private carry: Buffer | undefined;
	private skipping = false;

	/** Text was lost before the next piece: the line carried and the part the next piece begins with are dropped. */
	skipPart(): void {
		this.carry = undefined;
		this.skipping = true;
	}

	/** The whole lines completed by `piece`: the one the last piece began, then the rest (each may be absent). */
	take(piece: Buffer): Buffer[] {
		const out: Buffer[] = [];
		let from = 0;
		if (this.skipping) {
			from = piece.indexOf(10) + 1;
			if (from === 0) {
				return out;
			}

			this.skipping = false;
		}

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
	/** A window on the gzip, read on as its members are inflated. */
	private packed: Buffer;

	private readonly inflater: MemberInflater | undefined;
	private readonly blocking: boolean;

	/**
	 * `window`: bytes of gzip held at a time (more while a member is larger). With an `inflater`
	 * (member-inflater.ts), each piece of a sealed segment is a view on its buffer, good until the
	 * next piece is asked for. With `blocking`, a sealed segment is read without the thread pool's
	 * round trip: for a worker thread, where nothing else waits.
	 */
	constructor(private readonly window = packedWindow, options: {inflater?: MemberInflater | undefined; blocking?: boolean} = {}) {
		this.packed = Buffer.allocUnsafeSlow(window);
		this.inflater = options.inflater;
		this.blocking = options.blocking ?? false;
	}

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

	private async * gzipText(file: string, counts: TextCounts): AsyncGenerator<Buffer> {
		const lines = new Lines();
		for await (const piece of this.pieces(file, counts)) {
			if (piece.afterGap) {
				lines.skipPart();
			}

			yield * lines.take(piece.text);
		}
	}

	/**
	 * A sealed segment's text, a gzip member at a time. Sets `counts.damaged` when it cannot be read
	 * to its end. With `checkCrc` false, each member's checksum is given with it, to be tested by the caller.
	 * Members are independent: past a damaged one (or bytes that are none), reading goes on at the
	 * next member's header, and that piece is marked `afterGap`.
	 */
	async * pieces(file: string, counts: TextCounts, checkCrc = true): AsyncGenerator<Piece> {
		let handle: PackedFile;
		try {
			handle = await openPacked(file, this.blocking);
		} catch (error) {
			// Removed by retention meanwhile: nothing to read, nothing wrong.
			counts.damaged ||= (error as NodeJS.ErrnoException).code !== 'ENOENT';
			return;
		}

		try {
			let {size} = handle;
			// The window holds bytes [start, start + held) of the file; `at` is the next member in it.
			let start = 0;
			let held = 0;
			let at = 0;
			// Set when a member was cut by the window's end.
			let cut = false;
			// Set after damage, while the next member's header is looked for; `skipped` tells whether
			// what was passed over held more than zeros (a torn write's fill after the last member does not).
			let seeking = false;
			let skipped = false;
			for (;;) {
				// Read on when little is left (a member is then cut by the window's end but rarely), or a member was cut.
				if ((cut || held - at < this.window / 4) && start + held < size) {
					cut = false;
					// Move what is left to the front and read on; a member larger than the window grows it.
					if (at === 0 && held === this.packed.length) {
						const larger = Buffer.allocUnsafeSlow(2 * this.packed.length);
						this.packed.copy(larger);
						this.packed = larger;
					}

					this.packed.copy(this.packed, 0, at, held);
					start += at;
					held -= at;
					at = 0;
					const got = await readInto(handle, this.packed, held, start + held);
					held += got;
					if (got === 0) {
						size = start + held; // shorter than it was a moment ago
					}
				}

				const window = this.packed.subarray(0, held);
				if (seeking) {
					const found = window.indexOf(memberHeader, at);
					const upTo = found < 0 ? Math.max(at, held - memberHeader.length + 1) : found;
					skipped ||= !zeros(window, at, upTo);
					at = upTo;
					if (found < 0) {
						if (start + held >= size) {
							counts.damaged ||= skipped;
							return;
						}

						cut = true;
						continue;
					}
				}

				let member;
				try {
					// A header found by looking is taken only when its member reads whole and matches its checksum.
					member = inflateMember(window, at, maxMemberText, checkCrc || seeking, this.inflater);
				} catch (error) {
					if (error instanceof GzipDamage && start + held < size) {
						// Cut by the window's end, not by damage: read on and try it again.
						cut = true;
						continue;
					}

					if (error instanceof LargeMember && !seeking) {
						yield * streamedText(file, start + at, counts);
						return;
					}

					if (!(error instanceof GzipDamage || error instanceof LargeMember)) {
						throw error;
					}

					if (!seeking && error instanceof GzipDamage) {
						// What the damaged member held up to the damage.
						counts.damaged = true;
						yield {text: error.salvaged, own: false};
					}

					skipped = true;
					seeking = true;
					at++;
					continue;
				}

				if (!member) {
					if (at >= held) {
						return; // the end
					}

					// Not a member where one should begin: damage, or a fill after the last member.
					counts.damaged ||= start + at === 0;
					seeking = true;
					skipped = false;
					continue;
				}

				const afterGap = seeking;
				if (seeking) {
					counts.damaged = true;
					seeking = false;
				}

				at = member.next;
				yield {text: member.text, own: !this.inflater, crc: member.crc, afterGap};
			}
		} catch {
			counts.damaged = true;
		} finally {
			await handle.close();
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

/** Members too large to inflate at once (a gzip made by other means), through a gunzip stream from `from` on. */
async function * streamedText(file: string, from: number, counts: TextCounts): AsyncGenerator<Piece> {
	const input = createReadStream(file, {start: from, highWaterMark: sliceBytes});
	const gunzip = zlib.createGunzip({chunkSize: sliceBytes});
	input.on('error', error => gunzip.destroy(error));
	try {
		for await (const text of input.pipe(gunzip) as AsyncIterable<Buffer>) {
			yield {text, own: false}; // pieces of the stream's output buffer
		}
	} catch {
		counts.damaged = true;
	} finally {
		gunzip.destroy();
		input.destroy();
	}
}

/** A sealed segment open for reading. */
type PackedFile = {
	size: number;
	read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
	close(): Promise<void>;
};

async function openPacked(file: string, blocking: boolean): Promise<PackedFile> {
	if (blocking) {
		const fd = openSync(file, 'r');
		try {
			return {size: fstatSync(fd).size, read: async (b, o, l, p) => readSync(fd, b, o, l, p), close: async () => closeSync(fd)};
		} catch (error) {
			closeSync(fd);
			throw error;
		}
	}

	const handle = await fs.open(file, 'r');
	try {
		const {size} = await handle.stat();
		return {size, read: async (b, o, l, p) => (await handle.read(b, o, l, p)).bytesRead, close: async () => handle.close()};
	} catch (error) {
		await handle.close();
		throw error;
	}
}

/** Read into `buffer` from `offset` up to its end (or the file's), from `position` in the file; the bytes read. */
async function readInto(handle: PackedFile, buffer: Buffer, offset: number, position: number): Promise<number> {
	let got = 0;
	while (offset + got < buffer.length) {
		const bytesRead = await handle.read(buffer, offset + got, buffer.length - offset - got, position + got);
		if (bytesRead === 0) {
			break;
		}

		got += bytesRead;
	}

	return got;
}
