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
// scripts need them), variation selectors, and the tag characters of an emoji
// flag sequence (🏴 + tags + cancel tag). TAB is kept here; what writes to a
// terminal expands it (`expandTabs`).

// C0 except TAB, DEL, and C1 (0x80-0x9f, which includes the 8-bit CSI 0x9b).
const control = String.raw`\u0000-\u0008\u000A-\u001F\u007F-\u009F`;
const invisible = String.raw`[[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]--[\u200C\u200D\u034F\u180B-\u180D\u180F\uFE00-\uFE0F\u{E0100}-\u{E01EF}]]`;
const unsafe = new RegExp(`[${control}]|${invisible}`, 'v');
/** An emoji tag sequence (subdivision flags) is kept whole; any other tag character is escaped. */
const unsafeGlobal = new RegExp(String.raw`(\u{1F3F4}[\u{E0020}-\u{E007E}]{1,30}\u{E007F})|[${control}]|${invisible}`, 'gv');
const escapeStart = /[\u001B\u0080-\u009F]/;

function hex(ch: string): string {
	const c = ch.codePointAt(0)!;
	if (c < 0x100) {
		return '\\x' + c.toString(16).padStart(2, '0');
	}

	return c > 0xFFFF ? `\\u{${c.toString(16)}}` : '\\u' + c.toString(16).padStart(4, '0');
}

function escapeMatch(match: string, flag: string | undefined): string {
	return flag ?? hex(match);
}

/** True for a short text with nothing unsafe in it (a loop is cheaper than a regex call there). */
function shortAndClean(text: string): boolean {
	if (text.length > 32) {
		return false;
	}

	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		// Anything outside printable ASCII (and TAB) takes the regex.
		if ((c < 0x20 && c !== 0x09) || c >= 0x7F) {
			return false;
		}
	}

	return true;
}

/** Make one line safe for a terminal. Fast path: most lines need nothing. */
export function sanitize(text: string): string {
	if (shortAndClean(text) || !unsafe.test(text)) {
		return text;
	}

	// Escape sequences start with ESC or a C1 control; without either, strip-ansi has nothing to do.
	const stripped = escapeStart.test(text) ? stripAnsi(text) : text;
	return stripped.replace(unsafeGlobal, escapeMatch);
}

/** True when the text holds nothing a terminal would act on (TAB aside) and no invisible format character. */
export function isSafe(text: string): boolean {
	if (!unsafe.test(text)) {
		return true;
	}

	// Only emoji flag sequences may match: check that escaping changes nothing.
	return text.replace(unsafeGlobal, escapeMatch) === text;
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
