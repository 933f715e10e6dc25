import {describe, expect, test} from 'vitest';
import {matchPath, matchSegment, mayHoldMatches, parseGlob} from '../../source/core/glob.js';

describe('globs', () => {
	test('a path without wildcards is one file, named', () => {
		expect(parseGlob('/var/log/app.log')).toMatchObject({literal: true, base: '/var/log/app.log'});
		expect(parseGlob('/var/log/nginx/*.log')).toMatchObject({literal: false, base: '/var/log/nginx', segments: ['*.log']});
		expect(parseGlob('logs/**/x?.txt')).toMatchObject({base: 'logs', segments: ['**', 'x?.txt']});
		expect(parseGlob('*.log')).toMatchObject({base: '.', segments: ['*.log']});
	});

	test('* ? and classes within one segment; dot files need a dot', () => {
		expect(matchSegment('*.log', 'access.log')).toBe(true);
		expect(matchSegment('*.log', 'access.log.1')).toBe(false);
		expect(matchSegment('*.log*', 'access.log.1')).toBe(true);
		expect(matchSegment('*.log', '.hidden.log')).toBe(false);
		expect(matchSegment('.*.log', '.hidden.log')).toBe(true);
		expect(matchSegment('app-?.log', 'app-1.log')).toBe(true);
		expect(matchSegment('app-?.log', 'app-12.log')).toBe(false);
		expect(matchSegment('app-[0-9].log', 'app-7.log')).toBe(true);
		expect(matchSegment('app-[!0-9].log', 'app-7.log')).toBe(false);
		expect(matchSegment('app-[!0-9].log', 'app-x.log')).toBe(true);
		expect(matchSegment('app-[^a].log', 'app-b.log')).toBe(true);
		expect(matchSegment('[]x].log', ']x'.slice(0, 1) + '.log')).toBe(true);
		expect(matchSegment('a[b', 'a[b')).toBe(true); // an unclosed class is plain text
		expect(matchSegment('*a*b*c', 'xxaxxbxxc')).toBe(true);
		expect(matchSegment('*a*b*c', 'xxaxxbxx')).toBe(false);
	});

	test('many stars on a long name stay cheap', () => {
		const name = 'a'.repeat(255);
		expect(matchSegment('*a*a*a*a*a*a*a*a*b', name)).toBe(false);
	});

	test('** spans any number of directories, none hidden', () => {
		const g = parseGlob('/srv/**/*.log');
		expect(matchPath(g, '/srv/a.log')).toBe(true);
		expect(matchPath(g, '/srv/x/y/z/a.log')).toBe(true);
		expect(matchPath(g, '/srv/.cache/a.log')).toBe(false);
		expect(matchPath(g, '/other/a.log')).toBe(false);
		expect(matchPath(parseGlob('/srv/*/log/*.log'), '/srv/web/log/a.log')).toBe(true);
		expect(matchPath(parseGlob('/srv/*/log/*.log'), '/srv/web/x/log/a.log')).toBe(false);
		expect(matchPath(parseGlob('/var/log/app.log'), '/var/log/app.log')).toBe(true);
	});

	test('a directory made later may hold matches when it matches the leading segments', () => {
		const services = parseGlob('/srv/*/logs/*.log');
		expect(mayHoldMatches(services, '/srv/billing')).toBe(true);
		expect(mayHoldMatches(services, '/srv/billing/logs')).toBe(true);
		expect(mayHoldMatches(services, '/srv/billing/cache')).toBe(false);
		expect(mayHoldMatches(services, '/srv/billing/logs/old')).toBe(false);
		expect(mayHoldMatches(services, '/elsewhere/billing')).toBe(false);
		const deep = parseGlob('/var/log/app/**/*.log');
		expect(mayHoldMatches(deep, '/var/log/app/2026/12')).toBe(true);
		expect(mayHoldMatches(deep, '/var/log/app/.cache')).toBe(false);
		expect(mayHoldMatches(parseGlob('/var/log/*.log'), '/var/log/nginx')).toBe(false);
		expect(mayHoldMatches(parseGlob('/var/log/app.log'), '/var/log')).toBe(false);
	});
});
