import {LiteralFinder} from './literal-finder.js';

// Which stored lines a query must decode, told from their bytes: a line that cannot match is
// never turned into a string or parsed. Every test here lets through whatever the query's full
// test (the decoded event through its filter) might accept; it only turns lines away. No fs calls.
//
// - `holds`: every match holds one of these byte strings (a --grep literal, the service's field);
//   they are looked for in the whole chunk, not line by line.
// - `since`, `until`, `minRank`: a line's time and level read from its head, as encode-batch.ts
//   writes it (`{"seq":…,"time":…,"recv":…,"level":"…"`); a head that reads otherwise passes.

export type LineTest = {
	holds?: readonly Uint8Array[] | undefined;
	since?: number | undefined;
	until?: number | undefined;
	/** The level's rank (core/event.ts levelRank); 0 for any. */
	minRank?: number | undefined;
};

const timeKey = Buffer.from(',"time":');
const recvKey = Buffer.from(',"recv":');
const levelKey = Buffer.from(',"level":"');
const nullTime = Buffer.from('null');

/** levelRank by a level's initial: TRACE DEBUG INFO NOTICE WARN ERROR CRITICAL. */
const rankByInitial = new Int8Array(256).fill(-1);
for (const [initial, rank] of [['T', 0], ['D', 1], ['I', 2], ['N', 3], ['W', 4], ['E', 5], ['C', 6]] as const) {
	rankByInitial[initial.charCodeAt(0)] = rank;
}

function startsWith(chunk: Uint8Array, at: number, key: Uint8Array): boolean {
	if (at + key.length > chunk.length) {
		return false;
	}

	for (let i = 0; i < key.length; i++) {
		if (chunk[at + i] !== key[i]) {
			return false;
		}
	}

	return true;
}

/** A test of a line's head, or undefined when the query asks nothing of time or level. */
export function headTest(test: LineTest): ((chunk: Uint8Array, start: number) => boolean) | undefined {
	const min = test.minRank ?? 0;
	if (test.since === undefined && test.until === undefined && min <= 0) {
		return undefined;
	}

	const from = test.since ?? Number.NEGATIVE_INFINITY;
	const to = test.until ?? Number.POSITIVE_INFINITY;
	return (chunk, start) => {
		// `{"seq":` and its digits, then `,"time":`.
		let i = start + 7;
		while (i < start + 24 && chunk[i]! >= 48 && chunk[i]! <= 57) {
			i++;
		}

		if (!startsWith(chunk, i, timeKey)) {
			return true;
		}

		i += timeKey.length;
		const digits = i;
		let time = 0;
		for (let c = chunk[i]!; c >= 48 && c <= 57 && i < digits + 16; c = chunk[++i]!) {
			time = (time * 10) + c - 48;
		}

		if (chunk[i] === 0x2C && i > digits && (time < from || time > to)) {
			return false;
		}

		if (min > 0) {
			if (startsWith(chunk, i, nullTime)) {
				i += nullTime.length;
			}

			if (startsWith(chunk, i, recvKey)) {
				i += recvKey.length;
				const recv = i;
				while (i < recv + 16 && chunk[i]! >= 48 && chunk[i]! <= 57) {
					i++;
				}
			}

			if (startsWith(chunk, i, levelKey)) {
				const rank = rankByInitial[chunk[i + levelKey.length]!]!;
				return rank < 0 || rank >= min;
			}
		}

		return true;
	};
}

/** Picks the lines of chunk after chunk for one test (pickLines), its literals' search tuned on the first. */
export function linePicker(test: LineTest): (chunk: Buffer) => Buffer {
	const head = headTest(test);
	const holds = test.holds?.map(h => new LiteralFinder(h));
	return chunk => pick(chunk, holds, head);
}

/**
 * The lines of `chunk` (whole lines, each ending with a newline) that may match, in order, each
 * once: the chunk itself when every line may, else a new buffer (which may be empty).
 */
export function pickLines(chunk: Buffer, test: LineTest, head = headTest(test)): Buffer {
	return pick(chunk, test.holds?.map(h => new LiteralFinder(h)), head);
}

function pick(chunk: Buffer, holds: LiteralFinder[] | undefined, head: ReturnType<typeof headTest>): Buffer {
	if (!holds && !head) {
		return chunk;
	}

	// Start and end (past the newline) of each line kept.
	const ranges: number[] = [];
	if (holds) {
		const starts: number[] = [];
		for (const needle of holds) {
			for (let at = needle.indexOf(chunk); at >= 0;) {
				const start = chunk.lastIndexOf(10, at) + 1;
				const end = chunk.indexOf(10, at);
				if (end < 0) {
					break;
				}

				starts.push(start);
				at = needle.indexOf(chunk, end + 1);
			}
		}

		if (holds.length > 1) {
			starts.sort((a, b) => a - b);
		}

		let last = -1;
		for (const start of starts) {
			if (start !== last && (!head || head(chunk, start))) {
				ranges.push(start, chunk.indexOf(10, start) + 1);
			}

			last = start;
		}
	} else {
		for (let start = 0; start < chunk.length;) {
			const end = chunk.indexOf(10, start) + 1;
			if (end === 0) {
				break;
			}

			if (head!(chunk, start)) {
				if (ranges.length > 0 && ranges.at(-1) === start) {
					ranges[ranges.length - 1] = end; // joins the line before
				} else {
					ranges.push(start, end);
				}
			}

			start = end;
		}

		if (ranges.length === 2 && ranges[0] === 0 && ranges[1] === chunk.length) {
			return chunk;
		}
	}

	let size = 0;
	for (let i = 0; i < ranges.length; i += 2) {
		size += ranges[i + 1]! - ranges[i]!;
	}

	// Not from Buffer's shared pool: the kept lines may be handed to another thread.
	const out = Buffer.from(new ArrayBuffer(size));
	let at = 0;
	for (let i = 0; i < ranges.length; i += 2) {
		at += chunk.copy(out, at, ranges[i], ranges[i + 1]);
	}

	return out;
}
