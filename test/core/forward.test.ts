import {describe, expect, it} from 'vitest';
import {BatchCutter} from '../../source/core/forward-batch.js';
import {decodeRecord, encodeRecord, segmentId, segmentName} from '../../source/core/forward-spool-format.js';
import {compileTemplate, ForwardTemplateError} from '../../source/core/forward-template.js';
import {describeForwarder} from '../../source/core/forward-status.js';
import {event} from '../support/events.js';

describe('forward templates', () => {
	const e = event({service: 'checkout', host: 'web-1', sourceId: 'kafka', type: 'php-error', level: 'ERROR', proc: 'fpm', time: Date.UTC(2026, 11, 2, 23, 59), record: {user: {id: 42}, tags: ['a']}});

	it('fills every placeholder from the event', () => {
		const t = compileTemplate('{service}/{host}/{source}/{type}/{level}/{proc}/{date}', {env: {}});
		expect(t(e)).toBe('checkout/web-1/kafka/php-error/ERROR/fpm/2026-12-02');
		expect(t.constant).toBe(false);
	});

	it('reads {env.NAME} once, when compiled; a missing one is empty', () => {
		const t = compileTemplate('logs-{env.STAGE}-{env.NOPE}', {env: {STAGE: 'prod'}});
		expect(t(e)).toBe('logs-prod-');
		expect(t.constant).toBe(true);
	});

	it('{record.FIELD} follows a dotted path; objects as JSON; absent is empty', () => {
		expect(compileTemplate('{record.user.id}')(e)).toBe('42');
		expect(compileTemplate('{record.tags}')(e)).toBe('["a"]');
		expect(compileTemplate('{record.user.name}|{record.x.y}')(e)).toBe('|');
		expect(compileTemplate('{record.a}')(event({record: 'text'}))).toBe('');
	});

	it('doubled braces are literal ones', () => {
		expect(compileTemplate('{{{service}}}')(e)).toBe('{checkout}');
	});

	it('an unknown placeholder or a stray brace is an error naming it and where', () => {
		expect(() => compileTemplate('{servise}', {where: 'forward[0].group'})).toThrow(ForwardTemplateError);
		expect(() => compileTemplate('{servise}', {where: 'forward[0].group'})).toThrow(/forward\[0\]\.group: template "\{servise\}": unknown placeholder \{servise\}; placeholders are \{service\}/);
		expect(() => compileTemplate('a{service')).toThrow(/not closed/);
		expect(() => compileTemplate('a}')).toThrow(/lone "}"/);
		expect(() => compileTemplate('{record.}')).toThrow(/empty field name/);
	});

	it('{date} of an event whose time is not a date is the epoch day, never a throw', () => {
		expect(compileTemplate('{date}')(event({time: Number.NaN}))).toBe('1970-01-01');
	});
});

describe('batch cutting', () => {
	it('cuts at maxEvents and before maxBytes would be passed, per partition', () => {
		const cutter = new BatchCutter<number>({maxEvents: 3, maxBytes: 100, delayMs: 1000});
		for (let i = 0; i < 7; i++) {
			cutter.add(i, 10, i % 2 === 0 ? 'even' : 'odd', 0);
		}

		const busy = new Set<string>();
		const first = cutter.next(busy, 0)!;
		expect(first).toEqual({key: 'even', items: [0, 2, 4], bytes: 30, chars: 0});
		busy.add('even');
		// The odd partition has 3: full, it goes without waiting.
		expect(cutter.next(busy, 0)).toEqual({key: 'odd', items: [1, 3, 5], bytes: 30, chars: 0});
		busy.add('odd');
		expect(cutter.next(busy, 5000)).toBeUndefined(); // both busy
		busy.delete('even');
		expect(cutter.next(busy, 999)).toBeUndefined(); // [6] is not due yet
		expect(cutter.nextDue(busy)).toBe(1000);
		expect(cutter.next(busy, 1000)).toEqual({key: 'even', items: [6], bytes: 10, chars: 0});
		expect(cutter.size).toBe(0);
	});

	it('bytes: a batch sits exactly at the limit; one more byte starts the next', () => {
		const cutter = new BatchCutter<string>({maxEvents: 100, maxBytes: 100, delayMs: 0});
		cutter.add('a', 60, '', 0);
		cutter.add('b', 40, '', 0);
		cutter.add('c', 1, '', 0);
		cutter.add('d', 60, '', 0);
		cutter.add('e', 40, '', 0);
		const none = new Set<string>();
		expect(cutter.next(none, 0)?.items).toEqual(['a', 'b']);
		expect(cutter.next(none, 0)?.items).toEqual(['c', 'd']);
		expect(cutter.next(none, 0)?.items).toEqual(['e']);
	});

	it('an item bigger than maxBytes goes alone; flush sends what is open', () => {
		const cutter = new BatchCutter<string>({maxEvents: 100, maxBytes: 100, delayMs: 60_000});
		cutter.add('small', 10, '', 0);
		cutter.add('huge', 500, '', 0);
		cutter.add('next', 10, '', 0);
		const none = new Set<string>();
		expect(cutter.next(none, 0)?.items).toEqual(['small']);
		expect(cutter.next(none, 0)?.items).toEqual(['huge']);
		expect(cutter.next(none, 0)).toBeUndefined();
		expect(cutter.next(none, 0, true)?.items).toEqual(['next']);
	});

	it('keeps the text it holds: each batch takes its own out, and an empty cutter holds none', () => {
		const cutter = new BatchCutter<string>({maxEvents: 2, maxBytes: 1000, delayMs: 0});
		cutter.add('a', 1, 'x', 0, 100);
		cutter.add('b', 1, 'x', 0, 20);
		cutter.add('c', 1, 'y', 0, 3);
		expect(cutter.chars).toBe(123);
		const none = new Set<string>();
		expect(cutter.next(none, 0)).toEqual({key: 'x', items: ['a', 'b'], bytes: 2, chars: 120});
		expect(cutter.chars).toBe(3);
		expect(cutter.next(none, 0)?.chars).toBe(3);
		expect(cutter.chars).toBe(0);
	});
});

describe('spool records', () => {
	it('round-trips an event, raw kept once when it is the message', () => {
		const e = event({message: 'line "with" \n newline', record: {a: [1, 2]}, status: 503, level: 'WARN'});
		const line = encodeRecord(e);
		expect(line.endsWith('\n')).toBe(true);
		expect(line.slice(0, -1)).not.toContain('\n');
		expect(decodeRecord(line.slice(0, -1))).toEqual({...e, marker: undefined, status: 503} satisfies typeof e);
		const other = event({message: 'clean', raw: 'cl\u001B[31mean'});
		expect(decodeRecord(encodeRecord(other).trim())?.raw).toBe('cl\u001B[31mean');
	});

	it('a damaged line is not a record', () => {
		expect(decodeRecord('{"message":')).toBeUndefined();
		expect(decodeRecord('[1,2]')).toBeUndefined();
		expect(decodeRecord('{"time":1}')).toBeUndefined();
		expect(decodeRecord('{"time":1,"message":"m","level":"BOGUS"}')?.level).toBe('INFO');
	});

	it('segment names sort in order and read back', () => {
		expect(segmentName(7)).toBe('000000000007.spool');
		expect(segmentId(segmentName(123_456))).toBe(123_456);
		expect(segmentId('writer.lock')).toBeUndefined();
	});
});

describe('forwarder counts in words', () => {
	it('leaves zero counts out but sent; compact for the status bar', () => {
		expect(describeForwarder({sent: 12, queued: 0, spooled: 0, dropped: 0, deadLettered: 0})).toBe('12 sent');
		expect(describeForwarder({sent: 1_234_567, queued: 3, spooled: 45_000, dropped: 2, deadLettered: 1}, 0, true)).toBe('1.2M sent 3 queued 45.0k spooled 2 dropped 1 dead-lettered');
		expect(describeForwarder({sent: 0, queued: 0, spooled: 0, dropped: 0, deadLettered: 0}, 5)).toBe('0 sent, 5 unsent at exit');
	});
});
