import {closeSync, openSync, readFileSync, unlinkSync, writeSync} from 'node:fs';

// How many records at the start of a spool segment were all acknowledged, kept in a small file
// beside it (`<segment>.acked`), so a restart after kill -9 sends again only what was not: the
// batches that were in flight, not the whole segment. Acknowledgements can come out of order
// (one batch in flight per partition): the count moves only over a run with no gap in it.
// Without the file (it could not be written, or a crash fell between two writes) a restart
// sends the whole segment again, as at-least-once allows.

export const ackedSuffix = '.acked';

/** The count an earlier run kept for a segment; 0 when there is none or it does not read. */
export function readAcked(segmentFile: string): number {
	try {
		const n = Number.parseInt(readFileSync(segmentFile + ackedSuffix, 'utf8'), 10);
		return Number.isSafeInteger(n) && n > 0 ? n : 0;
	} catch {
		return 0;
	}
}

export class AckMark {
	/** Records 0 … count-1 of the segment are all acknowledged. */
	count: number;
	/** Acknowledged records past a gap. */
	private readonly ahead = new Set<number>();
	private fd: number | undefined;
	private saved: number;
	private failed = false;

	constructor(private readonly segmentFile: string, start = 0) {
		this.count = start;
		this.saved = start;
	}

	/** Record `index` (its place in the segment) was acknowledged. */
	ack(index: number): void {
		if (index < this.count) {
			return;
		}

		if (index !== this.count) {
			this.ahead.add(index);
			return;
		}

		this.count++;
		while (this.ahead.delete(this.count)) {
			this.count++;
		}
	}

	/**
	 * Keep the count on disk when it moved: one write of a fixed width at the start of the file,
	 * to the page cache (a kill -9 keeps it; no fsync, which would cost a disk round trip a batch).
	 */
	save(): void {
		if (this.failed || this.count === this.saved) {
			return;
		}

		try {
			this.fd ??= openSync(this.segmentFile + ackedSuffix, 'w', 0o600);
			writeSync(this.fd, String(this.count).padStart(15, '0') + '\n', 0, 'utf8');
			this.saved = this.count;
		} catch {
			// Not kept: a restart sends the whole segment again.
			this.failed = true;
		}
	}

	close(): void {
		if (this.fd !== undefined) {
			try {
				closeSync(this.fd);
			} catch {
				// Closed already.
			}

			this.fd = undefined;
		}
	}

	/** The segment went: so does its count (after it; a count left without its segment is removed at the next start). */
	remove(): void {
		this.close();
		removeAcked(this.segmentFile + ackedSuffix);
	}
}

export function removeAcked(file: string): void {
	try {
		unlinkSync(file);
	} catch {
		// Gone already, or never written.
	}
}
