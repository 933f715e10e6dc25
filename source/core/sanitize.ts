import stripAnsi from 'strip-ansi';

// Log text comes from other machines. Nothing from it may drive the terminal:
// escape sequences (CSI, OSC 52 clipboard writes, title sets, DCS) are stripped,
// and any control character left over is shown escaped as \xNN.
//
// Invisible format characters are shown escaped the same way (\u202e, \u{e0041}):
// bidi controls (U+202E turns the rest of a row around and drags the panes
// beside it along), zero-width spaces, soft hyphens, BOMs, line separators,
// tag characters (invisible ASCII), and the other default-ignorable code points
// that terminals and width tables disagree on. Kept: ZWJ and ZWNJ (emoji and
// scripts need them), CGJ, variation selectors, and the tag characters of an
// emoji flag sequence (🏴 + tags + cancel tag). TAB is kept here; what writes
// to a terminal expands it (`expandTabs`).

/**
 * The invisible characters escaped: format characters (Cf), default-ignorable
 * code points and the line and paragraph separators, less ZWNJ, ZWJ, CGJ, the
 * Mongolian free variation selectors and the variation selectors; as of
 * Unicode 17. test/core/sanitize.test.ts checks the list against the Unicode
 * properties of the running Node. Ranges are inclusive and ascending.
 */
export const invisibleRanges: ReadonlyArray<readonly [number, number]> = [
	[0xAD, 0xAD], [0x600, 0x605], [0x61C, 0x61C], [0x6DD, 0x6DD], [0x70F, 0x70F], [0x890, 0x891], [0x8E2, 0x8E2],
	[0x115F, 0x1160], [0x17B4, 0x17B5], [0x180E, 0x180E], [0x200B, 0x200B], [0x200E, 0x200F], [0x2028, 0x202E],
	[0x2060, 0x206F], [0x3164, 0x3164], [0xFEFF, 0xFEFF], [0xFFA0, 0xFFA0], [0xFFF0, 0xFFFB],
	[0x110BD, 0x110BD], [0x110CD, 0x110CD], [0x13430, 0x1343F], [0x1BCA0, 0x1BCA3], [0x1D173, 0x1D17A],
	[0xE0000, 0xE00FF], [0xE01F0, 0xE0FFF],
];

// JSON.stringify escapes C0 but leaves DEL and C1 (0x9b is an 8-bit CSI) as they are, and the
// invisible characters the terminal formats show escaped (bidi overrides like U+202E that reorder
// what a terminal or a browser shows): \u escapes, a surrogate pair as two.
const jsonUnsafe = new RegExp(`[\\u{7F}-\\u{9F}${invisibleRanges.map(([from, to]) => `\\u{${from.toString(16)}}-\\u{${to.toString(16)}}`).join('')}]`, 'gu');

function escapeUnits(text: string): string {
	let out = '';
	for (let i = 0; i < text.length; i++) {
		out += '\\u' + text.charCodeAt(i).toString(16).padStart(4, '0');
	}

	return out;
}

/** JSON text (from JSON.stringify) with DEL, C1 and the invisible characters written as \u escapes: the same value, safe to show. */
export function escapeJsonText(json: string): string {
	return json.replace(jsonUnsafe, escapeUnits);
}

export function isInvisible(codePoint: number): boolean {
	if (codePoint < 0xAD) {
		return false;
	}

	for (const [from, to] of invisibleRanges) {
		if (codePoint < from) {
			return false;
		}

		if (codePoint <= to) {
			return true;
		}
	}

	return false;
}

/** C0 except TAB, DEL, and C1 (0x80-0x9f, which includes the 8-bit CSI 0x9b). */
function isControl(c: number): boolean {
	return (c < 0x20 && c !== 0x09) || (c >= 0x7F && c <= 0x9F);
}

/** Where escaping may be needed: a control, a soft hyphen, or anything from U+0600 up. One scan for most lines. */
const suspect = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F\u00AD\u0600-\uFFFF]/g;
const escapeStart = /[\u001B\u0080-\u009F]/;
/** A run of printable ASCII and TABs from lastIndex (sticky: it never searches further). */
const printable = /[\t\u0020-\u007E]*/y;

function hex(c: number): string {
	if (c < 0x100) {
		return '\\x' + c.toString(16).padStart(2, '0');
	}

	return c > 0xFFFF ? `\\u{${c.toString(16)}}` : '\\u' + c.toString(16).padStart(4, '0');
}

function codePointAt(text: string, i: number): number {
	const c = text.charCodeAt(i);
	if (c >= 0xD800 && c <= 0xDBFF && i + 1 < text.length) {
		const d = text.charCodeAt(i + 1);
		if (d >= 0xDC00 && d <= 0xDFFF) {
			return ((c - 0xD800) * 0x400) + (d - 0xDC00) + 0x10000;
		}
	}

	return c;
}

const blackFlag = 0x1F3F4;
const cancelTag = 0xE007F;

/** Length (UTF-16) of an emoji tag sequence (🏴 + 1-30 tags + cancel tag) at `i`, or 0. */
function flagSequence(text: string, i: number): number {
	if (codePointAt(text, i) !== blackFlag) {
		return 0;
	}

	let k = i + 2;
	let tags = 0;
	for (;;) {
		const c = codePointAt(text, k);
		if (c === cancelTag) {
			return tags > 0 ? k + 2 - i : 0;
		}

		if (c < 0xE0020 || c > 0xE007E || ++tags > 30) {
			return 0;
		}

		k += 2;
	}
}

/** True when something from index `from` on must be escaped. */
function needsEscape(text: string, from: number): boolean {
	for (let i = from; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c < 0x600) {
			if (isControl(c) || c === 0xAD) {
				return true;
			}

			continue;
		}

		const flag = flagSequence(text, i);
		if (flag > 0) {
			i += flag - 1;
			continue;
		}

		const cp = codePointAt(text, i);
		if (isInvisible(cp)) {
			return true;
		}

		if (cp > 0xFFFF) {
			i++;
		}
	}

	return false;
}

function escapeAll(text: string): string {
	let out = '';
	let from = 0;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c >= 0x20 && c < 0x7F) {
			continue;
		}

		const flag = flagSequence(text, i);
		if (flag > 0) {
			i += flag - 1;
			continue;
		}

		const cp = codePointAt(text, i);
		const size = cp > 0xFFFF ? 2 : 1;
		if (isControl(cp) || isInvisible(cp)) {
			out += text.slice(from, i) + hex(cp);
			from = i + size;
		}

		i += size - 1;
	}

	return from === 0 ? text : out + text.slice(from);
}

/** True for a short text with nothing unsafe in it (a loop is cheaper than a regex call there). */
function shortAndClean(text: string): boolean {
	if (text.length > 32) {
		return false;
	}

	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		// Anything outside printable ASCII (and TAB) takes the longer way.
		if ((c < 0x20 && c !== 0x09) || c >= 0x7F) {
			return false;
		}
	}

	return true;
}

/** True when the text holds nothing a terminal would act on (TAB aside) and no invisible character. */
export function isSafe(text: string): boolean {
	// Most log lines are printable ASCII throughout: a sticky run over them costs less than the
	// search for a suspect character, which then starts only where the run stopped.
	printable.lastIndex = 0;
	printable.test(text);
	const from = printable.lastIndex;
	if (from === text.length) {
		return true;
	}

	suspect.lastIndex = from;
	const at = suspect.exec(text)?.index ?? -1;
	return at === -1 || !needsEscape(text, at);
}

/** Make one line safe for a terminal. Fast path: most lines need nothing. */
export function sanitize(text: string): string {
	if (shortAndClean(text) || isSafe(text)) {
		return text;
	}

	// Escape sequences start with ESC or a C1 control; without either, strip-ansi has nothing to do.
	return escapeAll(escapeStart.test(text) ? stripAnsi(text) : text);
}

export const tabWidth = 8;

/**
 * TABs as spaces, to the next multiple of 8 columns counted from `column`
 * (the column the text starts at). For text bound for a terminal: a raw TAB
 * moves the cursor by an amount only the terminal knows. `width` measures
 * the text between tabs (columns, not UTF-16 units).
 */
export function expandTabs(text: string, width: (s: string) => number = s => s.length, column = 0): string {
	let tab = text.indexOf('\t');
	if (tab === -1) {
		return text;
	}

	let out = '';
	let from = 0;
	let col = column;
	while (tab !== -1) {
		const part = text.slice(from, tab);
		out += part;
		col += width(part);
		const n = tabWidth - (col % tabWidth);
		out += ' '.repeat(n);
		col += n;
		from = tab + 1;
		tab = text.indexOf('\t', from);
	}

	return out + text.slice(from);
}
