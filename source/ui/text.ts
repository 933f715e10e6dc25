import {Chalk, type ChalkInstance} from 'chalk';
import stringWidth from 'string-width';
import {sanitize} from '../core/sanitize.js';
import {type UserRegex} from '../core/regex.js';

// Rows are built as styled segments, cut to the pane width in plain text, and
// only then turned into ANSI. Ink never has to wrap or truncate anything.

export type Style = {
	color?: string | undefined;
	bold?: boolean;
	dim?: boolean;
	inverse?: boolean;
	underline?: boolean;
};

export type Segment = {text: string; style?: Style | undefined};

const printableAscii = /^[\u0020-\u007E]*$/;

/** Columns the text takes on a terminal. */
export function width(text: string): number {
	return printableAscii.test(text) ? text.length : stringWidth(text);
}

/** The longest prefix of `text` that fits in `max` columns. */
export function cut(text: string, max: number): string {
	if (max <= 0) {
		return '';
	}

	if (printableAscii.test(text)) {
		return text.length <= max ? text : text.slice(0, max);
	}

	let used = 0;
	let end = 0;
	for (const ch of text) {
		const w = stringWidth(ch);
		if (used + w > max) {
			break;
		}

		used += w;
		end += ch.length;
	}

	return text.slice(0, end);
}

/** Split text into chunks of at most `max` columns (for the wrap mode). */
export function chunks(text: string, max: number): string[] {
	if (max <= 0) {
		return [''];
	}

	const out: string[] = [];
	let rest = text;
	while (width(rest) > max) {
		const head = cut(rest, max);
		if (head.length === 0) {
			break; // a character wider than the pane
		}

		out.push(head);
		rest = rest.slice(head.length);
	}

	out.push(rest);
	return out;
}

/** Pad (or cut) to exactly `columns`. */
export function fit(text: string, columns: number): string {
	const t = cut(text, columns);
	const w = width(t);
	return w < columns ? t + ' '.repeat(columns - w) : t;
}

/** Cut the segments to `max` columns, keeping their styles. */
export function cutSegments(segments: readonly Segment[], max: number): Segment[] {
	const out: Segment[] = [];
	let left = max;
	for (const s of segments) {
		if (left <= 0) {
			break;
		}

		const text = cut(s.text, left);
		if (text.length > 0) {
			out.push({text, style: s.style});
			left -= width(text);
		}
	}

	return out;
}

export function segmentsWidth(segments: readonly Segment[]): number {
	let w = 0;
	for (const s of segments) {
		w += width(s.text);
	}

	return w;
}

/** Split `text` into plain and highlighted segments wherever `pattern` matches. */
export function highlight(text: string, pattern: UserRegex | undefined, base: Style | undefined, hit: Style): Segment[] {
	if (!pattern) {
		return [{text, style: base}];
	}

	const out: Segment[] = [];
	let last = 0;
	// Enough for one row.
	for (const [start, end] of pattern.ranges(text, 100)) {
		if (end === start) {
			continue;
		}

		if (start > last) {
			out.push({text: text.slice(last, start), style: base});
		}

		out.push({text: text.slice(start, end), style: {...base, ...hit}});
		last = end;
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

/** Anything shown that did not come through an event (names from the network, server errors). */
export function safe(text: string | undefined): string {
	return sanitize(text ?? '');
}
