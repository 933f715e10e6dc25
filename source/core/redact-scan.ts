// What the redaction rules share: the spans they find, character tests that never read out of
// bounds (V8 leaves its fast code when a read does), and the placeholders they write.

/** Spans to replace, collected over one text: parallel arrays, reused, so finding costs no garbage. */
export class Hits {
	readonly start: number[] = [];
	readonly end: number[] = [];
	readonly rule: number[] = [];
	/** The value stood bare where JSON wants a string: its replacement gets quotes. */
	readonly quote: boolean[] = [];
	length = 0;
	/** The rule being asked, recorded with each span it adds. */
	current = 0;
	/** A private key block began and did not end in this text: the stream's next lines are its body. */
	open = false;

	add(start: number, end: number, quote = false): void {
		const i = this.length++;
		this.start[i] = start;
		this.end[i] = end;
		this.rule[i] = this.current;
		this.quote[i] = quote;
	}

	clear(): void {
		this.length = 0;
		this.open = false;
	}
}

export type Find = (text: string, at: number, hits: Hits) => number;

/** The character code at `i`, or 0 past either end: reading out of bounds costs V8 its fast code. */
export function codeAt(text: string, i: number): number {
	return i >= 0 && i < text.length ? text.charCodeAt(i) : 0;
}

export function isDigit(c: number): boolean {
	return c >= 0x30 && c <= 0x39;
}

export function isAlnum(c: number): boolean {
	return isDigit(c) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A);
}

export function isHex(c: number): boolean {
	return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** An existing placeholder, `[REDACTED:x]` or `[x:0123456789]`: never redacted again. */
export const placeholder = /\[(?:REDACTED:[\w.:-]{1,80}|[\w.-]{1,80}:[\da-f]{10})\]/g;

export function isPlaceholder(value: string): boolean {
	placeholder.lastIndex = 0;
	const m = placeholder.exec(value);
	return m !== null && m.index === 0 && m[0].length === value.length;
}

/** Every match of a trigger regex, handed to `find`. */
export function scanWith(trigger: RegExp, find: Find): (text: string, hits: Hits) => void {
	return (text, hits) => {
		trigger.lastIndex = 0;
		let m: RegExpExecArray | null;
		while ((m = trigger.exec(text)) !== null) {
			trigger.lastIndex = find(text, m.index, hits);
		}
	};
}
