import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {compileUserRegex} from '../../source/core/regex.js';
import {words} from '../../source/history/bloom.js';
import {grepLiterals, grepWords, patternLiteral, patternWords} from '../../source/query-tokens.js';
import {encodeEvent} from '../../source/history/encode-batch.js';
import {serviceField} from '../../source/query-prepare.js';
import {event} from '../support/events.js';
import {indexWordRule} from '../../source/query-store.js';
import {corpus} from '../support/logmon.js';

// The words a --grep pattern guarantees let the index skip segments: a word too many would
// lose events, so every derived word is checked against what the pattern really matches.

const rule = indexWordRule;

describe('words a --grep pattern guarantees', () => {
	test('a word with boundaries on both sides, and nothing for a bare word that can sit inside a longer one', () => {
		expect(patternWords(String.raw`\breq42\b`, rule)).toEqual(['req42']);
		expect(patternWords(String.raw`\bReq-42\b`, rule)).toEqual(['req', '42']);
		expect(patternWords('abc123', rule)).toEqual([]);
		expect(patternWords('user=alice;', rule)).toEqual(['alice']);
		expect(patternWords(' timeout ', rule)).toEqual(['timeout']);
		expect(patternWords('^Connection closed by', rule)).toEqual(['connection', 'closed']);
		expect(patternWords(String.raw`port 22\.$`, rule)).toEqual(['22']);
		expect(patternWords('(?i)\\bERROR\\b', rule)).toEqual(['error']);
	});

	test('a regex: the words of its literal runs at the top level, edged on both sides', () => {
		expect(patternWords('fo+ bar ', rule)).toEqual(['bar']);
		expect(patternWords(String.raw`\bERR\d+ at \w+`, rule)).toEqual(['at']);
		expect(patternWords(String.raw`session (opened|closed) for user [a-z]+`, rule)).toEqual(['for', 'user']);
		expect(patternWords('a.b c ', rule)).toEqual(['c']);
		expect(patternWords(String.raw`\bERR\b.*timeout`, rule)).toEqual(['err']);
	});

	test('nothing from alternation at the top, classes, groups, repetition or other escapes', () => {
		for (const p of ['a|b', String.raw`\bfoo\b|\bbar\b`, 'fo+', String.raw`\d+`, '[a-z]+ ', '(word) ', String.raw`\Qx y\E`, String.raw`\w `, '', 'abc', String.raw`\bab*\b`, '(?m)^a b']) {
			expect(patternWords(p, rule), p).toEqual([]);
		}
	});

	test('(?i) never vouches for s or k, which RE2 folds with characters outside ASCII', () => {
		expect(patternWords(String.raw`(?i)\bsession\b`, rule)).toEqual([]);
		expect(patternWords(String.raw`(?i)\bdone\b`, rule)).toEqual(['done']);
		expect(patternWords(String.raw`\bsession\b`, rule)).toEqual(['session']);
	});

	test('several patterns: only the words all of them hold', () => {
		expect(grepWords([String.raw`\bfoo\b \bbar\b`, String.raw`\bbar\b`], rule)).toEqual(['bar']);
		expect(grepWords([String.raw`\bfoo\b`, 'bar'], rule)).toEqual([]);
		expect(grepWords([], rule)).toEqual([]);
	});

	test('the rule is the index\'s own: every character splits or joins words as bloom.ts does', () => {
		for (let c = 0; c <= 0xFF_FF; c++) {
			if (c >= 0xD8_00 && c <= 0xDF_FF) {
				continue;
			}

			const found: string[] = [];
			words(`a${String.fromCharCode(c)}b`, w => found.push(w));
			expect(found.length === 1, `U+${c.toString(16)}`).toBe(rule.isWordChar(c));
		}
	});

	test('no false negative on the fixture logs: whenever a pattern matches, its words are words of the message', () => {
		const lines = readdirSync(corpus).filter(f => f.endsWith('.log'))
			.flatMap(f => readFileSync(path.join(corpus, f), 'utf8').split(/\r?\n/).filter(Boolean));
		// Patterns cut from the lines themselves at random places, with and without boundaries and (?i).
		let seed = 42;
		const random = (n: number): number => {
			seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
			return seed % n;
		};

		const quote = (s: string): string => s.replaceAll(/[\\.+*?()|[\]{}^$]/g, String.raw`\$&`);
		let checked = 0;
		for (let i = 0; i < 120; i++) {
			const line = lines[random(lines.length)]!;
			const start = random(line.length);
			const piece = line.slice(start, start + 3 + random(30));
			const variants = [quote(piece), `\\b${quote(piece)}\\b`, `(?i)${quote(piece.toUpperCase())}`, `(?i)\\b${quote(piece)}`, `[a-z]?${quote(piece)}.*[0-9]`, `\\d*${quote(piece)}\\w*`, `^(x|y)?${quote(piece)}`];
			for (const pattern of variants) {
				const guaranteed = patternWords(pattern, rule);
				if (guaranteed.length === 0) {
					continue;
				}

				const re = compileUserRegex(pattern, 'test');
				for (const other of lines) {
					if (!re.test(other)) {
						continue;
					}

					const have = new Set<string>();
					words(other, w => have.add(w));
					for (const w of guaranteed) {
						expect(have.has(w), `${JSON.stringify(pattern)} matched ${JSON.stringify(other)} without the word ${w}`).toBe(true);
					}

					checked++;
				}
			}
		}

		expect(checked).toBeGreaterThan(100);
	});
});

describe('literal text a --grep pattern guarantees, tested on stored lines before decoding', () => {
	test('the longest literal run outside groups, classes and quantified characters', () => {
		expect(patternLiteral(String.raw`session (opened|closed) for user [a-z]+`)).toBe(' for user ');
		expect(patternLiteral('timeout')).toBe('timeout');
		expect(patternLiteral(String.raw`conn\.ection refused`)).toBe('conn.ection refused');
		expect(patternLiteral('abcd*ef')).toBe('abc');
		expect(patternLiteral('x{2}yyy{1,3}')).toBe('yy');
		expect(patternLiteral('a{x}b')).toBe('a{x}b');
		expect(patternLiteral(String.raw`\d+ ms elapsed`)).toBe(' ms elapsed');
		expect(patternLiteral(String.raw`say "hi" right now`)).toBe(' right now');
		expect(patternLiteral(String.raw`\pL+ \p{Greek} word`)).toBe(' word');
	});

	test('nothing when a match need not hold literal text as stored', () => {
		for (const p of ['a|b', '(?i)timeout', String.raw`x(?i)y`, String.raw`\Qa.b\E`, String.raw`\x41bc`, '[a-z]+', '.*', '', '(unclosed', '*a']) {
			expect(patternLiteral(p), p).toBeUndefined();
		}

		expect(grepLiterals(['timeout', 'a|b'])).toBeUndefined();
		expect(grepLiterals(['timeout', 'refused'])).toEqual(['timeout', 'refused']);
	});

	test('a stored line holds the literal whenever the pattern matches the message (fixture logs), and its service field', () => {
		const all = readdirSync(corpus).filter(f => f.endsWith('.log'))
			.flatMap(f => readFileSync(path.join(corpus, f), 'utf8').split(/\r?\n/).filter(Boolean)).slice(0, 6000);
		const stored = all.map(message => encodeEvent(event({message, raw: message.includes('"') ? `{"msg":${JSON.stringify(message)}}` : message, service: 'svc "x"'})));
		let seed = 9;
		const random = (n: number): number => {
			seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
			return seed % n;
		};

		let checked = 0;
		for (let i = 0; i < 150; i++) {
			const line = all[random(all.length)]!;
			const start = random(line.length);
			const piece = line.slice(start, start + 4 + random(20)).replaceAll(/[\\.+*?()|[\]{}^$]/g, String.raw`\$&`);
			for (const pattern of [piece, `${piece}.*[0-9]`, `(x|y)?${piece}`]) {
				const literal = patternLiteral(pattern);
				if (literal === undefined) {
					continue;
				}

				const re = compileUserRegex(pattern, 'test');
				for (const [k, message] of all.entries()) {
					if (re.test(message)) {
						expect(stored[k]!.includes(literal), `${pattern} on ${message}`).toBe(true);
						checked++;
					}
				}
			}
		}

		expect(checked).toBeGreaterThan(100);
		expect(stored.every(l => l.includes(serviceField('svc "x"')))).toBe(true);
	});
});
