import {expect, test} from 'vitest';
import {Redactor} from '../../source/core/redact.js';

// Redaction runs on every line from strangers, so no input may make it slow. Each built-in rule
// gets the inputs that would make a careless matcher quadratic (its mark repeated, marks without
// their end, endless runs of what a secret is made of), and a user rule gets patterns that
// backtrack for minutes in V8. Time is checked against a linear reference pass over the same
// input, never against a clock alone (as in test/core/regex.test.ts).

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

const size = 1 << 20;

function fill(unit: string): string {
	return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

const hostile = [
	fill('AKIA'), 'AKIA' + fill('A'), fill('secret_access_key='), 'aws_secret_access_key = ' + fill('/'), fill('secretkey'), fill('KEY: '), fill('secret-access-'),
	fill('authorization'), 'Authorization: ' + fill('a'), fill('Authorization: Basic '),
	fill('Bearer '), 'bearer ' + fill('x1'), fill('eyJ'), fill('eyJa.'), fill('eyJabcd.eyJabcd'), 'eyJ' + fill('a'),
	fill('ghp_'), 'ghp_' + fill('a'), fill('github_pat_'), fill('glpat-'), fill('xoxb-'), fill('hooks.slack.com/'),
	fill('-----BEGIN RSA PRIVATE KEY-----'), '-----BEGIN RSA PRIVATE KEY-----' + fill('-----END '),
	fill('a://'), fill('//'), fill('a://b:c'), 'a://' + fill(':') + '@', fill('a://b:c@'),
	fill('password='), fill('password="'), fill('password="\\'), fill('password=\''), fill('"password":'), fill('pass '), 'password=' + fill('x'),
	fill('4111 '), fill('1 '), fill('1111-'), fill('4'), fill('4111 1111 1111 1111 '), fill('12 '), fill('0'),
	fill('@'), fill('a@'), fill('a.') + '@' + fill('b.'), fill('1.'), fill('1.1.1.1.'), fill('::'), fill('1:'), fill('f:f:'), fill('12:34:'),
];

test('every built-in rule runs in linear time on hostile 1 MiB lines', () => {
	const r = new Redactor({enable: ['email', 'ip'], disable: [], rules: [], fields: [], mode: 'mask'});
	for (const text of hostile) {
		const linear = reference(text);
		const took = elapsed(() => r.redactLine(text));
		expect(took, `${JSON.stringify(text.slice(0, 24))}…: ${took.toFixed(0)} ms against ${linear.toFixed(1)} ms for one pass`).toBeLessThan((linear * 2000) + 5000);
	}
});

test('a user rule with a pathological pattern runs in linear time (RE2), the prefilter too', () => {
	const line = 'x'.repeat(size);
	const foo = 'foo '.repeat(size / 4);
	const linear = Math.max(reference(line), reference(foo));
	for (const pattern of ['(x+x+)+y', '(.*a){12}', '.*foo.*bar', 'x*x*x*x*x*y', '(?i)x+x+y']) {
		const r = new Redactor({enable: [], disable: [], rules: [{name: 'user', pattern, from: '--redact-rule'}], fields: [], mode: 'mask'});
		const took = elapsed(() => {
			r.redactLine(line);
			r.redactLine(foo);
		});
		expect(took, `${pattern}: ${took.toFixed(0)} ms against ${linear.toFixed(1)} ms for one pass`).toBeLessThan((linear * 2000) + 5000);
	}
});

test('user rules that run on V8 (bounded, or a bounded start and one run at the end) stay linear on hostile 1 MiB lines', () => {
	const rules = [
		String.raw`\b\d{3}-\d{2}-\d{4}\b`, String.raw`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`, String.raw`\+\d{1,3}[ -]?\d{6,12}`, 'tok_[a-z0-9]{24}',
		String.raw`(?i)customer_id=(\d+)`, '(?i)session(?:_id)?=([A-Za-z0-9]{16,})', '(?i)passport(?:_no)?=([A-Z0-9]{6,9})',
	].map((pattern, i) => ({name: `user${i}`, pattern, from: '--redact-rule'}));
	const r = new Redactor({enable: [], disable: [], rules, fields: [], mode: 'mask'});
	const texts = [
		fill('123-45-678'), fill('1'), fill('AB12'), 'AB12' + fill('A'), fill('A1'), fill('+1 12345'), fill('+'), fill('tok_'), 'tok_' + fill('a'),
		fill('customer_id='), 'customer_id=' + fill('1'), fill('session='), 'session=' + fill('a'), fill('session_id=abcdefghijklmno '), fill('passport_no=A'),
	];
	for (const text of texts) {
		const linear = reference(text);
		const took = elapsed(() => r.redactLine(text));
		expect(took, `${JSON.stringify(text.slice(0, 24))}…: ${took.toFixed(0)} ms against ${linear.toFixed(1)} ms for one pass`).toBeLessThan((linear * 2000) + 5000);
	}
});

test('the joined scan of the built-in marks and the ten user rules of the bench stays linear on hostile 1 MiB lines', async () => {
	const {tenRules} = await import('../../bench/cases/redact.js');
	const rules = tenRules.map(r => ({name: r.slice(0, r.indexOf('=')), pattern: r.slice(r.indexOf('=') + 1), from: '--redact-rule'}));
	const r = new Redactor({enable: [], disable: [], rules, fields: [], mode: 'mask'});
	const texts = [
		fill('k_'), 'tok_' + fill('a'), fill('_live_'), fill('_id='), fill('_ID=1'), fill('='), '=' + fill('a'), fill('key'), fill('KEY"'), fill('api_key: '),
		fill('xample.com'), fill('a.corp.example.com'), 'a' + fill('-') + '.corp.example.com', fill('passport='), fill('PASSPORT_NO=A'), fill('+1 '), fill('+123'),
		fill('//key=AKIA'), fill('password=k_'),
	];
	for (const text of texts) {
		const linear = reference(text);
		const took = elapsed(() => r.redactLine(text));
		expect(took, `${JSON.stringify(text.slice(0, 24))}…: ${took.toFixed(0)} ms against ${linear.toFixed(1)} ms for one pass`).toBeLessThan((linear * 2000) + 5000);
	}
});
