import {describe, expect, test} from 'vitest';
import {boundedRegex, maxPaths, maxSteps, pathCount} from '../../source/core/regex-bounded.js';
import {parseBounded} from '../../source/core/regex-parse.js';
import {compileUserRegex} from '../../source/core/regex.js';

// The path bound that lets a user regex run on V8 (core/regex-bounded.ts), and what the
// translation takes and refuses. Go's regexp checks the meaning in test/regex-bounded-go.test.ts.

function paths(pattern: string): number {
	const node = parseBounded(pattern);
	if (node === undefined) {
		throw new Error(`refused: ${pattern}`);
	}

	return pathCount(node);
}

describe('the path bound', () => {
	test('concatenation multiplies, alternation adds, x{m,n} sums paths(x)^k, ? is {0,1}', () => {
		expect(paths('abc')).toBe(1);
		expect(paths('[a-z]{24}')).toBe(1);
		expect(paths('a|b|c')).toBe(3);
		expect(paths('(?:a|b)(?:c|d|e)')).toBe(6);
		expect(paths('a?')).toBe(2);
		expect(paths('(?:a|b)?')).toBe(3);
		expect(paths('x{2,5}')).toBe(4);
		expect(paths('(?:a|b){2,3}')).toBe(4 + 8);
		expect(paths('(?:(?:a|b){2}|c)?d')).toBe(1 + 4 + 1);
		expect(paths(String.raw`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`)).toBe(20);
		expect(paths(String.raw`\+\d{1,3}[ -]?\d{6,12}`)).toBe(3 * 2 * 7);
		expect(paths('(?i)passport(?:_no)?=([A-Z0-9]{6,9})')).toBe(8);
	});

	test('unbounded repeats count as Infinity; huge counts stop just past the limit', () => {
		expect(paths('a*')).toBe(Number.POSITIVE_INFINITY);
		expect(paths('x(?:a|b)+y')).toBe(Number.POSITIVE_INFINITY);
		expect(paths('a{3,}')).toBe(Number.POSITIVE_INFINITY);
		expect(paths('(?:a|b){1000}')).toBe(maxPaths + 1);
		expect(paths('(?:(?:a|b){100}){100}')).toBe(maxPaths + 1);
	});

	test('at the limit a pattern runs on V8; just past it, on re2js', () => {
		// 10 x 10 x 10 paths, each at most 3 characters: at the path limit.
		expect(paths('(?:a|b|c|d|e|f|g|h|i|j){3}')).toBe(maxPaths);
		expect(boundedRegex('(?:a|b|c|d|e|f|g|h|i|j){3}')).toBeDefined();
		expect(paths('(?:a|b|c|d|e|f|g|h|i|j){3}x?')).toBe(maxPaths + 1); // 2,000, counted up to just past the limit
		expect(boundedRegex('(?:a|b|c|d|e|f|g|h|i|j){3}x?')).toBeUndefined();
		expect(compileUserRegex('(?:a|b|c|d|e|f|g|h|i|j){3}x?', 'test').native).toBe(false);
		// Within the path limit, but each path up to 30 characters long: past the step limit.
		expect(paths('(?:[ab]{1,10}){3}')).toBe(maxPaths);
		expect(maxPaths * 30).toBeGreaterThan(maxSteps);
		expect(boundedRegex('(?:[ab]{1,10}){3}')).toBeUndefined();
	});

	test('the worst pattern let onto V8 stays linear on a text that makes it try every path at every start', () => {
		// 1,000 paths of 4 characters from each start, none matching: a fixed cost per character.
		// Time is checked against a linear reference pass, never against a clock alone.
		const worst = compileUserRegex('(?:a|a|a|a|a|a|a|a|a|a){3}z', 'test');
		expect(worst.native).toBe(true);
		const text = 'a'.repeat(1 << 16);
		let sum = 0;
		const t0 = performance.now();
		for (let i = 0; i < text.length; i++) {
			sum += text.charCodeAt(i);
		}

		const t1 = performance.now();
		expect(worst.test(text)).toBe(false);
		const took = performance.now() - t1;
		const linear = t1 - t0;
		expect(sum).toBeGreaterThan(0);
		expect(took, `${took.toFixed(0)} ms against ${linear.toFixed(2)} ms for one pass`).toBeLessThan((linear * 20_000) + 5000);
	});
});

describe('the translation', () => {
	test('the bench rules that are bounded or end in one unbounded run run on V8; the others on re2js', () => {
		const onV8 = ['tok_[a-z0-9]{24}', 'sk_live_[0-9a-zA-Z]{24}', String.raw`(?i)customer_id=(\d+)`, String.raw`\b\d{3}-\d{2}-\d{4}\b`,
			'(?i)session(?:_id)?=([A-Za-z0-9]{16,})', '(?i)passport(?:_no)?=([A-Z0-9]{6,9})', String.raw`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`, String.raw`\+\d{1,3}[ -]?\d{6,12}`];
		for (const p of onV8) {
			expect(compileUserRegex(p, 'test').native, p).toBe(true);
		}

		for (const p of [String.raw`(?i)api[_-]?key["']?\s*[:=]\s*["']?([A-Za-z0-9]{20,})`, String.raw`[a-z0-9-]+\.corp\.example\.com`]) {
			expect(compileUserRegex(p, 'test').native, p).toBe(false);
		}
	});

	test('constructs whose meaning differs stay on re2js', () => {
		const refused = [
			'(?s).', '(?m)^a', 'a(?i)b', '(?i).', '(?i)[^a]', String.raw`(?i)\W`, String.raw`(?i)\S`, 'é', '(?i)é', String.raw`\pL`,
			String.raw`\x41`, String.raw`\Aa`, String.raw`a\z`, String.raw`\Qa\E`, '[[:alpha:]]', 'a{,3}', '(?:(a)|b){2}', '(?:a?){1,2}',
			'(?:a|){0,1}', String.raw`\d+\b`, 'a*b', '(a+)+', String.raw`[\d-z]`, 'x\u0001',
		];
		for (const p of refused) {
			expect(boundedRegex(p), p).toBeUndefined();
		}
	});

	test('what it writes', () => {
		expect(boundedRegex(String.raw`\b\d{3}-\d{2}-\d{4}\b`)).toMatchObject({source: String.raw`\b[0-9]{3}\x2d[0-9]{2}\x2d[0-9]{4}\b`, flags: ''});
		// RE2's (?i) folds k with the Kelvin sign and s with the long s.
		expect(boundedRegex('(?i)sk[a-c]')).toMatchObject({source: String.raw`[s\u017F][k\u212A][a-c]`, flags: 'i'});
		expect(boundedRegex(String.raw`(?i)\w`)).toMatchObject({source: String.raw`[0-9A-Z\x5fa-z\u212A\u017F]`, flags: 'i'});
		// RE2's `.` leaves out only \n, its \s is ASCII; negations read code points (`u`).
		expect(boundedRegex(String.raw`.\s`)).toMatchObject({source: String.raw`[^\x0a][\x09-\x0a\x0c-\x0d\x20]`, flags: 'u'});
		// Named groups keep their numbers.
		expect(boundedRegex(String.raw`(?P<a>x)(?<b>y)`)).toMatchObject({source: '(x)(y)'});
	});

	test('group 1 is what a rule replaces, and empty matches are found as Go finds them', () => {
		const re = compileUserRegex('(?i)passport(?:_no)?=([A-Z0-9]{6,9})', 'test');
		const text = 'x PASSPORT_NO=ab12345 y passport=Z9 pa\u017F\u017Fport=k1234567';
		expect(re.ranges(text, Number.POSITIVE_INFINITY, 1).map(([s, e]) => text.slice(s, e))).toEqual(['ab12345', 'k1234567']);
		expect(compileUserRegex('a?', 'test').ranges('baab')).toEqual([[0, 0], [1, 2], [2, 3], [4, 4]]);
	});
});
