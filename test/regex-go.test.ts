import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {compileUserRegex} from '../source/core/regex.js';
import {compileLogioRegex} from '../source/sinks/logio-fanout.js';
import {goMatches, hasGo} from './support/go-regexp.js';
import {corpus} from './support/logmon.js';

// logmon's regexes mean what Go's regexp package (RE2) says they mean: the logio server is
// written in Go and matches its subscription parameters with regexp.MatchString, and every
// other user regex of logmon uses the same engine. Each pattern is run by Go itself.

const patterns = [
	// What people type.
	'ERROR', 'error|warn', '(?i)error', 'Failed password', 'blk_-?[0-9]+', String.raw`\d+\.\d+\.\d+\.\d+`,
	'.*foo.*bar', String.raw`^\d{4}-\d{2}-\d{2}`, String.raw`\bkernel\b`, '[^ ]+ failed', String.raw`\s+$`,
	'a{2,}', 'x*', '|x', '', String.raw`a\.b\|c`, String.raw`\-\_\ \#`, 'é', '(?i)É', '(?i)ω',
	// The RE2 dialect where JavaScript's differs.
	'[[:digit:]]+', '[[:^alpha:]]', String.raw`\pL+`, String.raw`\p{Greek}`, String.raw`\PL`, String.raw`\Q.*+?\E`,
	String.raw`\Aroot`, String.raw`done\z`, '(?i:ssh)d', '(?U)a+', '(?s)a.b', '(?m)^INFO$', 'ERROR$', String.raw`\x{41}`,
	'(?i)k', '(?i)s', '(?P<word>user)', '(?<word>user)', '^.$', '.', String.raw`[\d-z]`, String.raw`\v`, '[^a]',
	// Refused by RE2.
	'foo(?=bar)', '(?!x)', '(?<=a)b', String.raw`(a)\1`, 'a++', 'x{1001}', String.raw`\Z`, '(', '[z-a]', String.raw`\C`,
];

function corpusLines(): string[] {
	const lines: string[] = [];
	for (const file of readdirSync(corpus).filter(f => f.endsWith('.log')).sort()) {
		lines.push(...readFileSync(path.join(corpus, file), 'utf8').split('\n').slice(0, 120));
	}

	return lines;
}

const special = [
	'', 'a', 'aab', 'a\nb', 'axb', 'root login', 'login root', 'all done', 'done\n', 'INFO', 'x\nINFO\ny', 'ERROR\r',
	'boom ERROR\n', 'ssHd', 'SSHd', 'ssh D', 'Kelvin \u212A', 'long \u017F', 'ÉCOLE école', 'Ωμέγα', 'ΩΜΈΓΑ', '😀', 'a😀b',
	'A', '\u000B', 'foo then bar', 'tab\there', 'café', 'x-y_z #', 'a.b|c', '.*+?', '123 abc', '\u202Eevil', '-',
];

describe('logmon regexes against Go regexp', () => {
	test('Go is on this machine (it builds the reference)', () => {
		expect(hasGo(), 'install Go: the RE2 reference is built with it').toBe(true);
	});

	test('every pattern accepts and refuses as Go does, and matches the same lines', () => {
		const lines = [...special, ...corpusLines()];
		const go = goMatches(patterns, lines);
		const mismatches: string[] = [];
		for (const [i, pattern] of patterns.entries()) {
			let ours: ((s: string) => boolean) | undefined;
			let ourError: string | undefined;
			try {
				const re = compileLogioRegex(pattern, 'log');
				ours = re ? (s: string) => re.test(s) : () => true;
			} catch (error) {
				ourError = String(error);
			}

			const goError = go.errors[i]!;
			if (goError !== '' || ourError) {
				if (!(goError !== '' && ourError)) {
					mismatches.push(`${JSON.stringify(pattern)}: Go says ${goError || 'valid'}, logmon says ${ourError ?? 'valid'}`);
				}

				continue;
			}

			const expected = go.results[i]!;
			for (const [j, line] of lines.entries()) {
				if (ours!(line) !== expected[j]) {
					mismatches.push(`${JSON.stringify(pattern)} on ${JSON.stringify(line.slice(0, 80))}: Go ${expected[j]}, logmon ${!expected[j]}`);
				}
			}
		}

		expect(mismatches).toEqual([]);
	});

	test('the highlight ranges are the matches Go finds', () => {
		// Go's FindAllStringIndex over UTF-8 would need byte offsets; compare the matched text instead.
		const re = compileUserRegex(String.raw`\d+`, 'search');
		const text = 'a1 é22 😀333';
		expect(re.ranges(text).map(([s, e]) => text.slice(s, e))).toEqual(['1', '22', '333']);
		const literal = compileUserRegex('(?i)ab|c', 'search');
		expect(literal.ranges('xAB c ab').map(([s, e]) => 'xAB c ab'.slice(s, e))).toEqual(['AB', 'c', 'ab']);
	});
});
