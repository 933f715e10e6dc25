import {RE2JS} from 're2js';
import {expect, test} from 'vitest';
import {compileUserRegex} from '../../source/core/regex.js';
import {anyOf, escapeLiteral, needle, prefilter, requiredLiteral, requiredLiterals, requiredText} from '../../source/core/regex-prefilter.js';
import {RegexGates} from '../../source/core/regex-gates.js';
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
	expect(requiredLiteral('\\pLabc')).toEqual({text: 'abc', caseInsensitive: false});
	for (const p of ['a|b', '(x|y)z|w', '(?i:abc)', 'x(?i)abc', '\\Qabc\\E', 'a{', '(?i)école', '.*', '']) {
		expect(requiredLiteral(p), p).toBeUndefined();
	}

	// Every piece is required: a line must hold them all.
	expect(requiredLiterals('(?i)api[_-]?key["\']?\\s*[:=]')).toEqual({texts: ['api', 'key'], caseInsensitive: true});
	expect(requiredLiterals('ab?cde+f')?.texts).toEqual(['cde']);
	expect(requiredLiterals('x\\d-y')?.texts).toEqual(['-y']);
});

test('the text every match requires', () => {
	const literals = (p: string) => requiredText(p)?.literals;
	expect(literals('timeout|refused')).toEqual(['timeout', 'refused']);
	expect(literals('conn.*refused')).toEqual(['refused']);
	expect(literals(String.raw`\berror\b`)).toEqual(['error']);
	expect(literals(String.raw`user \d+ (not found|gone)`)).toEqual(['user ']);
	expect(literals('fail(ed|ure)|timeout')).toEqual(['fail', 'timeout']);
	// Optional characters are no part of the text, repeated ones count once: "colou?r" requires "colo", "ab+cd" "ab" (and "cd").
	expect(literals('colou?r')).toEqual(['colo']);
	expect(literals('ab+cd')).toEqual(['ab']);
	expect(literals('x{2}yz')).toEqual(['yz']);
	expect(literals(String.raw`a\.b\x41cd`)).toEqual(['a.b']);
	expect(literals(String.raw`\pLword`)).toEqual(['word']);
	expect(literals(String.raw`\p{Greek}word`)).toEqual(['word']);
	expect(literals(String.raw`[]x]+ok`)).toEqual(['ok']);
	expect(literals('[[:alpha:]]ok')).toEqual(['ok']);
	expect(requiredText('(?i)Refused')).toEqual({literals: ['Refused'], caseInsensitive: true});
	// Leading flags other than (?i) leave plain text alone; astral characters are text like any other.
	expect(requiredText('(?s)abc')).toEqual({literals: ['abc'], caseInsensitive: false});
	expect(literals('😀x')).toEqual(['😀x']);
	expect(literals('😀?x')).toEqual(['x']);
	// No text to require, or syntax read no further: the pattern runs on every line.
	for (const p of [String.raw`\d{3}`, 'a|b*', 'x|', '', '.*', String.raw`\Qa|b\E`, 'a(?i)b', '(?i)straße', 'a?']) {
		expect(requiredText(p), p).toBeUndefined();
	}
});

test('a line the pattern matches always holds the text it requires', () => {
	const lines = ['conn 1 refused', 'Connection REFUSED', 'colour', 'color', 'abbbcd', 'xxyz', 'a.bAcd', 'user 42 gone', 'KELVIN \u212A', 'Error: x', 'x]]]ok', 'word', 'λword'];
	for (const p of ['conn.*refused', '(?i)conn.*refused', 'colou?r', 'ab+cd', 'x{2}yz', String.raw`a\.b\x41cd`, String.raw`user \d+ (not found|gone)`, '(?i)kelvin k', String.raw`[Ee]rror: \w`, '[]x]+ok', String.raw`\pLword`]) {
		const re = compileUserRegex(p, '--grep');
		const required = requiredText(p)!;
		const prefilter = anyOf(required.literals, required.caseInsensitive);
		for (const line of lines) {
			if (re.test(line)) {
				expect(prefilter.test(line), `${p} on ${line}`).toBe(true);
			}
		}
	}
});

test('the needle is the piece of required text looked for fastest', () => {
	// From the rarest character of a run on, two characters at least.
	expect(needle('tok_[a-z0-9]{24}')).toEqual({text: 'k_', caseInsensitive: false, common: false});
	expect(needle('sk_live_[0-9a-zA-Z]{24}')).toEqual({text: '_live_', caseInsensitive: false, common: false});
	expect(needle('[a-z0-9-]+\\.corp\\.example\\.com')).toEqual({text: 'xample.com', caseInsensitive: false, common: false});
	// Under (?i), a rare character no case folds; else a run in any case, of the rarer characters.
	expect(needle('(?i)session(?:_id)?=([A-Za-z0-9]{16,})')).toEqual({text: '=', caseInsensitive: false, common: false});
	expect(needle('(?i)api[_-]?key["\']?\\s*[:=]')).toEqual({text: 'key', caseInsensitive: true, common: false});
	expect(needle('(?i)a-b:c')).toEqual({text: 'a-b:c', caseInsensitive: true, common: false}); // - and : are common in logs
	expect(needle('\\d{3}-\\d{2}')).toEqual({text: '-', caseInsensitive: false, common: true});
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
	'😀?x', 'x😀+y', 'ab|cd', '(?i)k|s', 'x\\pLy', 'a\\x41b', '(?s)a.b', 'a+b|x?y',
];

const crafted = [
	'customer_id=42', 'CUSTOMER_ID=7', 'ssn 123-45-6789 ok', 'DE89370400440532013000', '+49 1701234567', 'the \u212Aelvin sign', 'KEY', '\u212Aey', 'ſtop',
	'a\nb', 'a😀b', 'x\u00A0y', 'x y', 'x\ty', '😀x', 'bx', 'xby', 'x😀y', 'ſſ', 'éét', 'éé', '😀😀x', '😁z', 'ſ', 'b', 'aab', 'tok_ab12', ']b', 'bb', '-c',
	'a.corp.example.com', 'aab', 'ab', 'xab', 'q\tw', '5x', ' x', '',
	'session=ab', 'SESSION_ID=xy', 'api_key: x', 'APIKEY="', 'a_b=', 'a=', 'xz', 'xyz', 'as', 'aks', 'aKs', 'a\u212As', '\u212Ay', 'k\u212Ay', 'x\u212Ay', 'xsy', 'x\u017Fy',
	'x', 'xy', 'x😀😀y', 'cd', 'xKy', 'aAb', 'a\nb', 'aab', 'ab', 'a_b', 'ababc', 'abc', 'acd', 'd', 'xabbbcd', 'xacd', 'xd', '12', '1-2', '-2', 'ſx', 'sſx', 'Sx', 'abc', '\u00A0x', '\u2003x', 'x', '\u212A-', '-', 'aabbc', 'aac',
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
		const required = requiredText(pattern);
		const any = required && anyOf(required.literals, required.caseInsensitive);
		const holds = needs === undefined ? () => true : (needs.caseInsensitive ? (text: string) => fastRegex(escapeLiteral(needs.text), true).test(text) : (text: string) => text.includes(needs.text));
		for (const text of texts) {
			if (re.test(text)) {
				expect(may(text), `${pattern} on ${JSON.stringify(text)}`).toBe(true);
				expect(holds(text), `needle of ${pattern} on ${JSON.stringify(text)}`).toBe(true);
				expect(any?.test(text) ?? true, `required text of ${pattern} on ${JSON.stringify(text)}`).toBe(true);
			}
		}
	}
});

test('the gates shared by many patterns pass every text one of them matches, their plain regexes looked for apart or not', () => {
	let seed = 11;
	const rand = () => {
		seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
		return seed / 2_147_483_648;
	};

	// All the patterns at once (needles shared, the starts of several in one regex), and the
	// redaction benchmark's ten rules with texts near their matches.
	const ten = ['tok_[a-z0-9]{24}', 'sk_live_[0-9a-zA-Z]{24}', '(?i)customer_id=(\\d+)', '\\b\\d{3}-\\d{2}-\\d{4}\\b', '(?i)session(?:_id)?=([A-Za-z0-9]{16,})', '(?i)api[_-]?key["\']?\\s*[:=]\\s*["\']?([A-Za-z0-9]{20,})', '[a-z0-9-]+\\.corp\\.example\\.com', '(?i)passport(?:_no)?=([A-Z0-9]{6,9})', '\\b[A-Z]{2}\\d{2}[A-Z0-9]{11,30}\\b', '\\+\\d{1,3}[ -]?\\d{6,12}'];
	const near = ['tok_abcdefghijklmnopqrstuvwx', 'sk_live_ABCDEFGHIJKLMNOPQRSTUVWX', 'CUSTOMER_ID=42', 'ssn 123-45-6789', 'Session_Id=ABCDEFGHIJKLMNOP', 'API-KEY: "abcdefghijklmnopqrstuvwxyz"', 'db-1.corp.example.com', 'passport_no=X1234567', 'DE89370400440532013000', '+49 1701234567', '\u212Aey=1', 'ſession=ABCDEFGHIJKLMNOPQ'];
	for (const set of [patterns, ten]) {
		const gates = new RegexGates(set);
		const compiled = set.map(p => RE2JS.compile(p));
		// The plain gates looked for by one scan of the caller's (core/redact-text.ts): when it finds none, they fail unrun.
		const plain = new RegExp(gates.plainSources.map(source => `(?:${source})`).join('|') || '(?!)');
		for (const text of [...crafted, ...near, ...Array.from({length: 2000}, () => randomText(rand))]) {
			gates.check(text, !plain.test(text));
			for (const [i, re] of compiled.entries()) {
				if (re.test(text)) {
					expect(gates.mayMatch(i), `${set[i]} on ${JSON.stringify(text)}`).toBe(true);
				}
			}
		}
	}
});

test('past 30 gates and 31 patterns the gates let every text through for the rest', () => {
	const set = Array.from({length: 40}, (_, i) => `word${i}x`);
	const gates = new RegexGates(set);
	gates.check('word35x and word3x');
	expect(set.map((_, i) => gates.mayMatch(i)).flatMap((may, i) => (may ? [i] : []))).toEqual([3, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]); // 30: past the 30 gates;
	gates.check('nothing here');
	expect(gates.any).toBe(true);
	expect(gates.mayMatch(0)).toBe(false);
});
