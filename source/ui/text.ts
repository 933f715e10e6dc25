import {Chalk, type ChalkInstance} from 'chalk';
import stringWidth from 'string-width';
import {expandTabs, sanitize, tabWidth} from '../core/sanitize.js';

// Rows are built as styled segments, cut to the pane width in plain text, and
// only then turned into ANSI. Ink never has to wrap or truncate anything.
//
// Widths are measured per grapheme cluster (Intl.Segmenter) with string-width's
// rule, the one terminals that segment by grapheme use: a ZWJ family or a flag
// is one cluster of 2 columns, a letter with combining marks is one of 1, and a
// cut never splits a cluster. A TAB counts up to the next multiple of 8 columns
// and is drawn as spaces. Cost: printable ASCII takes a per-character fast path
// (no segmenter); other text is segmented in small windows, only as far as the
// cut needs, and the widths of clusters and of short texts are cached.

export type Style = {
	color?: string | undefined;
	bold?: boolean;
	dim?: boolean;
	inverse?: boolean;
	underline?: boolean;
};

export type Segment = {text: string; style?: Style | undefined};

const segmenter = new Intl.Segmenter();

/** Widths of clusters seen (short ones only), bounded. */
const clusterWidths = new Map<string, number>();
const maxClusters = 4096;

function clusterWidth(cluster: string, column: number): number {
	if (cluster === '\t') {
		return tabWidth - (column % tabWidth);
	}

	let w = clusterWidths.get(cluster);
	if (w === undefined) {
		w = stringWidth(cluster);
		if (cluster.length <= 32) {
			if (clusterWidths.size >= maxClusters) {
				clusterWidths.clear();
			}

			clusterWidths.set(cluster, w);
		}
	}

	return w;
}

export type Measure = {
	/** UTF-16 index where the prefix that fits ends (a cluster boundary). */
	end: number;
	/** Columns that prefix takes. */
	width: number;
};

/** Last measure of short non-ASCII texts (rows repeat from frame to frame). */
const measures = new Map<string, {max: number; column: number; result: Measure}>();
const maxMeasures = 2048;
const cachedLength = 2048;

/**
 * The longest prefix of `text`, in whole clusters, that fits in `max` columns
 * when it starts at `column` (which only matters for TAB stops). Reads the
 * text only as far as the cut.
 */
export function measure(text: string, max = Number.POSITIVE_INFINITY, column = 0): Measure {
	const n = text.length;
	let i = 0;
	// Fast path: printable ASCII not followed by a combining character is a cluster of its own.
	for (; i < n; i++) {
		const c = text.charCodeAt(i);
		if (c < 0x20 || c >= 0x7F || (i + 1 < n && text.charCodeAt(i + 1) >= 0x7F)) {
			break;
		}

		if (i + 1 > max) {
			return {end: i, width: i};
		}
	}

	if (i === n) {
		return {end: n, width: n};
	}

	const cacheable = n <= cachedLength;
	if (cacheable) {
		const hit = measures.get(text);
		if (hit && hit.max === max && hit.column === column) {
			return hit.result;
		}
	}

	const result = measureFrom(text, i, max, column, i);
	if (cacheable) {
		if (measures.size >= maxMeasures) {
			measures.clear();
		}

		measures.set(text, {max, column, result});
	}

	return result;
}

// BMP characters that form a cluster on their own when the next character is one too
// (no mark or other extender, joiner, selector, surrogate, control, Hangul jamo or prepend): their widths,
// in a table filled on first use. 0 = not known yet, 1 = not simple, 2 + width otherwise.
const simple = new Uint8Array(0x10000);
const notSimple = /[\p{M}\p{Grapheme_Extend}\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF\u0D4E]/u;

function learn(c: number): number {
	const ch = String.fromCharCode(c);
	const v = (c >= 0x20 && c < 0x7F) ? 3 : (notSimple.test(ch) ? 1 : 2 + stringWidth(ch));
	simple[c] = v;
	return v;
}

/** Width of the code unit at `k` when it is a cluster of its own, else -1. */
function singleWidth(text: string, k: number, n: number): number {
	const c = text.charCodeAt(k);
	if (c >= 0x20 && c < 0x7F) {
		if (k + 1 < n) {
			const d = text.charCodeAt(k + 1);
			if (d >= 0x7F) {
				if ((simple[d] || learn(d)) === 1) {
					return -1;
				}
			}
		}

		return 1;
	}

	const v = simple[c] || learn(c);
	if (v === 1) {
		return -1;
	}

	if (k + 1 < n) {
		const d = text.charCodeAt(k + 1);
		if (d >= 0x7F) {
			if ((simple[d] || learn(d)) === 1) {
				return -1;
			}
		} else if (d < 0x20) {
			return -1;
		}
	}

	return v - 2;
}

/** `measure` from index `start` (a cluster boundary), `startWidth` columns already used. Not cached. */
function measureFrom(text: string, start: number, max: number, column = 0, startWidth = 0): Measure {
	const n = text.length;
	let i = start;
	let w = startWidth;
	let window = 64;
	while (i < n) {
		const sw = singleWidth(text, i, n);
		if (sw >= 0) {
			if (w + sw > max) {
				break;
			}

			w += sw;
			i++;
			continue;
		}

		// Segment a window; its last cluster may go on past the window, so it is only taken at the end of the text.
		const end = Math.min(n, i + window);
		const part = text.slice(i, end);
		let consumed = 0;
		let full = false;
		for (const {segment, index} of segmenter.segment(part)) {
			if (index + segment.length === part.length && end < n) {
				break;
			}

			const cw = clusterWidth(segment, column + w);
			if (w + cw > max) {
				full = true;
				break;
			}

			w += cw;
			consumed = index + segment.length;
			if (i + consumed < n && singleWidth(text, i + consumed, n) >= 0) {
				break; // back to the fast path
			}
		}

		i += consumed;
		if (full) {
			break;
		}

		if (consumed === 0) {
			// One cluster longer than the window (a pile of combining marks): look further.
			window *= 2;
		}
	}

	return {end: i, width: w};
}

/** Columns the text takes on a terminal (TABs from column 0). */
export function width(text: string): number {
	return measure(text).width;
}

/** The longest prefix of `text` that fits in `max` columns. */
export function cut(text: string, max: number): string {
	if (max <= 0) {
		return '';
	}

	const m = measure(text, max);
	return m.end === text.length ? text : text.slice(0, m.end);
}

/** The longest suffix of `text` that fits in `max` columns (whole clusters; no TABs expected). */
export function cutStart(text: string, max: number): string {
	if (max <= 0) {
		return '';
	}

	const from = Math.max(0, text.length - (max * 4) - 64);
	const clusters = [...segmenter.segment(text.slice(from))];
	let w = 0;
	let k = clusters.length;
	while (k > 0) {
		const cw = clusterWidth(clusters[k - 1]!.segment, 0);
		if (w + cw > max) {
			break;
		}

		w += cw;
		k--;
	}

	return k === clusters.length ? '' : text.slice(from + clusters[k]!.index);
}

/** Split text into at most `limit` chunks of at most `max` columns (for the wrap mode), TABs expanded. */
export function chunks(text: string, max: number, limit = Number.POSITIVE_INFINITY): string[] {
	if (max <= 0) {
		return [''];
	}

	const out: string[] = [];
	let from = 0;
	while (out.length < limit) {
		const m = measureFrom(text, from, max);
		if (m.end === from) {
			break; // a cluster wider than the pane
		}

		out.push(expandTabs(text.slice(from, m.end), width));
		from = m.end;
		if (from >= text.length) {
			break;
		}
	}

	return out.length === 0 ? [''] : out;
}

/** Pad (or cut) to exactly `columns`. */
export function fit(text: string, columns: number): string {
	if (columns <= 0) {
		return '';
	}

	const m = measure(text, columns);
	const t = expandTabs(m.end === text.length ? text : text.slice(0, m.end), width);
	return m.width < columns ? t + ' '.repeat(columns - m.width) : t;
}

/** Cut the segments to `max` columns, keeping their styles; TABs are expanded from the row's start. */
export function cutSegments(segments: readonly Segment[], max: number): Segment[] {
	const out: Segment[] = [];
	let used = 0;
	for (const s of segments) {
		if (used >= max) {
			break;
		}

		const m = measure(s.text, max - used, used);
		if (m.end > 0) {
			const head = m.end === s.text.length ? s.text : s.text.slice(0, m.end);
			out.push({text: expandTabs(head, width, used), style: s.style});
			used += m.width;
		}

		if (m.end < s.text.length) {
			break;
		}
	}

	return out;
}

export function segmentsWidth(segments: readonly Segment[]): number {
	let w = 0;
	for (const s of segments) {
		w += measure(s.text, Number.POSITIVE_INFINITY, w).width;
	}

	return w;
}

/**
 * Split `text` into plain and highlighted segments at `ranges` (UTF-16
 * indexes, ascending, not overlapping).
 */
export function highlight(text: string, ranges: ReadonlyArray<readonly [number, number]> | undefined, base: Style | undefined, hit: Style): Segment[] {
	if (!ranges || ranges.length === 0) {
		return [{text, style: base}];
	}

	const out: Segment[] = [];
	let last = 0;
	for (const [start, end] of ranges) {
		if (start < last || end <= start || start >= text.length) {
			continue;
		}

		if (start > last) {
			out.push({text: text.slice(last, start), style: base});
		}

		const stop = Math.min(end, text.length);
		out.push({text: text.slice(start, stop), style: {...base, ...hit}});
		last = stop;
	}

	if (last < text.length) {
		out.push({text: text.slice(last), style: base});
	}

	return out;
}

/** Turns styled segments into one ANSI string; level 0 gives plain text. */
export class Painter {
	private readonly chalk: ChalkInstance;

	constructor(readonly level: 0 | 1 | 2 | 3) {
		this.chalk = new Chalk({level});
	}

	paint(segments: readonly Segment[]): string {
		let out = '';
		for (const s of segments) {
			out += this.style(s.text, s.style);
		}

		return out;
	}

	style(text: string, style: Style | undefined): string {
		if (!style || this.level === 0 || text.length === 0) {
			return text;
		}

		let c: ChalkInstance = this.chalk;
		if (style.color) {
			const named = (c as unknown as Record<string, ChalkInstance | undefined>)[style.color];
			if (named) {
				c = named;
			}
		}

		if (style.bold) {
			c = c.bold;
		}

		if (style.dim) {
			c = c.dim;
		}

		if (style.inverse) {
			c = c.inverse;
		}

		if (style.underline) {
			c = c.underline;
		}

		return c(text);
	}
}

/** Anything shown that did not come through an event (names from the network, server errors): one line, no TABs. */
export function safe(text: string | undefined): string {
	const s = sanitize(text ?? '');
	return s.includes('\t') ? s.replaceAll('\t', ' ') : s;
}
