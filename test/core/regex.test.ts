import {describe, expect, test} from 'vitest';
import {compileLiteralSearch, compileUserRegex, FilterError, literalAlternatives} from '../../source/core/regex.js';

// Linear time is checked against a linear reference on the same input, never against a clock
// alone: the bound is generous, and V8's backtracking engine misses it by orders of magnitude.

function elapsed(fn: () => void): number {
	const start = performance.now();
	fn();
	return performance.now() - start;
}

/** One pass over the text, touching every character: what linear time costs here. */
function reference(text: string): number {
	let sum = 0;
	return elapsed(() => {
		for (let i = 0; i < text.length; i++) {
			sum += text.charCodeAt(i);
		}

		if (sum < 0) {
			throw new Error('unreachable');
		}
	});
}

describe('user regexes', () => {
	test('plain text and choices of plain text take the fast path; anything else does not', () => {
		expect(literalAlternatives('ERROR')).toEqual(['ERROR']);
		expect(literalAlternatives('timeout|refused')).toEqual(['timeout', 'refused']);
		expect(literalAlternatives(String.raw`a\.b\|c\ d`)).toEqual(['a.b|c d']);
		for (const p of ['a+', '.*foo', String.raw`\d`, '[ab]', '(x)', '^a', 'a$', String.raw`\Qx\E`, '😀']) {
			expect(literalAlternatives(p), p).toBeUndefined();
		}
	});

	test('the fast path and the RE2 path agree', () => {
		const lines = ['an ERROR here', 'error', 'Error: timeout', 'refused', 'a.b|c', 'ab|c', 'Kelvin \u212A', 'k', ''];
		for (const p of ['ERROR', '(?i)error', 'timeout|refused', String.raw`a\.b\|c`, '(?i)k', '|x']) {
			const fast = compileUserRegex(p, '--grep');
			// The same pattern with a no-op group forces the RE2 path.
			const slow = compileUserRegex(`(?:)${p.startsWith('(?i)') ? `(?i:${p.slice(4)})` : `(?:${p})`}`, '--grep');
			expect(lines.map(l => fast.test(l)), p).toEqual(lines.map(l => slow.test(l)));
			expect(lines.map(l => fast.ranges(l)), p).toEqual(lines.map(l => slow.ranges(l)));
		}
	});

	test('errors name the flag and say why Perl habits are refused', () => {
		expect(() => compileUserRegex('(a)\\1', '--grep')).toThrow(FilterError);
		expect(() => compileUserRegex('(a)\\1', '--grep')).toThrow(/^--grep: invalid regular expression .*backreferences are not supported/);
		expect(() => compileUserRegex('a(?<=b)', 'log')).toThrow(/^log: .*lookarounds are not supported/);
	});

	test('patterns that backtrack for minutes in V8 run in linear time on a 1 MiB line', () => {
		const line = 'x'.repeat(1 << 20);
		const foo = 'foo '.repeat(1 << 18);
		const linear = Math.max(reference(line), reference(foo));
		for (const p of ['.*foo.*bar', '^(a+)+$', '(x+x+)+y', '(.*a){12}', String.raw`\d+\.\d+\.\d+\.\d+z`]) {
			const re = compileUserRegex(p, '--grep');
			const took = elapsed(() => {
				expect(re.test(line)).toBe(false);
				expect(re.test(foo)).toBe(false);
			});
			expect(took, `${p}: ${took.toFixed(0)} ms against ${linear.toFixed(1)} ms for one pass`).toBeLessThan((linear * 2000) + 5000);
		}
	});

	test('the UI literal search finds text with regex characters, case folded when asked', () => {
		expect(compileLiteralSearch('foo(', false).test('call foo(1)')).toBe(true);
		expect(compileLiteralSearch('foo(', false).test('call FOO(1)')).toBe(false);
		expect(compileLiteralSearch('foo(', true).test('call FOO(1)')).toBe(true);
		expect(compileLiteralSearch('école', true).ranges('ÉCOLE')).toEqual([[0, 5]]);
		expect(compileLiteralSearch('😀', false).ranges('a😀')).toEqual([[1, 3]]);
	});
});
