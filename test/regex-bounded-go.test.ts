import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {boundedRegex} from '../source/core/regex-bounded.js';
import {gateSource} from '../source/core/regex-gate-source.js';
import {compileUserRegex} from '../source/core/regex.js';
import {tenRules} from '../bench/cases/redact.js';
import {goMatches, goRanges, hasGo} from './support/go-regexp.js';
import {corpus} from './support/logmon.js';

// The patterns core/regex-bounded.ts writes for V8 find what Go's regexp finds: the same matches
// (FindAllStringSubmatchIndex: leftmost-first, empty matches next to a match left out) and the same
// group 1, the part a redaction rule replaces, on the loghub lines and on lines made to catch the
// places where the engines differ (the Kelvin sign and the long s under (?i), \r and \u2028 for `.`,
// non-ASCII next to \b, astral characters).

const patterns = [
	// The bench's ten user rules (two of them stay on re2js).
	...tenRules.map(r => r.slice(r.indexOf('=') + 1)),
	// (?i) with k and s, in literals and classes.
	'(?i)k', '(?i)s', '(?i)key', '(?i)[a-z]{3}', '(?i)[k-s]', '(?i)[^0-9]', String.raw`(?i)\w{2}`, String.raw`(?i)\bkey\b`, '(?i)SESSION=', '(?i)x[A-Z0-9]',
	// \s, ., negated classes and escapes.
	String.raw`\s`, String.raw`\S`, String.raw`\s\S\s`, '.', 'a.c', '.{3}', '[^a-z]', String.raw`[^\n]{2}`, String.raw`\D\W`, String.raw`x\r?`,
	// \b and \B next to non-ASCII, ^ and $.
	String.raw`\b\w\w`, String.raw`\B\d`, String.raw`\d{3}\b`, String.raw`^\w{3}`, String.raw`\d$`, String.raw`^$`,
	// Classes: a leading ], a trailing -, escapes, ranges.
	'[]a]', '[a-]', String.raw`[\]\-]`, String.raw`[\t ]x`, String.raw`\-\_\ \#`, String.raw`[+\-.]\d`,
	// Alternations, nested bounded groups, captures, lazy counts, empty matches.
	'ERROR|WARN', 'a|', '(?:foo|foobar)(?:baz)?', String.raw`((?:[0-9]{1,3}\.){3}[0-9]{1,3})`, String.raw`(\d{2})-(\d{2})`,
	String.raw`(?P<n>\d{3})`, String.raw`\d{2,4}?`, 'a??b', 'a?', String.raw`\b`, '(a|ab)(c|bcd)', String.raw`(?:(\d)|x)?y`,
	// Tail-unbounded: a bounded start and one run at the end.
	String.raw`id=(\d+)`, String.raw`(?i)user[=:]([a-z]{2,})`, '[0-9a-f]{4,}', String.raw`(\S+)`,
	// Past the limit or not translated: must stay on re2js and still agree.
	'(?:a|b|c|d|e|f|g|h|i|j){4}x?', String.raw`\d+\b`, 'é+', '(?i)é',
];

const special = [
	'', 'a', 'k', 'K', 's', 'S', '\u212A', '\u017F', 'key \u212Aey KEY', 'ses\u017Fion=abc \u017FESSION=', 'x\u212A X\u017F',
	'a\rc a\u2028c a\u2029c a\nc abc', 'line\r', '\r\n', 'tab\tspace \f form', '\u2028\u2028\u2028', 'é123 123é 4é5', 'café ab',
	'😀abc😀 123😀', 'a😀c', '😀😀😀', 'ERROR WARN foobarbaz foobaz', '10.0.0.1 and 192.168.100.200', '12-34 56-78', 'baab', 'xy 1y y',
	'tok_abcdefghijklmnopqrstuvwx', 'sk_live_ABCDEFGHIJKLMNOPQRSTUVWX1', 'CUSTOMER_ID=42 customer_id=7', 'session_id=abcdefghijklmnop1234',
	'\u017Fession=abcdefghijklmnop\u212Ak', 'passport_no=AB12345 PASSPORT=x\u212A\u017F1234', 'SSN 123-45-6789 and 123-45-67890',
	'iban DE89370400440532013000 GB82WEST12345698765432', 'call +44 7911123456 or +1-5551234567', 'id=123 id= id=x',
	'user=ab USER:\u212A\u017F', 'deadbeef 0123 fffff', '[]a- ]- x -1 +2 .3', '\u00E9\u00E9 éé', '\\-_ #',
];

function corpusLines(): string[] {
	const lines: string[] = [];
	for (const file of readdirSync(corpus).filter(f => f.endsWith('.log')).sort()) {
		lines.push(...readFileSync(path.join(corpus, file), 'utf8').split('\n').slice(0, 200));
	}

	return lines;
}

describe('bounded patterns on V8 against Go regexp', () => {
	test('Go is on this machine (it builds the reference)', () => {
		expect(hasGo(), 'install Go: the RE2 reference is built with it').toBe(true);
	});

	test('most of the list is translated, and the refused ones are the expected few', () => {
		const refused = patterns.filter(p => boundedRegex(p) === undefined);
		expect(refused).toEqual([
			String.raw`(?i)api[_-]?key["']?\s*[:=]\s*["']?([A-Za-z0-9]{20,})`,
			String.raw`[a-z0-9-]+\.corp\.example\.com`, '(?i)[^0-9]', '(?:a|b|c|d|e|f|g|h|i|j){4}x?', String.raw`\d+\b`, 'é+', '(?i)é',
		]);
	});

	test('matches, group 1 and test() are Go\'s', () => {
		const lines = [...special, ...corpusLines()];
		const go = goRanges(patterns, lines);
		const mismatches: string[] = [];
		for (const [i, pattern] of patterns.entries()) {
			expect(go.errors[i], pattern).toBe('');
			const re = compileUserRegex(pattern, 'test');
			for (const [j, line] of lines.entries()) {
				const expected = go.ranges[i]![j]!;
				const where = `${JSON.stringify(pattern)} on ${JSON.stringify(line.slice(0, 60))}`;
				if (re.test(line) !== go.results[i]![j]) {
					mismatches.push(`${where}: test() ${re.test(line)}, Go ${go.results[i]![j]}`);
				}

				if (!re.native) {
					continue; // re2js reports empty matches its own way; its matches are checked in test/regex-go.test.ts
				}

				const whole = JSON.stringify(re.ranges(line));
				const goWhole = JSON.stringify(expected.map(m => [m[0], m[1]]));
				if (whole !== goWhole) {
					mismatches.push(`${where}: ${whole}, Go ${goWhole}`);
				}

				if (re.groups > 0) {
					const group = JSON.stringify(re.ranges(line, Number.POSITIVE_INFINITY, 1));
					const goGroup = JSON.stringify(expected.filter(m => m[2] !== -1).map(m => [m[2], m[3]]));
					if (group !== goGroup) {
						mismatches.push(`${where} group 1: ${group}, Go ${goGroup}`);
					}
				}
			}
		}

		expect(mismatches.slice(0, 10).map(m => m.slice(0, 300))).toEqual([]);
	});
});

describe('what the joined redaction scan looks for (core/regex-gate-source.ts) against Go regexp', () => {
	test('the stretch of each pattern matches every line Go finds a match in', () => {
		const lines = [...special, ...corpusLines()];
		const go = goMatches(patterns, lines);
		const misses: string[] = [];
		let joined = 0;
		for (const [i, pattern] of patterns.entries()) {
			const gate = gateSource(pattern);
			if (gate === undefined) {
				continue;
			}

			joined++;
			const re = new RegExp(gate.source);
			expect(re.test(''), pattern).toBe(false);
			for (const [j, line] of lines.entries()) {
				if (go.results[i]![j] && !re.test(line)) {
					misses.push(`${JSON.stringify(pattern)} (${gate.source}) on ${JSON.stringify(line.slice(0, 60))}`);
				}
			}
		}

		expect(joined).toBeGreaterThan(10); // the others have no stretch cheap enough to look for
		expect(misses.slice(0, 10)).toEqual([]);
	});
});
