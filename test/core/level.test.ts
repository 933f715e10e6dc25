import {readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {detectLevel, levelFromField, levelFromText} from '../../source/core/level.js';
import {corpus} from '../support/logmon.js';

function lines(file: string): string[] {
	return readFileSync(path.join(corpus, file), 'utf8').split('\n').filter(Boolean);
}

function counts(file: string): Record<string, number> {
	const out: Record<string, number> = {};
	for (const line of lines(file)) {
		const level = detectLevel({text: line});
		out[level] = (out[level] ?? 0) + 1;
	}

	return out;
}

describe('level detection on real logs (loghub)', () => {
	it('Apache error log: [error] and [notice] brackets', () => {
		const all = lines('Apache_2k.log');
		const expected = (l: string): string => (l.includes('] [error] ') ? 'ERROR' : l.includes('] [notice] ') ? 'NOTICE' : l.includes('] [warn] ') ? 'WARN' : 'INFO');
		for (const line of all) {
			expect(detectLevel({text: line}), line).toBe(expected(line));
		}

		expect(counts('Apache_2k.log')['ERROR']).toBeGreaterThan(500);
	});

	it('Zookeeper (Log4j "- LEVEL  [")', () => {
		for (const line of lines('Zookeeper_2k.log')) {
			const token = / - (INFO|WARN|ERROR|DEBUG) /.exec(line)?.[1];
			expect(detectLevel({text: line}), line).toBe(token ?? 'INFO');
		}
	});

	it('Hadoop, HDFS, Spark, OpenStack: Java/Python logger prefixes', () => {
		for (const file of ['Hadoop_2k.log', 'HDFS_2k.log', 'Spark_2k.log', 'OpenStack_2k.log']) {
			for (const line of lines(file)) {
				const token = / (INFO|WARN|WARNING|ERROR|FATAL|DEBUG) /.exec(line)?.[1];
				const want = token === 'FATAL' ? 'CRITICAL' : token === 'WARNING' ? 'WARN' : token;
				expect(detectLevel({text: line}), `${file}: ${line}`).toBe(want);
			}
		}
	});

	it('BGL: the level column, not words later in the message', () => {
		for (const line of lines('BGL_2k.log')) {
			const token = / (INFO|WARNING|SEVERE|ERROR|FATAL|FAILURE) /.exec(line)?.[1];
			if (token === 'INFO') {
				// "INFO instruction cache parity error corrected" stays INFO.
				expect(detectLevel({text: line}), line).toBe('INFO');
			}

			if (token === 'FATAL') {
				expect(detectLevel({text: line}), line).toBe('CRITICAL');
			}
		}

		expect(counts('BGL_2k.log')['CRITICAL']).toBeGreaterThan(0);
	});

	it('formats without levels stay INFO', () => {
		expect(counts('HealthApp_2k.log')).toEqual({INFO: 2000});
		expect(Object.keys(counts('OpenSSH_2k.log'))).toEqual(['INFO']);
	});
});

describe('level detection rules', () => {
	it('structured fields: names and numbers', () => {
		expect(levelFromField('warning')).toBe('WARN');
		expect(levelFromField('ERROR')).toBe('ERROR');
		expect(levelFromField('fatal')).toBe('CRITICAL');
		expect(levelFromField(3)).toBe('ERROR'); // syslog err
		expect(levelFromField(4)).toBe('WARN');
		expect(levelFromField(7)).toBe('DEBUG');
		expect(levelFromField('2')).toBe('CRITICAL');
		expect(levelFromField(40)).toBe('ERROR'); // Python logging
		expect(levelFromField(20)).toBe('INFO');
		expect(levelFromField(60)).toBe('CRITICAL'); // pino fatal
		expect(levelFromField('chatty')).toBeUndefined();
	});

	it('trust order: field, then HTTP status, then text, then log type', () => {
		expect(detectLevel({field: 'info', status: 500, text: 'ERROR x'})).toBe('INFO');
		expect(detectLevel({status: 503, text: 'GET /'})).toBe('ERROR');
		expect(detectLevel({status: 404, text: 'GET /'})).toBe('WARN');
		expect(detectLevel({status: 200, text: 'GET /'})).toBe('INFO');
		expect(detectLevel({type: 'php-error', text: 'something broke'})).toBe('ERROR');
		expect(detectLevel({type: 'apache-error', text: '[Sun Dec 04 04:47:44 2005] [notice] ok'})).toBe('NOTICE');
		expect(detectLevel({text: 'nothing to see'})).toBe('INFO');
	});

	it('common text formats', () => {
		expect(levelFromText('Aug 12 19:29:18 staging-21435 massgovdev[17842]: http://default|1597260558|bar|ERROR|127.0.0.1|http://default/||0||foo')).toBe('ERROR');
		expect(levelFromText('x|1597260558|cron|WARNING|127.0.0.1|y||0||z')).toBe('WARN');
		expect(levelFromText('ERROR:root:database unreachable')).toBe('ERROR');
		expect(levelFromText('E0102 15:04:05.000000   123 main.go:42] failed')).toBe('ERROR');
		expect(levelFromText('W0102 15:04:05.000000   123 main.go:42] slow')).toBe('WARN');
		expect(levelFromText('time=2024-01-01T00:00:00Z level=warn msg="disk"')).toBe('WARN');
		expect(levelFromText('PHP Fatal error:  Uncaught Exception in /var/www/x.php:3')).toBe('CRITICAL');
		expect(levelFromText('PHP Warning:  Undefined variable $x')).toBe('WARN');
		expect(levelFromText('2024-01-01 12:00:00,123 FATAL [main] boom')).toBe('CRITICAL');
		expect(levelFromText('an error in lower case is not a level')).toBeUndefined();
		expect(levelFromText("ts=1 lvl='Error' msg=x")).toBe('ERROR');
		expect(levelFromText('severity="CRIT" msg=x')).toBe('CRITICAL');
		expect(levelFromText('[Sun Dec 04 04:47:44 2005] [emerg] down')).toBe('CRITICAL');
		expect(levelFromText('PHP Parse error:  syntax error')).toBe('CRITICAL');
		expect(levelFromText('|EMERGENCY| disk')).toBe('CRITICAL');
	});

	it('a name that Object.prototype holds is no level', () => {
		for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
			expect(levelFromText(`level=${name} msg=x`)).toBeUndefined();
			expect(levelFromField(name)).toBeUndefined();
		}
	});
});
