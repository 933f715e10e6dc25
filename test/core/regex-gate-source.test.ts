import {describe, expect, it} from 'vitest';
import {tenRules} from '../../bench/cases/redact.js';
import {type RedactSpec, Redactor} from '../../source/core/redact.js';
import {maxPaths, maxSteps} from '../../source/core/regex-bounded.js';
import {gateSource} from '../../source/core/regex-gate-source.js';

// What the joined redaction scan looks for in place of a user rule (core/regex-gate-source.ts): a
// stretch of its matches that starts at a rare character, with case spelled out; and the redaction
// with user rules that join the scan finds what each rule finds alone. Go's regexp checks that each
// stretch matches wherever its pattern does in test/regex-bounded-go.test.ts.

function spec(rules: string[], enable: string[] = []): RedactSpec {
	return {enable, disable: [], fields: [], mode: 'mask', rules: rules.map((r, i) => ({name: `r${i}`, pattern: r, from: '--redact-rule'}))};
}

describe('the stretch of a user rule the joined scan looks for', () => {
	it('starts at a rare character, spells case out, and cuts runs at the ends to their minimum', () => {
		expect(gateSource('tok_[a-z0-9]{24}')?.source).toBe(String.raw`k\x5f[a-z0-9]{24}`);
		expect(gateSource('(?i)customer_id=(\\d+)')?.source).toBe(String.raw`\x5f[iI][dD]\x3d[0-9]{1}`);
		expect(gateSource('(?i)api[_-]?key["\']?\\s*[:=]\\s*["\']?([A-Za-z0-9]{20,})')?.source).toBe(String.raw`[kK\u212a][eE][yY][\x22\x27]?`);
		expect(gateSource(String.raw`[a-z0-9-]+\.corp\.example\.com`)?.source).toBe(String.raw`xample\x2ecom`);
		expect(gateSource('(?i)zesk')?.source).toBe(String.raw`[zZ][eE][sS\u017f][kK\u212a]`);
	});

	it('is left out where nothing rare starts one, where it could match empty, or where it needs code points', () => {
		expect(gateSource(String.raw`\b\d{3}-\d{2}-\d{4}\b`)).toBeUndefined();
		expect(gateSource(String.raw`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`)).toBeUndefined();
		expect(gateSource('x?')).toBeUndefined();
		expect(gateSource('x[^a]')).toBeUndefined();
		expect(gateSource('(?i)é')).toBeUndefined();
	});

	it('the ten rules of the bench that join stay within one pattern\'s bounds together', () => {
		const gates = tenRules.map(r => gateSource(r.slice(r.indexOf('=') + 1))).filter(g => g !== undefined);
		expect(gates.length).toBe(8);
		// The figures core/redact-text.ts gives.
		expect(gates.reduce((sum, g) => sum + g.paths, 0)).toBe(57);
		expect(gates.reduce((sum, g) => sum + g.steps, 0)).toBe(978);
		expect(57).toBeLessThanOrEqual(maxPaths);
		expect(978).toBeLessThanOrEqual(maxSteps);
	});
});

describe('user rules in the joined scan', () => {
	it('are found at a built-in mark, inside what a built-in rule read, past it, and twice', () => {
		const rules = ['AKIA[0-9]{4}', 'key=(\\d+)', '(?i)x_id=(\\d+)', String.raw`\d{3}-\d{2}-\d{4}`, 'zz_[a-z]{3}'];
		const joined = new Redactor(spec(rules));
		expect(joined.redactLine('AKIA1234 and AKIAABCDEFGHIJKLMNOP')).toBe('[REDACTED:r0] and [REDACTED:aws-key]');
		expect(joined.redactLine('password=key=77 then key=5')).toBe('password=[REDACTED:password] then key=[REDACTED:r1]');
		expect(joined.redactLine('url https://u:zz_abc@host/ X_ID=9 x_id=10')).toBe('url https://u:[REDACTED:url-password]@host/ X_ID=[REDACTED:r2] x_id=[REDACTED:r2]');
		expect(joined.redactLine('https://u:p@zz_abc/ and zz_abd')).toBe('https://u:[REDACTED:url-password]@[REDACTED:r4]/ and [REDACTED:r4]');
		expect(joined.redactLine('nothing here')).toBe('nothing here');
		expect(joined.redactLine('123-45-6789 zz_abc zz_abd')).toBe('[REDACTED:r3] [REDACTED:r4] [REDACTED:r4]');
	});
});
