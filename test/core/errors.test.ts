import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {ErrorGroups, FingerprintCache, fingerprint, isErrorEvent, varyingParts} from '../../source/core/errors.js';
import {gapEvent} from '../../source/core/event.js';
import {event, otherDigits} from '../support/events.js';
import {root} from '../support/logmon.js';

describe('fingerprint', () => {
	test.each([
		['timeout after 3000 ms', 'timeout after <n> ms'],
		['user 42 not found', 'user <n> not found'],
		['request 3f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f failed', 'request <uuid> failed'],
		['connect to 10.0.3.17:5432 refused', 'connect to <ip> refused'],
		['peer fe80::1ff:fe23:4567:890a gone', 'peer <ip> gone'],
		['bad pointer 0xdeadbeef', 'bad pointer <hex>'],
		['commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 missing', 'commit <hex> missing'],
		['cannot open /var/www/html/index.php', 'cannot open <path>'],
		['block blk_-1608999687919862906 lost', 'block <id> lost'],
		['fetch https://api.example.com/v1/users?id=7 failed', 'fetch <url> failed'],
	])('%s', (message, expected) => {
		expect(fingerprint(message)).toBe(expected);
	});

	test('messages that differ only in varying parts share a fingerprint', () => {
		expect(fingerprint('PHP Fatal error: Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /srv/a.php on line 12'))
			.toBe(fingerprint('PHP Fatal error: Allowed memory size of 268435456 bytes exhausted (tried to allocate 64 bytes) in /srv/lib/b.php on line 900'));
	});

	test('timestamps are masked as one, words are kept', () => {
		expect(fingerprint('at 12:34:56 the worker died')).toBe('at <time> the worker died');
		expect(fingerprint('[Mon Dec 05 19:14:09 2005] [error] mod_jk child in error state 6')).toBe('[<time>] [error] mod_jk child in error state <n>');
		expect(fingerprint('2015-10-18 18:01:47,978 WARN job 12 failed')).toBe('<time> WARN job <n> failed');
		expect(fingerprint('Dec 10 06:55:46 LabSZ sshd[24200]: error')).toBe('<time> LabSZ sshd[<n>]: error');
	});
});

describe('fingerprint whitespace', () => {
	test.each([
		['  worker   died  ', 'worker died'],
		['worker\tdied\n', 'worker died'],
		['worker \t died', 'worker died'],
		['worker\u00A0died\u3000now', 'worker died now'],
		['a b c', 'a b c'],
		['', ''],
	])('%j', (message, expected) => {
		expect(fingerprint(message)).toBe(expected);
	});

	test('a cache of recent messages gives what fingerprint gives', () => {
		const cache = new FingerprintCache(2);
		const messages = ['timeout after 3000 ms', 'user 42 not found', 'timeout after 3000 ms', 'x'.repeat(400) + ' 12', 'a 1', 'b 2', 'timeout after 3000 ms'];
		for (const m of [...messages, ...messages]) {
			expect(cache.get(m)).toBe(fingerprint(m));
		}
	});
});

describe('varyingParts', () => {
	test('are where the fingerprint masks, so a view can show the message with them dimmed', () => {
		const message = '[10/Dec/2023:06:55:46 +0000] user 42 timed out after 3000 ms on 10.0.3.17:5432';
		const parts = varyingParts(message);
		expect(parts.map(p => [p.kind, message.slice(p.start, p.end)])).toEqual([
			['time', '10/Dec/2023:06:55:46 +0000'],
			['num', '42'],
			['num', '3000'],
			['ip', '10.0.3.17:5432'],
		]);
		expect(fingerprint(message)).toBe('[<time>] user <n> timed out after <n> ms on <ip>');
	});

	test('only within the fingerprinted prefix', () => {
		expect(varyingParts('x'.repeat(400) + ' 42')).toEqual([]);
	});
});

describe('isErrorEvent', () => {
	test('levels, 5xx and error types', () => {
		expect(isErrorEvent(event({level: 'ERROR'}))).toBe(true);
		expect(isErrorEvent(event({level: 'CRITICAL'}))).toBe(true);
		expect(isErrorEvent(event({level: 'WARN'}))).toBe(false);
		expect(isErrorEvent(event({status: 503}))).toBe(true);
		expect(isErrorEvent(event({status: 404}))).toBe(false);
		expect(isErrorEvent(event({type: 'php-error'}))).toBe(true);
		expect(isErrorEvent(event({type: 'apache-error'}))).toBe(true);
		expect(isErrorEvent(event({type: 'apache-request'}))).toBe(false);
		expect(isErrorEvent(gapEvent('s', 'stdin', 0, 1))).toBe(false);
	});
});

describe('ErrorGroups', () => {
	test('groups by fingerprint with count, seen times, services and latest', () => {
		const groups = new ErrorGroups();
		const t = 1_700_000_000_000;
		groups.add([
			event({level: 'ERROR', message: 'timeout after 30 ms', service: 'api', receivedAt: t}),
			event({level: 'INFO', message: 'fine'}),
			event({level: 'ERROR', message: 'timeout after 45 ms', service: 'worker', receivedAt: t + 5000}),
			event({level: 'CRITICAL', message: 'disk full', service: 'db', receivedAt: t + 6000}),
		]);
		const last = event({level: 'ERROR', message: 'timeout after 99 ms', service: 'api', receivedAt: t + 20_000});
		groups.add([last]);

		expect(groups.total).toBe(4);
		const list = groups.list();
		expect(list.map(g => g.fingerprint)).toEqual(['timeout after <n> ms', 'disk full']);
		const timeout = list[0]!;
		expect(timeout.count).toBe(3);
		expect(timeout.firstSeen).toBe(t);
		expect(timeout.lastSeen).toBe(t + 20_000);
		expect([...timeout.services]).toEqual(['api', 'worker']);
		expect(timeout.latest).toBe(last);
		expect(groups.list('count').map(g => g.count)).toEqual([3, 1]);
		expect(list[1]!.level).toBe('CRITICAL');
	});

	test('the histogram feeds a sparkline', () => {
		const groups = new ErrorGroups({buckets: 4, bucketMs: 1000});
		const t = 1_700_000_000_000;
		groups.add([
			event({level: 'ERROR', message: 'x', receivedAt: t}),
			event({level: 'ERROR', message: 'x', receivedAt: t + 2000}),
			event({level: 'ERROR', message: 'x', receivedAt: t + 2100}),
		]);
		expect(groups.get('x')!.histogram.series(t + 3000)).toEqual([1, 0, 2, 0]);
	});

	test('bounded: the least recently seen group is evicted', () => {
		const groups = new ErrorGroups({maxGroups: 3});
		for (const word of ['alpha', 'beta', 'gamma']) {
			groups.add([event({level: 'ERROR', message: `${word} broke`})]);
		}

		groups.add([event({level: 'ERROR', message: 'alpha broke'})]); // alpha is now the most recent
		groups.add([event({level: 'ERROR', message: 'delta broke'})]);
		expect(groups.size).toBe(3);
		expect(groups.evicted).toBe(1);
		expect(groups.get('beta broke')).toBeUndefined();
		expect(groups.list().map(g => g.fingerprint)).toEqual(['delta broke', 'alpha broke', 'gamma broke']);
	});

	test('the services list is bounded too', () => {
		const groups = new ErrorGroups({maxServices: 2});
		groups.add(['a', 'b', 'c'].map(service => event({level: 'ERROR', message: 'x', service})));
		const g = groups.get('x')!;
		expect(g.services.size).toBe(2);
		expect(g.moreServices).toBe(true);
	});
});

describe('what a group keeps of its latest event', () => {
	test('whole up to 32 Ki characters; past that a copy cut there that says how much more there was, without its record', () => {
		const groups = new ErrorGroups();
		const short = event({level: 'ERROR', message: 'disk full', record: {message: 'disk full'}});
		groups.add([short]);
		expect(groups.list()[0]!.latest).toBe(short);
		// The cut never parts a surrogate pair.
		const message = `${'e'.repeat(32 * 1024 - 1)}\u{1F600}${'e'.repeat(1 << 20)}`;
		groups.add([event({level: 'ERROR', message, raw: message, record: {message}})]);
		const latest = groups.list()[0]!.latest;
		expect(latest.message).toBe(`${'e'.repeat(32 * 1024 - 1)}… (${message.length - (32 * 1024) + 1} more characters)`);
		expect(latest.raw).toBe(latest.message);
		expect(latest.record).toBeUndefined();
		expect(latest.level).toBe('ERROR');
	});
});

describe('fingerprint and varyingParts agree', () => {
	const masks = {time: '<time>', uuid: '<uuid>', url: '<url>', ip: '<ip>', hex: '<hex>', path: '<path>', id: '<id>', num: '<n>'};
	/** The message with what varyingParts finds masked, its whitespace made single spaces. */
	function masked(line: string): string {
		const text = line.slice(0, 300);
		let out = '';
		let from = 0;
		for (const part of varyingParts(text)) {
			out += text.slice(from, part.start) + masks[part.kind];
			from = part.end;
		}

		out += text.slice(from);
		return out.replace(/\s+/g, ' ').trim();
	}

	test('on every line of the loghub fixtures: the fingerprint is the message with its varying parts masked', () => {
		const dir = path.join(root, 'test', 'fixtures', 'loghub');
		let lines = 0;
		for (const file of readdirSync(dir).filter(f => f.endsWith('.log'))) {
			for (const line of readFileSync(path.join(dir, file), 'utf8').split(/\r?\n/).filter(Boolean)) {
				expect(fingerprint(line)).toBe(masked(line));
				lines++;
			}
		}

		expect(lines).toBeGreaterThan(10_000);
	});

	test('on every line of the loghub fixtures: which digit stands at a place never changes the fingerprint, but for the 0 of "0x" (alert-fingerprints.ts relies on it)', () => {
		const dir = path.join(root, 'test', 'fixtures', 'loghub');
		for (const file of readdirSync(dir).filter(f => f.endsWith('.log'))) {
			for (const line of readFileSync(path.join(dir, file), 'utf8').split(/\r?\n/).filter(Boolean)) {
				for (const shift of [1, 5, 9]) {
					const other = otherDigits(line, shift);
					expect(fingerprint(other), line).toBe(fingerprint(line));
				}
			}
		}
	});

	test('with and without the characters each kind of part needs (colon, hyphen, "://", dot, slash)', () => {
		const lines = [
			'plain words only', 'job 12 failed', 'at 12:34:56 job 7', 'id 3f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f x-y 5',
			'get http://h.example/a?b=1 now', 'ftp://x', 'from 10.0.3.17 v1.2', 'peer fe80::1 gone', 'c:\\temp\\x.log 12',
			'/var/log/a.log', 'a-b-c 0x1f deadbeef12 blk_-160899', 'Dec 10 06:55:46 host', '2015-10-18 18:01:47,978 x',
			'x:y - . / \\ ://', '::', 'a.b.c.d', '1.2.3', 'https://a-b.c/d:8080 10.0.0.1:80 12:00',
		];
		for (const line of lines) {
			expect(fingerprint(line), line).toBe(masked(line));
		}
	});
});
