import {describe, expect, it} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {compileFilter, compileUserRegex, describeFilter, emptySpec, type FilterSpec, FilterError, parseFilterExpression} from '../../source/core/filter.js';

function ev(over: Partial<LogEvent> = {}): LogEvent {
	return {seq: 1, time: 0, receivedAt: 0, sourceId: 'kafka', sourceKind: 'kafka', service: 'api', host: 'web-1', proc: '', type: 'app', level: 'INFO', message: 'GET /health 200', raw: '', ...over};
}

function spec(over: Partial<FilterSpec>): FilterSpec {
	return {...emptySpec(), ...over};
}

describe('filters', () => {
	it('grep: any include may match; exclude wins', () => {
		const f = compileFilter(spec({grep: ['timeout', 'refused'], exclude: ['health']}));
		expect(f.test(ev({message: 'db timeout'}))).toBe(true);
		expect(f.test(ev({message: 'connection refused'}))).toBe(true);
		expect(f.test(ev({message: 'all fine'}))).toBe(false);
		expect(f.test(ev({message: 'health check timeout'}))).toBe(false);
	});

	it('level at or above', () => {
		const f = compileFilter(spec({minLevel: 'WARN'}));
		expect(f.test(ev({level: 'INFO'}))).toBe(false);
		expect(f.test(ev({level: 'WARN'}))).toBe(true);
		expect(f.test(ev({level: 'CRITICAL'}))).toBe(true);
	});

	it('services, hosts, types and sources compose', () => {
		const f = compileFilter(spec({services: ['api', 'web'], hosts: ['web-1'], types: ['app'], sources: ['kafka'], minLevel: 'INFO', grep: ['GET']}));
		expect(f.test(ev())).toBe(true);
		expect(f.test(ev({service: 'db'}))).toBe(false);
		expect(f.test(ev({host: 'web-2'}))).toBe(false);
		expect(f.test(ev({type: 'php-error'}))).toBe(false);
		expect(f.test(ev({sourceId: 'stdin'}))).toBe(false);
		expect(f.test(ev({level: 'DEBUG'}))).toBe(false);
	});

	it('hidden sets (UI toggles) remove what they name', () => {
		const f = compileFilter(spec({hideServices: ['api'], hideLevels: ['DEBUG']}));
		expect(f.test(ev())).toBe(false);
		expect(f.test(ev({service: 'web'}))).toBe(true);
		expect(f.test(ev({service: 'web', level: 'DEBUG'}))).toBe(false);
	});

	it('"only these" lists (a toggles section switched off) pass what they name, and nothing when empty', () => {
		const none = compileFilter(spec({onlyServices: []}));
		expect(none.all).toBe(false);
		expect(none.test(ev())).toBe(false);
		expect(none.test(ev({service: 'svc-0999'}))).toBe(false);
		const some = compileFilter(spec({onlyServices: ['web'], onlyHosts: ['web-1', 'web-2'], onlyTypes: ['app']}));
		expect(some.test(ev({service: 'web'}))).toBe(true);
		expect(some.test(ev())).toBe(false);
		expect(some.test(ev({service: 'web', host: 'web-3'}))).toBe(false);
		expect(some.test(ev({service: 'web', type: 'php-error'}))).toBe(false);
		// A source switched off hides its gap markers too, as a hidden source does.
		const sources = compileFilter(spec({onlySources: ['stdin']}));
		expect(sources.test(ev({marker: 'gap'}))).toBe(false);
		expect(sources.test(ev({marker: 'gap', sourceId: 'stdin'}))).toBe(true);
		expect(describeFilter(spec({onlyServices: [], onlyHosts: ['a'], onlyTypes: ['a', 'b']}))).toBe('no services only 1 host only 2 types');
	});

	it('gap markers pass everything but a source filter', () => {
		const f = compileFilter(spec({minLevel: 'ERROR', grep: ['nomatch']}));
		expect(f.test(ev({marker: 'gap', level: 'WARN'}))).toBe(true);
		expect(compileFilter(spec({sources: ['other']})).test(ev({marker: 'gap'}))).toBe(false);
	});

	it('an empty filter says so, for the fast path', () => {
		expect(compileFilter(emptySpec()).all).toBe(true);
		expect(compileFilter(spec({grep: ['x']})).all).toBe(false);
	});

	it('invalid regexes and backreferences give an error naming the flag', () => {
		expect(() => compileFilter(spec({grep: ['(unclosed']}))).toThrow(/^--grep: invalid regular expression "\(unclosed"/);
		expect(() => compileFilter(spec({exclude: ['[z-a]']}))).toThrow(/^--exclude: /);
		expect(() => compileUserRegex('(a)\\1', '--grep')).toThrow(FilterError);
		expect(() => compileUserRegex('(?<x>a)\\k<x>', '--grep')).toThrow(/backreferences/);
		expect(() => compileUserRegex('foo(?=bar)', '--grep')).toThrow(/lookarounds are not supported/);
		expect(() => compileUserRegex('\\\\1', '--grep')).not.toThrow(); // an escaped backslash then 1
	});

	it('(?i) makes a pattern case-insensitive', () => {
		expect(compileUserRegex('(?i)error', '--grep').test('ERROR')).toBe(true);
	});

	it('a catastrophic pattern cannot freeze logmon (linear-time fallback)', () => {
		const f = compileFilter(spec({grep: ['^(a+)+$']}));
		// Without the fallback this takes minutes; with it, it returns. No timing assertion: finishing is the test.
		expect(f.test(ev({message: 'a'.repeat(40) + '!'}))).toBe(false);
		expect(f.test(ev({message: 'a'.repeat(40)}))).toBe(true);
	});
});

describe('the filter prompt', () => {
	it('parses regex, !regex, level>=, service= and friends into the same spec', () => {
		const s = parseFilterExpression('timeout !health level>=warn service=api host=web-1 type=php-error source=kafka');
		expect(s.grep).toEqual(['timeout']);
		expect(s.exclude).toEqual(['health']);
		expect(s.minLevel).toBe('WARN');
		expect(s.services).toEqual(['api']);
		expect(s.hosts).toEqual(['web-1']);
		expect(s.types).toEqual(['php-error']);
		expect(s.sources).toEqual(['kafka']);
	});

	it('quotes keep spaces inside one term', () => {
		const s = parseFilterExpression('"connection refused" !\'GET /health\' service="web shop"');
		expect(s.grep).toEqual(['connection refused']);
		expect(s.exclude).toEqual(['GET /health']);
		expect(s.services).toEqual(['web shop']);
	});

	it('rejects a bad regex or level with a clear error', () => {
		expect(() => parseFilterExpression('(')).toThrow(/filter: invalid regular expression/);
		expect(() => parseFilterExpression('level>=loud')).toThrow(/unknown level "loud"/);
	});

	it('rejects a quote never closed and a key or ! with nothing after it, which would filter by something else silently', () => {
		expect(() => parseFilterExpression('"disk full')).toThrow('filter: a " with no closing "');
		expect(() => parseFilterExpression('timeout \'GET /x')).toThrow('filter: a \' with no closing \'');
		expect(() => parseFilterExpression('service=')).toThrow('filter: "service=" needs a value after it (service="" for none)');
		expect(() => parseFilterExpression('x level>=')).toThrow(/"level>=" needs a value/);
		expect(() => parseFilterExpression('!')).toThrow('filter: "!" needs a pattern after it');
		// Said outright, none is a value: events with no host.
		expect(parseFilterExpression('host="" "it\'s"').hosts).toEqual(['']);
		expect(parseFilterExpression('host="" "it\'s"').grep).toEqual(['it\'s']);
		// An apostrophe between letters is part of the word; quotes after it still quote.
		expect(parseFilterExpression('can\'t \'GET /x\' service=\'web shop\'')).toMatchObject({grep: ['can\'t', 'GET /x'], services: ['web shop']});
	});
});
