import {RE2JS} from 're2js';
import {expect, test} from 'vitest';
import {escapeLiteral, needle, prefilter, requiredLiteral, requiredLiterals} from '../../source/core/regex-prefilter.js';
import {fastRegex} from '../../source/core/regex-syntax.js';
import {prefixRegex} from '../../source/core/regex-prefix.js';

// The V8 tests run before re2js on user regexes may only ever let too much through: whatever
// re2js matches, the prefilter must pass. Checked on crafted texts (astral characters, the Kelvin
// sign and the long s that (?i) folds, Unicode spaces, newlines) and on random ones.

test('the plain text every match holds is read off the pattern, or nothing is', () => {
	expect(requiredLiteral('customer_id=(\\d+)')).toEqual({text: 'customer_id=', caseInsensitive: false});
	expect(requiredLiteral('(?i)tok_[a-z0-9]{24}')).toEqual({text: 'tok_', caseInsensitive: true});
	expect(requiredLiteral('ab+c')).toEqual({text: 'ab', caseInsensitive: false});
	expect(requiredLiteral('abc?def')).toEqual({text: 'def', caseInsensitive: false});
	expect(requiredLiteral('x{2}yz\\.q')).toEqual({text: 'yz.q', caseInsensitive: false});
	expect(requiredLiteral('[|(]abc')).toEqual({text: 'abc', caseInsensitive: false});
	for (const p of ['a|b', '(x|y)z|w', '(?i:abc)', 'x(?i)abc', '\\Qabc\\E', '\\pLabc', 'a{', '(?i)école', '.*', '']) {
		expect(requiredLiteral(p), p).toBeUndefined();
	}

	// Every piece is required: a line must hold them all.
	expect(requiredLiterals('(?i)api[_-]?key["\']?\\s*[:=]')).toEqual({texts: ['api', 'key'], caseInsensitive: true});
	expect(requiredLiterals('ab?cde+f')?.texts).toEqual(['cde']);
	expect(requiredLiterals('x\\d-y')?.texts).toEqual(['-y']);
});

test('the needle is the piece of required text looked for fastest', () => {
	// From the rarest character of a run on, three characters at least.
	expect(needle('tok_[a-z0-9]{24}')).toEqual({text: 'tok_', caseInsensitive: false});
	expect(needle('sk_live_[0-9a-zA-Z]{24}')).toEqual({text: '_live_', caseInsensitive: false});
	expect(needle('[a-z0-9-]+\\.corp\\.example\\.com')).toEqual({text: 'xample.com', caseInsensitive: false});
	// Under (?i), a rare character no case folds; else a run in any case, of the rarer characters.
	expect(needle('(?i)session(?:_id)?=([A-Za-z0-9]{16,})')).toEqual({text: '=', caseInsensitive: false});
	expect(needle('(?i)api[_-]?key["\']?\\s*[:=]')).toEqual({text: 'key', caseInsensitive: true});
	expect(needle('(?i)a-b:c')).toEqual({text: 'a-b:c', caseInsensitive: true}); // - and : are common in logs
	for (const p of ['\\b[A-Z]{2}\\d{2}\\b', 'a|b', '']) {
		expect(needle(p), p).toBeUndefined();
	}
});

test('the start of every match is written for V8', () => {
	// Fixed counts written out, which V8 runs faster.
	expect(prefixRegex(String.raw`\b[A-Z]{2}\d{2}[A-Z0-9]{3,30}\b`)?.source).toBe(String.raw`[A-Z][A-Z]\d\d[A-Z0-9][A-Z0-9][A-Z0-9]`);
	expect(prefixRegex(String.raw`\b\d{3}-\d{2}-\d{4}\b`)?.source).toBe(String.raw`\d\d\d\x2d\d\d\x2d\d\d\d\d`);
	expect(prefixRegex(String.raw`\+\d{1,3}[ -]?\d{6,12}`)?.source).toBe(String.raw`\x2b\d`);
	// Groups, and items that may be absent when what follows cannot start the same way.
	expect(prefixRegex('(?i)session(?:_id)?=([A-Za-z0-9]{2,})')?.source).toBe(String.raw`session(?:\x5fid)?\x3d[A-Za-z0-9][A-Za-z0-9]`);
	expect(prefixRegex('(?i)session(?:_id)?=')?.caseInsensitive).toBe(true);
	expect(prefixRegex('(?i)api[_-]?key["\']?\\s*[:=]')?.source).toBe(String.raw`api[\x5f\x2d]?key`);
	expect(prefixRegex('(ab)c')?.source).toBe('(?:ab)c');
	expect(prefixRegex('ab?bc')?.source).toBe('a');
	expect(prefixRegex('(?i)a[ks]?\u212Ax')?.source).toBe('a');
	expect(prefixRegex('(a(b|c))d')?.source).toBe('a');
	expect(prefixRegex('x(ab*c)d')?.source).toBe('xa');
	expect(prefixRegex('x(ab*c)?d')?.source).toBe('x');
	expect(prefixRegex('a.b\\Sc')?.source).toBe(String.raw`a[^\n]b[^\t\n\f\r ]c`);
	for (const p of ['a|b', '(?s)a.b', '(?m)^a', '*a', 'x*y', '(?=a)b', 'a?b?']) {
		expect(prefixRegex(p), p).toBeUndefined();
	}
});

const patterns = [
	'customer_id=(\\d+)', '(?i)customer_id=(\\d+)', '\\b\\d{3}-\\d{2}-\\d{4}\\b', '\\b[A-Z]{2}\\d{2}[A-Z0-9]{11,30}\\b', '\\+\\d{1,3}[ -]?\\d{6,12}',
	'(?i)kelvin', '(?i)[k-m]ey', '(?i)stop', 'a.b', 'x\\Sy', 'x\\sy', '[^a-z]x', 'x[^a]y', '(?i)\\w\\w', 'é+t', '😀.x', '[😀-😂]z', '(?i)ſ', 'a{0}b', 'a{2,}b',
	'tok_[a-z0-9]{4}', '[]a]b', '[^]a]b', '[a-]c', '\\.corp\\.example\\.com', '(?U)a+?b', '^ab', 'ab$', '\\Aab', 'q\\tw', '[\\d\\s]x',
	'(?i)session(?:_id)?=([A-Za-z0-9]{2,})', '(?i)api[_-]?key["\']?\\s*[:=]', 'a(?:_b)?=', 'x(y)?z', '(?i)a(?:k)?s', 'k?\u212Ay', '(?i)x[ks]?y', 'a_?b', '(ab)+c', '(?:a(?:b)?c)?d',
	'x(ab*c)d', 'x(ab*c)?d', '1?-?2', '(?i)s?\u017Fx', '(?P<n>ab)c', '\\s?x', '(?i)\\w?-', 'a{2}b{0,2}c',
];

const crafted = [
	'customer_id=42', 'CUSTOMER_ID=7', 'ssn 123-45-6789 ok', 'DE89370400440532013000', '+49 1701234567', 'the \u212Aelvin sign', 'KEY', '\u212Aey', 'ſtop',
	'a\nb', 'a😀b', 'x\u00A0y', 'x y', 'x\ty', '😀x', 'bx', 'xby', 'x😀y', 'ſſ', 'éét', 'éé', '😀😀x', '😁z', 'ſ', 'b', 'aab', 'tok_ab12', ']b', 'bb', '-c',
	'a.corp.example.com', 'aab', 'ab', 'xab', 'q\tw', '5x', ' x', '',
	'session=ab', 'SESSION_ID=xy', 'api_key: x', 'APIKEY="', 'a_b=', 'a=', 'xz', 'xyz', 'as', 'aks', 'aKs', 'a\u212As', '\u212Ay', 'k\u212Ay', 'x\u212Ay', 'xsy', 'x\u017Fy',
	'ab', 'a_b', 'ababc', 'abc', 'acd', 'd', 'xabbbcd', 'xacd', 'xd', '12', '1-2', '-2', 'ſx', 'sſx', 'Sx', 'abc', '\u00A0x', '\u2003x', 'x', '\u212A-', '-', 'aabbc', 'aac',
];

function randomText(rand: () => number): string {
	const alphabet = ['a', 'b', 'c', 'd', 'x', 'y', 'k', 'K', '\u212A', 'ſ', 's', 'S', '1', '2', '-', ' ', '\u00A0', '\n', '\t', '😀', 'é', '_', '+', '.', 'z', ']', '=', 'i'];
	let out = '';
	const n = Math.floor(rand() * 12);
	for (let i = 0; i < n; i++) {
		out += alphabet[Math.floor(rand() * alphabet.length)];
	}

	return out;
}

test('the prefilter passes every text re2js matches', () => {
	let seed = 7;
	const rand = () => {
		seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
		return seed / 2_147_483_648;
	};

	const texts = [...crafted, ...Array.from({length: 3000}, () => randomText(rand))];
	for (const pattern of patterns) {
		const re = RE2JS.compile(pattern);
		const may = prefilter(pattern);
		const needs = needle(pattern);
		const holds = needs === undefined ? () => true : (needs.caseInsensitive ? (text: string) => fastRegex(escapeLiteral(needs.text), true).test(text) : (text: string) => text.includes(needs.text));
		for (const text of texts) {
			if (re.test(text)) {
				expect(may(text), `${pattern} on ${JSON.stringify(text)}`).toBe(true);
				expect(holds(text), `needle of ${pattern} on ${JSON.stringify(text)}`).toBe(true);
			}
		}
	}
});
