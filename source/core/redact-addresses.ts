import {type Hits, codeAt, isAlnum, isDigit, isHex, scanWith} from './redact-scan.js';

// The rules that are off by default: e-mail and IP addresses. Each finds its own marks (an @, a
// dotted quad, colons between hex digits) and reads a bounded distance around them.

function isLocalChar(c: number): boolean {
	return isAlnum(c) || c === 0x2E || c === 0x5F || c === 0x25 || c === 0x2B || c === 0x2D;
}

export function scanEmails(text: string, hits: Hits): void {
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

export const scanIpv4 = scanWith(/(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d/g, findIpv4);
export const scanIpv6 = scanWith(/::|[\dA-Fa-f]{1,4}:[\dA-Fa-f]{1,4}:/g, findIpv6);
