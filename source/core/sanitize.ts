import stripAnsi from 'strip-ansi';

// Log text comes from other machines. Nothing from it may drive the terminal:
// escape sequences (CSI, OSC 52 clipboard writes, title sets, DCS) are stripped,
// and any control character left over is shown escaped as \xNN.

// C0 except TAB, DEL, and C1 (0x80-0x9f, which includes the 8-bit CSI 0x9b).
const unsafe = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/;
const unsafeGlobal = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/g;
const escapeStart = /[\u001B\u0080-\u009F]/;

function hex(ch: string): string {
	return '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');
}

/** True for a short text with nothing unsafe in it (a loop is cheaper than a regex call there). */
function shortAndClean(text: string): boolean {
	if (text.length > 32) {
		return false;
	}

	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if ((c < 0x20 && c !== 0x09) || (c >= 0x7F && c <= 0x9F)) {
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
	return (escapeStart.test(text) ? stripAnsi(text) : text).replace(unsafeGlobal, hex);
}

/** True when the text holds nothing a terminal would act on. */
export function isSafe(text: string): boolean {
	return !unsafe.test(text);
}
