// The built-in redaction rules: what each finds, and why it cannot take more than linear time.
//
// Every rule is found in two steps. One combined trigger regex (core/redact.ts) scans a text once
// for the short, fixed-length marks a secret starts with (`AKIA`, `eyJ`, `ghp_`, `://`, thirteen
// characters of digits and separators...); only at those positions does a rule look further, with a
// sticky regex or a few lines of code. Plain lines cost one scan, whatever the number of rules.
//
// Linear time, rule by rule: a trigger has a bounded length. A sticky regex either has bounded
// quantifiers only, or one unbounded run of a class that the literal after it is not in (nothing to
// backtrack into but that run); where such a run could hold another trigger of the same rule, a
// lookbehind refuses to start inside the run. Code matchers scan forward over a region that the next
// trigger of the same rule cannot start inside, or a bounded distance, and say where the scan may
// resume (`next`). So each character is looked at a bounded number of times.

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

export type BuiltinRule = {
	readonly name: string;
	readonly onByDefault: boolean;
	/** What it catches, for the README and `--help`. */
	readonly what: string;
	/** Keys of a JSON record whose whole value this rule replaces (lower case, without _ - .). */
	readonly keys?: (key: string) => boolean;
} & ({
	/** Regex source of the marks it starts from: bounded length, no captures. */
	readonly trigger: string;
	/** The characters a trigger match starts with: which rules to ask at a position. */
	readonly first: string;
	/**
	 * At a trigger match starting at `at`: add what it finds to `hits`, and return where this rule
	 * may look again (at least at + 1; past a span it added, or past what it read).
	 */
	find(text: string, at: number, hits: Hits): number;
} | {
	/** A rule that finds its own marks (digits, @): adds every span in the text to `hits`. */
	scan(text: string, hits: Hits): void;
});

type Find = (text: string, at: number, hits: Hits) => number;


/** The character code at `i`, or 0 past either end: reading out of bounds costs V8 its fast code. */
function codeAt(text: string, i: number): number {
	return i >= 0 && i < text.length ? text.charCodeAt(i) : 0;
}

function isDigit(c: number): boolean {
	return c >= 0x30 && c <= 0x39;
}

function isAlnum(c: number): boolean {
	return isDigit(c) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A);
}

function isHex(c: number): boolean {
	return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** A rule whose whole match, or its last capture (which must end the match), is the secret. */
function sticky(source: string, flags = ''): Find {
	const re = new RegExp(source, flags + 'y');
	return (text, at, hits) => {
		re.lastIndex = at;
		const m = re.exec(text);
		const value = m ? (m.length > 1 ? m.at(-1) ?? '' : m[0]) : '';
		if (!m || value.length === 0) {
			return at + 1;
		}

		const end = m.index + m[0].length;
		hits.add(end - value.length, end);
		return end;
	};
}

/** An existing placeholder, `[REDACTED:x]` or `[x:0123456789]`: never redacted again. */
export const placeholder = /\[(?:REDACTED:[\w.:-]{1,80}|[\w.-]{1,80}:[\da-f]{10})\]/g;

export function isPlaceholder(value: string): boolean {
	placeholder.lastIndex = 0;
	const m = placeholder.exec(value);
	return m !== null && m.index === 0 && m[0].length === value.length;
}

// key = value, "key": value, 'key': value. The value is a quoted string (which always ends: at
// its closing quote or where the text does, so a key inside it cannot start a second scan of the
// same text) or a bare word; up to 1,024 characters.
const valueTail = String.raw`(?:(["'])[ \t]{0,16}[:=]|[ \t]{0,16}=)[ \t]{0,16}(?:"((?:[^"\\\n]|\\.){0,1024})"?|'([^'\n]{0,1024})'?|([^\s"',;&}\]]{1,1024}))`;

function keyValue(key: string): Find {
	// Most marks are words like "Failed password for": a cheap look for the separator first.
	const separator = new RegExp(key + String.raw`(?:["']?[ \t]{0,16}=|["'][ \t]{0,16}:)`, 'iy');
	const re = new RegExp(key + valueTail, 'iyd');
	return (text, at, hits) => {
		separator.lastIndex = at;
		if (!separator.test(text)) {
			return at + 1;
		}

		re.lastIndex = at;
		const m = re.exec(text);
		if (!m?.indices) {
			return at + 1;
		}

		const group = m[2] === undefined ? (m[3] === undefined ? 4 : 3) : 2;
		const value = m[group] ?? '';
		const [start, end] = m.indices[group] ?? [0, 0];
		if (value.length === 0 || (group === 4 && /^(?:null|true|false)$/.test(value)) || isPlaceholder(value)) {
			return at + 1;
		}

		// A bare value after a quoted key is JSON's number: the replacement keeps the JSON a JSON.
		hits.add(start, end, group === 4 && m[1] !== undefined);
		return m.index + m[0].length;
	};
}

function normalKey(key: string): string {
	return key.toLowerCase().replaceAll(/[-_.]/g, '');
}

// --- payment cards: Luhn, the card networks' prefixes and lengths, the usual groupings ---

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
 * Can a run of 13 card characters pass through `i`? Any such run holds i-8 and i-4, or i-4 and
 * i+4, or i+4 and i+8: a few looks instead of walking every short run of spaces and digits.
 */
function longRun(text: string, i: number): boolean {
	const before = isCardChar(codeAt(text, i - 4));
	const after = isCardChar(codeAt(text, i + 4));
	return (before && (after || isCardChar(codeAt(text, i - 8)))) || (after && isCardChar(codeAt(text, i + 8)));
}

/**
 * Every card number in the text. A card is a run of at least 13 digits and single spaces or dashes
 * between them, so probing every 13th character lands in each; a probe on anything else skips 13
 * at once. A run of such characters that long is read group by group (findCard), once.
 */
function scanCards(text: string, hits: Hits): void {
	const n = text.length;
	let i = 12;
	while (i < n) {
		// Inside a card every character is a digit or a separator between two digits.
		const c = text.charCodeAt(i);
		if (!(isDigit(c) || ((c === 0x20 || c === 0x2D) && isDigit(codeAt(text, i - 1)) && isDigit(codeAt(text, i + 1)))) || !longRun(text, i)) {
			i += 13;
			continue;
		}

		let a = i;
		while (a > 0 && isCardChar(text.charCodeAt(a - 1))) {
			a--;
		}

		// One pass over the run: a card needs 13 digits, and an unbroken group of 13-16 or a
		// group of exactly 4 before a separator. Dates, times and long ids have neither.
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

		i = b + 13;
	}
}

/** Every match of a trigger regex, handed to `find`. */
function scanWith(trigger: RegExp, find: Find): (text: string, hits: Hits) => void {
	return (text, hits) => {
		trigger.lastIndex = 0;
		let m: RegExpExecArray | null;
		while ((m = trigger.exec(text)) !== null) {
			trigger.lastIndex = find(text, m.index, hits);
		}
	};
}

// --- private key blocks ---

const keyBegin = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;
const keyEnd = /-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;

/** The end of the first END line of a private key at or after `from`, or -1. */
export function privateKeyEnd(text: string, from: number): number {
	let k = text.indexOf('-----END', from);
	while (k !== -1) {
		keyEnd.lastIndex = k;
		if (keyEnd.exec(text)) {
			return keyEnd.lastIndex;
		}

		k = text.indexOf('-----END', k + 1);
	}

	return -1;
}

function findPrivateKey(text: string, at: number, hits: Hits): number {
	keyBegin.lastIndex = at;
	if (!keyBegin.exec(text)) {
		return at + 1;
	}

	const end = privateKeyEnd(text, keyBegin.lastIndex);
	if (end === -1) {
		hits.open = true;
	}

	hits.add(at, end === -1 ? text.length : end);
	return end === -1 ? text.length : end;
}

/** A line inside a PEM block: base64, a header such as Proc-Type, or blank. */
export function privateKeyBody(line: string): boolean {
	return line.length <= 200 && /^\s*(?:[A-Za-z0-9+/=]*|[A-Za-z-]{1,40}: .{0,120})\s*$/.test(line);
}

// --- passwords in URLs: scheme://user:password@host ---

function findUrlPassword(text: string, at: number, hits: Hits): number {
	// The authority ends at the path, query, fragment, a quote or a space. That end is before the
	// next `://`, so no two authorities overlap.
	const from = at + 3;
	let end = from;
	let lastAt = -1;
	for (; end < text.length; end++) {
		const c = text.charCodeAt(end);
		if (c <= 0x20 || c === 0x2F || c === 0x3F || c === 0x23 || c === 0x22 || c === 0x27 || c === 0x3C || c === 0x3E || c === 0x5C || c === 0x60) {
			break;
		}

		if (c === 0x40) {
			lastAt = end; // the last @ ends the user info: a password may hold an unescaped @
		}
	}

	const colon = lastAt === -1 ? -1 : text.indexOf(':', from);
	if (at > 0 && isAlnum(text.charCodeAt(at - 1)) && colon !== -1 && colon < lastAt - 1 && !isPlaceholder(text.slice(colon + 1, lastAt))) {
		hits.add(colon + 1, lastAt);
	}

	return Math.max(end, at + 1);
}

// --- off by default: e-mail and IP addresses ---

function isLocalChar(c: number): boolean {
	return isAlnum(c) || c === 0x2E || c === 0x5F || c === 0x25 || c === 0x2B || c === 0x2D;
}

function scanEmails(text: string, hits: Hits): void {
	let at = text.indexOf('@');
	while (at !== -1) {
		at = text.indexOf('@', findEmail(text, at, hits));
	}
}

function findEmail(text: string, at: number, hits: Hits): number {
	// The local part: at most 64 characters back.
	let start = at;
	while (start > 0 && at - start < 64 && isLocalChar(text.charCodeAt(start - 1))) {
		start--;
	}

	while (start < at && text.charCodeAt(start) === 0x2E) {
		start++;
	}

	let end = at + 1;
	while (end < text.length && end - at <= 253 && (isAlnum(text.charCodeAt(end)) || text.charCodeAt(end) === 0x2E || text.charCodeAt(end) === 0x2D)) {
		end++;
	}

	const next = end;
	while (end > at + 1 && (text.charCodeAt(end - 1) === 0x2E || text.charCodeAt(end - 1) === 0x2D)) {
		end--;
	}

	const domain = text.slice(at + 1, end);
	const dot = domain.lastIndexOf('.');
	if (start < at && isAlnum(codeAt(text, at + 1)) && dot > 0 && !domain.includes('..') && /^[A-Za-z]{2,63}$/.test(domain.slice(dot + 1))) {
		hits.add(start, end);
	}

	return next;
}

function octet(text: string, from: number, to: number): boolean {
	return to > from && to - from <= 3 && Number(text.slice(from, to)) <= 255;
}

function findIpv4(text: string, at: number, hits: Hits): number {
	let j = at;
	let dots = 0;
	let partStart = at;
	let ok = true;
	while (j < text.length) {
		const c = text.charCodeAt(j);
		if (isDigit(c)) {
			j++;
		} else if (c === 0x2E && isDigit(codeAt(text, j + 1))) {
			ok &&= octet(text, partStart, j);
			dots++;
			j++;
			partStart = j;
		} else {
			break;
		}
	}

	ok &&= dots === 3 && octet(text, partStart, j);
	const before = at > 0 ? text.charCodeAt(at - 1) : 0x20;
	const after = j < text.length ? text.charCodeAt(j) : 0x20;
	if (ok && !isAlnum(before) && before !== 0x2E && !isAlnum(after) && after !== 0x5F) {
		hits.add(at, j);
	}

	return Math.max(j, at + 1);
}

/** Is this an IPv6 address (with or without ::, with or without a dotted IPv4 tail)? */
export function isIpv6(address: string): boolean {
	if (!/\d/.test(address)) {
		return false; // `Foo::bar` and `::` are code, not addresses
	}

	const halves = address.split('::');
	if (halves.length > 2) {
		return false;
	}

	let groups = 0;
	for (const [h, half] of halves.entries()) {
		if (half === '') {
			continue;
		}

		const parts = half.split(':');
		for (const [p, part] of parts.entries()) {
			if (h === halves.length - 1 && p === parts.length - 1 && part.includes('.')) {
				const o = part.split('.');
				if (o.length !== 4 || !o.every(x => /^\d{1,3}$/.test(x) && Number(x) <= 255)) {
					return false;
				}

				groups += 2;
			} else if (/^[\da-fA-F]{1,4}$/.test(part)) {
				groups++;
			} else {
				return false;
			}
		}
	}

	return halves.length === 2 ? groups <= 7 : groups === 8;
}

function isIpv6Char(c: number): boolean {
	return isHex(c) || c === 0x3A;
}

function findIpv6(text: string, at: number, hits: Hits): number {
	// The trigger may start inside the address (`fe80::1` triggers at `::`): look back a little.
	let start = at;
	while (start > 0 && at - start < 40 && isIpv6Char(text.charCodeAt(start - 1))) {
		start--;
	}

	let end = at;
	while (end < text.length && (isIpv6Char(text.charCodeAt(end)) || (text.charCodeAt(end) === 0x2E && isDigit(codeAt(text, end + 1))))) {
		end++;
	}

	const before = start > 0 ? text.charCodeAt(start - 1) : 0x20;
	const after = end < text.length ? text.charCodeAt(end) : 0x20;
	if (end - start <= 45 && !isAlnum(before) && before !== 0x2E && before !== 0x5F && !isAlnum(after) && after !== 0x5F && isIpv6(text.slice(start, end))) {
		hits.add(start, end);
	}

	return Math.max(end, at + 1);
}

// --- the rules, in the order they are tried at one position ---

const secretKeys = (key: string) => /secret(?:access)?key$/.test(key);
const passwordKeys = (key: string) => /(?:password|passwd|passphrase)$|^(?:pass|pwd)$/.test(key);

export const builtinRules: readonly BuiltinRule[] = [
	{
		name: 'aws-key',
		onByDefault: true,
		what: 'AWS access key ids (AKIA…, ASIA…)',
		trigger: 'A(?:KIA|SIA|BIA|CCA|3T)',
		first: 'A',
		find: sticky('(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])'),
	},
	{
		name: 'aws-secret',
		onByDefault: true,
		what: 'AWS secret access keys after aws_secret_access_key= or "SecretAccessKey":',
		trigger: '[Ss](?:ecret|ECRET)',
		first: 'Ss',
		keys: secretKeys,
		find: sticky(String.raw`secret[_-]?(?:access[_-]?)?key["']?[ \t]{0,16}[:=][ \t]{0,16}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])`, 'i'),
	},
	{
		name: 'authorization',
		onByDefault: true,
		what: 'Authorization header values (the scheme is kept)',
		trigger: '[Aa](?:uthoriz|UTHORIZ)',
		first: 'Aa',
		keys: key => key.endsWith('authorization'),
		find: sticky(String.raw`authorization["']?[ \t]{0,16}[:=][ \t]{0,16}["']?(?:[A-Za-z][\w-]{0,30}[ \t]+)?([^\s"',;]{1,4096})`, 'i'),
	},
	{
		name: 'bearer',
		onByDefault: true,
		what: 'bearer tokens (Bearer <token>)',
		trigger: '[Bb](?:earer|EARER)',
		first: 'Bb',
		find(text, at, hits) {
			bearer.lastIndex = at;
			const m = bearer.exec(text);
			const token = m?.[1];
			// "bearer credentials" is prose; tokens have digits or punctuation.
			if (!m || !token || !/[\d._~+/-]/.test(token)) {
				return at + 1;
			}

			const end = m.index + m[0].length;
			hits.add(end - token.length, end);
			return end;
		},
	},
	{
		name: 'jwt',
		onByDefault: true,
		what: 'JSON Web Tokens (eyJ….eyJ….…)',
		trigger: 'eyJ',
		first: 'e',
		find: sticky(String.raw`(?<![\w-])eyJ[\w-]{4,}\.ey[\w-]{4,}\.[\w-]*`),
	},
	{
		name: 'github-token',
		onByDefault: true,
		what: 'GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)',
		trigger: 'g(?:h[pousr]_|ithub_pat_)',
		first: 'g',
		find: sticky(String.raw`gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255}`),
	},
	{
		name: 'gitlab-token',
		onByDefault: true,
		what: 'GitLab tokens (glpat-, gldt-, glrt-, glptt-, glft-, glimt-, glcbt-, glsoat-, glagent-, gloas-)',
		trigger: 'gl(?:pat|dt|rt|ptt|ft|imt|cbt|soat|agent|oas)-',
		first: 'g',
		find: sticky(String.raw`gl(?:pat|dt|rt|ptt|ft|imt|cbt|soat|agent|oas)-[\w-]{20,255}`),
	},
	{
		name: 'slack-token',
		onByDefault: true,
		what: 'Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xoxs-, xoxo-, xapp-) and webhook URLs',
		trigger: String.raw`xox[abeoprs]-|xapp-|hooks\.slack\.com\/`,
		first: 'xh',
		find: sticky(String.raw`xox[abeoprs]-[A-Za-z0-9-]{10,255}|xapp-\d-[A-Za-z0-9-]{10,255}|hooks\.slack\.com\/(?:services|workflows|triggers)\/[\w/+-]{16,255}`),
	},
	{
		name: 'private-key',
		onByDefault: true,
		what: 'private key blocks (-----BEGIN … PRIVATE KEY----- to -----END … PRIVATE KEY-----, also over several lines)',
		trigger: '-----BEGIN',
		first: '-',
		find: findPrivateKey,
	},
	{
		name: 'url-password',
		onByDefault: true,
		what: 'passwords in URLs (scheme://user:password@host)',
		trigger: ':\\/\\/',
		first: ':',
		find: findUrlPassword,
	},
	{
		name: 'password',
		onByDefault: true,
		what: 'password=…, "password": "…" (also passwd, passphrase, pass, pwd)',
		trigger: '[Pp](?:ass|wd|ASS|WD)',
		first: 'Pp',
		keys: passwordKeys,
		find: keyValue('(?:password|passwd|passphrase|(?<![a-z0-9])pass|(?<![a-z0-9])pwd)'),
	},
	{
		name: 'card',
		onByDefault: true,
		what: 'payment card numbers: 13-16 digits, or 13-19 in groups as printed on cards, of a card network, passing the Luhn check',
		scan: scanCards,
	},
	{
		name: 'email',
		onByDefault: false,
		what: 'e-mail addresses',
		scan: scanEmails,
	},
	{
		name: 'ipv4',
		onByDefault: false,
		what: 'IPv4 addresses',
		scan: scanWith(/(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d/g, findIpv4),
	},
	{
		name: 'ipv6',
		onByDefault: false,
		what: 'IPv6 addresses',
		scan: scanWith(/::|[\dA-Fa-f]{1,4}:[\dA-Fa-f]{1,4}:/g, findIpv6),
	},
];

const bearer = /(?<![A-Za-z0-9])bearer[ \t]+([\w.~+/-]{8,4096}=*)/iy;

/** Names a user may write for groups of rules. */
export const ruleAliases: Readonly<Record<string, readonly string[]>> = {
	ip: ['ipv4', 'ipv6'],
	default: builtinRules.filter(r => r.onByDefault).map(r => r.name),
};

/** The built-in rule that owns a record key, by its normal form; undefined for most keys. */
export function keyRule(key: string, enabled: ReadonlySet<string>): string | undefined {
	const k = normalKey(key);
	for (const r of builtinRules) {
		if (r.keys && enabled.has(r.name) && r.keys(k)) {
			return r.name;
		}
	}

	return undefined;
}
