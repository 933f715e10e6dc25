import {type Hits, codeAt, isAlnum, isDigit} from './redact-scan.js';

// Payment card numbers: found around the digits every card shape holds (scanCards), read group by
// group as cards are printed, and kept only when a card network could have issued them and Luhn agrees.

function luhn(number: string): boolean {
	let sum = 0;
	let double = false;
	for (let i = number.length - 1; i >= 0; i--) {
		let d = number.charCodeAt(i) - 0x30;
		if (double) {
			d *= 2;
			if (d > 9) {
				d -= 9;
			}
		}

		sum += d;
		double = !double;
	}

	return sum % 10 === 0;
}

/** Could a card network have issued this number (its first digits and its length)? */
export function cardNetwork(n: string): boolean {
	const len = n.length;
	const two = Number(n.slice(0, 2));
	switch (n[0]) {
		case '4': { // Visa
			return len === 13 || len === 16 || len === 19;
		}

		case '5': { // Mastercard 51-55; Maestro 50, 56-59
			return two >= 51 && two <= 55 ? len === 16 : len >= 13;
		}

		case '2': { // Mastercard 2221-2720
			const four = Number(n.slice(0, 4));
			return four >= 2221 && four <= 2720 && len === 16;
		}

		case '3': { // Amex 34 37; JCB 35; Diners 30 36 38 39
			if (two === 34 || two === 37) {
				return len === 15;
			}

			return two === 35 ? len >= 16 : (two === 30 || two === 36 || two === 38 || two === 39) && len >= 14;
		}

		case '6': { // Discover, UnionPay, Maestro, RuPay
			return len >= 13;
		}

		default: {
			return false;
		}
	}
}

// Groups of the current run of digits, reused between calls: [start, end) pairs and the separator
// after each (0 after the last).
const groupStart: number[] = Array.from({length: 64}, () => 0);
const groupEnd: number[] = Array.from({length: 64}, () => 0);
const groupSep: number[] = Array.from({length: 64}, () => 0);
let groups = 0;

function size(group: number): number {
	return groupEnd[group]! - groupStart[group]!;
}

/** Groups a..b form a card number as cards are written: 13-19 digits, or 4-4-4-4(-3), 4-6-5, 4-6-4. */
function cardShape(a: number, b: number): boolean {
	if (a === b) {
		// Unbroken, only the usual lengths: 17-19 unbroken digits are far more often 64-bit ids.
		const len = groupEnd[a]! - groupStart[a]!;
		return len >= 13 && len <= 16;
	}

	const sep = groupSep[a]!;
	for (let g = a; g < b; g++) {
		if (groupSep[g] !== sep) {
			return false;
		}
	}

	// The run of groups joined by this separator must be exactly the card.
	if ((a > 0 && groupSep[a - 1] === sep) || groupSep[b] === sep) {
		return false;
	}

	if (size(a) !== 4) {
		return false;
	}

	if (b - a === 2 && size(a + 1) === 6 && (size(b) === 4 || size(b) === 5)) {
		return true;
	}

	for (let g = a + 1; g < b; g++) {
		if (size(g) !== 4) {
			return false;
		}
	}

	const last = size(b);
	const total = ((b - a) * 4) + last;
	return last >= 1 && last <= 4 && total >= 13 && total <= 19;
}

function cardDigits(text: string, a: number, b: number): string {
	let out = '';
	for (let g = a; g <= b; g++) {
		out += text.slice(groupStart[g], groupEnd[g]);
	}

	return out;
}

/** At a run of digits: every card number in it; this rule looks again past the run. */
function findCard(text: string, at: number, hits: Hits): number {
	const n = text.length;
	groups = 0;
	let j = at;
	for (;;) {
		const s = j;
		while (j < n && isDigit(text.charCodeAt(j))) {
			j++;
		}

		groupStart[groups] = s;
		groupEnd[groups] = j;
		const c = codeAt(text, j);
		if ((c === 0x20 || c === 0x2D) && isDigit(codeAt(text, j + 1))) {
			groupSep[groups++] = c;
			j++;
			continue;
		}

		groupSep[groups++] = 0;
		break;
	}

	// A number glued to a word, an underscore or a decimal point is an identifier or a fraction,
	// and one after a sign (`+4…`, `_-4…`, ` -4…`) is a number: the group it touches is not part of a card.
	const before = codeAt(text, at - 1);
	const sign = before === 0x2B || (before === 0x2D && !isAlnum(codeAt(text, at - 2)));
	const firstUsable = isAlnum(before) || before === 0x2E || before === 0x5F || sign ? 1 : 0;
	const after = j < n ? text.charCodeAt(j) : 0x20;
	const lastUsable = isAlnum(after) || after === 0x5F || (after === 0x2E && isDigit(codeAt(text, j + 1))) ? groups - 2 : groups - 1;
	for (let a = firstUsable; a <= lastUsable; a++) {
		let best = -1;
		// At most 19 digits in at most 5 groups: a bounded look from each group.
		for (let b = a; b <= lastUsable && b - a < 5; b++) {
			if (cardShape(a, b)) {
				const number = cardDigits(text, a, b);
				if (cardNetwork(number) && luhn(number)) {
					best = b;
				}
			}
		}

		if (best >= 0) {
			hits.add(groupStart[a]!, groupEnd[best]!);
			a = best;
		}
	}

	return Math.max(j, at + 1);
}

function isCardChar(c: number): boolean {
	return (c >= 0x30 && c <= 0x39) || c === 0x20 || c === 0x2D;
}

/**
 * What every card holds from its first digit on (cardShape, cardNetwork): a network's first digit (2-6)
 * starting an unbroken group of 13-16 digits, or groups of exactly 4, 4, 4 and at least one more
 * digit, or of 4, 6 and 4, with spaces or dashes between. Most log
 * lines, full of dates, times and long ids, have none of it, and V8's engine tells that fast when
 * each digit is written out (a counted `\d{13}` runs several times slower).
 */
export const cardMarkSource = String.raw`(?<!\d)[2-6]\d\d\d(?:\d\d\d\d\d\d\d\d\d(?:\d(?:\d\d?)?)?(?!\d)|[ -]\d\d\d\d(?:[ -]\d\d\d\d[ -]\d|\d\d[ -]\d\d\d\d))`;
const cardMark = new RegExp(cardMarkSource, 'g');

/**
 * Every card number in the text. Only around a mark (cardMark) can one be: the run of digits,
 * spaces and dashes holding the mark is read group by group (findCard), once.
 */
export function scanCards(text: string, hits: Hits): void {
	const n = text.length;
	cardMark.lastIndex = 0;
	// `test` moves lastIndex past the mark without making a match array; the run holds its last digit.
	while (cardMark.test(text)) {
		let a = cardMark.lastIndex - 1;
		while (a > 0 && isCardChar(text.charCodeAt(a - 1))) {
			a--;
		}

		// One pass over the run: a card needs 13 digits, and an unbroken group of 13-16 or a
		// group of exactly 4 before a separator.
		let b = a;
		let digits = 0;
		let group = 0;
		let shaped = false;
		for (; b < n; b++) {
			const c = text.charCodeAt(b);
			if (c >= 0x30 && c <= 0x39) {
				digits++;
				group++;
			} else if (c === 0x20 || c === 0x2D) {
				shaped ||= group === 4 || (group >= 13 && group <= 16);
				group = 0;
			} else {
				break;
			}
		}

		shaped ||= group >= 13 && group <= 16;
		if (digits >= 13 && shaped) {
			for (let j = a; j < b;) {
				if (isDigit(text.charCodeAt(j))) {
					j = findCard(text, j, hits);
				} else {
					j++;
				}
			}
		}

		cardMark.lastIndex = b;
	}
}
