import {type LineTest, linePicker} from './line-filter.js';
import {type SegmentReader, type SegmentSource, type TextCounts} from './segment-text.js';

// The lines of a segment that may match a query (line-filter.ts), a chunk at a time: a feed.

export type SegmentFeed = {
	/** The next chunk of lines (whole lines, each ending with a newline); undefined at the end. */
	next(): Promise<Buffer | undefined>;
	/** The segment could not be read to its end: what came before was given. */
	readonly damaged: boolean;
	/** Stop reading it (at its end, or when nothing more is wanted). */
	close(): void;
};

/** A feed read in this thread, a chunk when it is asked for. One feed of a reader at a time. */
export function localFeed(reader: SegmentReader, source: SegmentSource, test: LineTest): SegmentFeed {
	const counts: TextCounts = {damaged: false};
	const texts = reader.text(source, counts);
	const pick = linePicker(test);
	return {
		async next() {
			for (;;) {
				const r = await texts.next();
				if (r.done) {
					return undefined;
				}

				const lines = pick(r.value);
				if (lines.length > 0) {
					return lines;
				}
			}
		},
		get damaged() {
			return counts.damaged;
		},
		close() {
			void texts.return(undefined);
		},
	};
}
