import {type EventInit} from './event.js';
import {eventFromLineOrJournal} from './journald.js';
import {type Origin} from './record.js';
import {screenTexts, screenable} from './redact.js';

// Redaction screened where input is read. Another thread gets the same bytes a line source reads
// (stdin), splits them the same way (core/lines.ts), makes each line's event as the source does and
// asks the redaction rules whether they may change it. The source publishes each one-line event
// with that answer, and the bus's redactor leaves the clear ones as they are (Redactor.redactBatch):
// what comes out is what redacting in one thread gives, and the rule scans run on the other core.
// Unlike screening a batch's texts (core/redact-queue.ts), nothing is copied but the bytes read.

export type LineScreen = {
	/** False while its thread starts (or once it failed): chunks are then read without it. */
	readonly ready: boolean;
	/** Told of lines read without it (it may start on this). */
	offered(lines: number): void;
	/**
	 * Screen a chunk of input: `answer` gets a flag per line the chunk completes, in order (1: the
	 * rules may change it, or it was not seen whole), or undefined when it cannot answer. Answers come
	 * in the order of the chunks.
	 */
	screenChunk(chunk: Buffer, answer: (flags: Uint8Array | undefined) => void): void;
	close(): void;
};

/** Who the screen's events come from: only their texts count, and those depend on the line alone. */
const screenOrigin: Origin = {sourceId: '', sourceKind: 'stdin', service: '', receivedAt: 0};

/** A line's flag, made in the screen's thread: 1 where the rules may change the event the line makes. */
export function lineFlag(line: string, mayChange: (text: string) => boolean): 0 | 1 {
	for (const text of screenTexts([eventFromLineOrJournal(line, screenOrigin)])) {
		if (mayChange(text)) {
			return 1;
		}
	}

	return 0;
}

/** The screen's flags by line index (the multi-line joiner's count), as its answers come. */
export class ScreenedLines {
	/** Some answer came: batches go out with flags. */
	used = false;
	private readonly ranges: Array<{from: number; flags: Uint8Array}> = [];

	/** Flags for the lines from index `from` on. */
	add(from: number, flags: Uint8Array): void {
		this.used = true;
		this.ranges.push({from, flags});
	}

	/** 0 where the screen found the line clear, else 1. The indexes asked for only grow. */
	flag(index: number): number {
		let r = this.ranges[0];
		while (r && index >= r.from + r.flags.length) {
			this.ranges.shift();
			r = this.ranges[0];
		}

		return r === undefined || index < r.from ? 1 : r.flags[index - r.from]!;
	}
}

/** A batch's flags in `screenTexts` order, from one flag per event (for its message and its raw line). */
export function screenFlags(events: readonly EventInit[], perEvent: readonly number[]): Uint8Array {
	let n = 0;
	for (const e of events) {
		if (screenable(e)) {
			n += e.raw === e.message ? 1 : 2;
		}
	}

	const flags = new Uint8Array(n);
	let k = 0;
	for (const [i, e] of events.entries()) {
		if (screenable(e)) {
			const f = perEvent[i]!;
			flags[k++] = f;
			if (e.raw !== e.message) {
				flags[k++] = f;
			}
		}
	}

	return flags;
}
