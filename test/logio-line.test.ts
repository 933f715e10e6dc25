import {describe, expect, test} from 'vitest';
import {LogioLineParser, type LogioRecord, formatLogioTime, logioPrefix, parseLogioLine, parseRfc3339} from '../source/core/logio-line.js';
import {parseHostPort} from '../source/config/logio.js';
import {compileLogioRegex} from '../source/sinks/logio-fanout.js';

const t0 = Date.UTC(2016, 11, 6, 22, 14, 21, 448);

describe('logio time formats', () => {
	test('the subscriber stamp is UTC with milliseconds truncated and no zone letter', () => {
		expect(formatLogioTime(t0)).toBe('2016-12-06T22:14:21.448');
		expect(logioPrefix(t0, 'myapp', 'web', 'i-10-34-20-12')).toBe('2016-12-06T22:14:21.448 myapp[web] i-10-34-20-12: ');
	});

	test('RFC 3339 publisher times, nanoseconds and offsets', () => {
		expect(parseRfc3339('2016-12-06T17:14:21.448912-05:00')).toBe(t0);
		expect(parseRfc3339('2016-12-06T22:14:21.448999999Z')).toBe(t0);
		expect(parseRfc3339('2016-12-06T22:14:21Z')).toBe(t0 - 448);
		expect(parseRfc3339('2016-12-07T03:44:21.448+05:30')).toBe(t0);
		expect(parseRfc3339('2016-02-29T00:00:00Z')).toBe(Date.UTC(2016, 1, 29));
	});

	test('repeated heads (the remembered second and zone) give the same answers as fresh ones', () => {
		const base = Date.UTC(2016, 11, 6, 22, 14, 21);
		const cases: Array<[string, number | undefined]> = [
			['2016-12-06T17:14:21.448912-05:00', base + 448],
			['2016-12-06T17:14:21.5-05:00', base + 500],
			['2016-12-06T17:14:21-05:00', base],
			['2016-12-06T17:14:21.999999999-05:00', base + 999],
			['2016-12-06T17:14:21.9999999999-05:00', undefined],
			['2016-12-06T17:14:21.-05:00', undefined],
			['2016-12-06T17:14:21.448+01:00', base + 448 - (6 * 3_600_000)],
			['2016-12-06T17:14:21.448-05:00junk', undefined],
			['2016-12-06T17:14:21.012-05:00', base + 12],
			['2016-12-06T17:14:21.012Z', base + 12 - (5 * 3_600_000)],
			['2016-12-06T17:14:21.1z', base + 100 - (5 * 3_600_000)],
		];
		for (const [text, want] of cases) {
			expect(parseRfc3339(text), text).toBe(want);
		}
	});

	test.each([
		'', 'bad', '2016-12-06', '2016-13-06T17:14:21Z', '2015-02-29T00:00:00Z', '2016-12-06T24:00:00Z',
		'2016-12-06T17:14:21', '2016-12-06T17:14:21.Z', '2016-12-06T17:14:21+25:00', ' 2016-12-06T17:14:21Z', '1481062461448',
	])('invalid time %j', text => {
		expect(parseRfc3339(text)).toBeUndefined();
	});

	test('[host:]port', () => {
		expect(parseHostPort('7701')).toEqual({host: '127.0.0.1', port: 7701});
		expect(parseHostPort(':7702')).toEqual({host: '127.0.0.1', port: 7702});
		expect(parseHostPort('0.0.0.0:0')).toEqual({host: '0.0.0.0', port: 0});
		expect(parseHostPort('[::1]:7701')).toEqual({host: '::1', port: 7701});
		expect(parseHostPort('17701')).toEqual({host: '127.0.0.1', port: 17_701});
		expect(() => parseHostPort('host:99999')).toThrow(/expected \[host:\]port/);
	});
});

describe('logio subscriber lines', () => {
	test('a line splits into time, app, proc, host and raw', () => {
		expect(parseLogioLine('2016-12-06T22:14:21.448 myapp[web] i-10-34-20-12: 2016/12/06 17:14:21 INFO This is a web log', 0)).toEqual({
			time: t0, app: 'myapp', proc: 'web', host: 'i-10-34-20-12', raw: '2016/12/06 17:14:21 INFO This is a web log', badTime: false,
		});
		// Empty fields are allowed: the topic keys are optional.
		expect(parseLogioLine('2016-12-06T22:14:21.448 [] : x', 0)).toMatchObject({app: '', proc: '', host: '', raw: 'x'});
		expect(parseLogioLine('   at com.example.Foo(Foo.java:10)', 0)).toBeUndefined();
		expect(parseLogioLine('2016-13-06T22:14:21.448 a[b] c: x', 5)).toMatchObject({time: 5, badTime: true});
	});

	const stream = [
		'2016-12-06T22:14:21.448 myapp[web] host-1: first ünïcödé 🎉\n',
		'2016-12-06T22:14:21.449 myapp[worker] host-2: Traceback (most recent call last):\n  File "x.py", line 1\nValueError: boom\n',
		'2016-12-06T22:14:21.450 other[web] host-1: last\n',
	].join('');
	const want: Array<Partial<LogioRecord>> = [
		{app: 'myapp', proc: 'web', host: 'host-1', raw: 'first ünïcödé 🎉', time: t0},
		{app: 'myapp', proc: 'worker', host: 'host-2', raw: 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: boom', time: t0 + 1},
		{app: 'other', proc: 'web', host: 'host-1', raw: 'last', time: t0 + 2},
	];

	function parseAll(chunks: Buffer[]): LogioRecord[] {
		const p = new LogioLineParser();
		const out: LogioRecord[] = [];
		for (const c of chunks) {
			out.push(...p.push(c, 0));
		}

		out.push(...p.end(0));
		return out;
	}

	test('continuation lines attach to the previous record; the last is held until the end', () => {
		const p = new LogioLineParser();
		const first = p.push(Buffer.from(stream), 0);
		expect(first.map(r => r.raw)).toEqual([want[0]!.raw, want[1]!.raw]);
		expect(p.holding).toBe(true);
		expect(p.flush()).toMatchObject([want[2]!]);
	});

	test('every split point, inside lines and inside UTF-8 characters', () => {
		const bytes = Buffer.from(stream);
		for (let i = 0; i <= bytes.length; i++) {
			const got = parseAll([bytes.subarray(0, i), bytes.subarray(i)]);
			expect(got, `split at ${i}`).toHaveLength(3);
			got.forEach((r, k) => {
				expect(r, `split at ${i}`).toMatchObject(want[k]!);
			});
		}
	});

	test('a continuation after its record was released keeps the record\'s head', () => {
		const p = new LogioLineParser();
		p.push(Buffer.from('2016-12-06T22:14:21.448 a[b] c: one\n'), 0);
		expect(p.flush()).toHaveLength(1);
		p.push(Buffer.from('  more of one\n'), 0);
		expect(p.flush()).toMatchObject([{app: 'a', proc: 'b', host: 'c', raw: '  more of one', orphan: false, time: t0}]);
	});

	test('a line with no record before it is an orphan', () => {
		expect(parseAll([Buffer.from('garbage\n')])).toMatchObject([{raw: 'garbage', orphan: true, app: ''}]);
	});

	test('a record over the cap is cut and the cut counted', () => {
		const p = new LogioLineParser(100);
		p.push(Buffer.from(`2016-12-06T22:14:21.448 a[b] c: x\n${'y'.repeat(60)}\n${'z'.repeat(60)}\n`), 0);
		const [r] = p.flush();
		expect(r!.raw).toBe(`x\n${'y'.repeat(60)}`);
		expect(r!.truncated).toBe(61);
	});
});

describe('logio subscription regexes', () => {
	test('unanchored, case-sensitive unless (?i), empty matches all', () => {
		expect(compileLogioRegex('', 'app')).toBeUndefined();
		const web = compileLogioRegex('web', 'app')!;
		expect(['webapp', 'myweb', 'Web'].map(s => web.test(s))).toEqual([true, true, false]);
		expect(compileLogioRegex('(?i)web', 'app')!.test('WEB')).toBe(true);
		expect(compileLogioRegex('web|worker', 'proc')!.test('worker-2')).toBe(true);
		// RE2 $ without (?m) is the end of the text, so a raw ending in \n does not match ERROR$.
		expect(compileLogioRegex('ERROR$', 'log')!.test('boom ERROR\n')).toBe(false);
		expect(compileLogioRegex('(?m)ERROR$', 'log')!.test('boom ERROR\n')).toBe(true);
		expect(compileLogioRegex('(?P<w>web)', 'app')!.test('web')).toBe(true);
	});

	test('an invalid regex is an error naming the parameter', () => {
		expect(() => compileLogioRegex('(', 'app')).toThrow(/^app: invalid regular expression "\(": /);
		expect(() => compileLogioRegex('(a)\\1', 'log')).toThrow(/backreferences/);
	});
});
