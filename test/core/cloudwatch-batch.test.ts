import {describe, expect, test} from 'vitest';
import {cloudwatchForwardConfig, cloudwatchForwardFromUrl} from '../../source/config/forward-cloudwatch.js';
import {type CloudwatchEvent, cloudwatchLimits, cloudwatchMessage, countRejected, eventSize, maxMessageBytes, packRequests, truncateMessage} from '../../source/core/cloudwatch-batch.js';
import {checkNameTemplate, cleanName, compileName} from '../../source/core/cloudwatch-names.js';
import {event} from '../support/events.js';

const hour = 3_600_000;
const at = (timestamp: number, message = 'x'): CloudwatchEvent => ({timestamp, message});
const bytes = (request: CloudwatchEvent[]): number => request.reduce((sum, e) => sum + eventSize(e.message), 0);

describe('packing CloudWatch requests', () => {
	test('sorts by time, keeping the order of events of one instant', () => {
		const requests = packRequests([at(3, 'c'), at(1, 'a1'), at(2, 'b'), at(1, 'a2')]);
		expect(requests).toEqual([[at(1, 'a1'), at(1, 'a2'), at(2, 'b'), at(3, 'c')]]);
	});

	test('10,000 events fit one request; 10,001 take two', () => {
		const many = Array.from({length: 10_001}, (_, i) => at(i));
		expect(packRequests(many.slice(0, 10_000)).map(r => r.length)).toEqual([10_000]);
		expect(packRequests(many).map(r => r.length)).toEqual([10_000, 1]);
	});

	test('a request of exactly 1,048,576 bytes (26 per event counted) is one; a byte more cuts it', () => {
		// 8 events of 131,046 message bytes: 8 × (131,046 + 26) = 1,048,576.
		const exact = Array.from({length: 8}, (_, i) => at(i, 'é'.repeat(65_523)));
		expect(bytes(exact)).toBe(cloudwatchLimits.maxBytes);
		expect(packRequests(exact)).toHaveLength(1);
		const over = [...exact.slice(0, 7), at(7, `${'é'.repeat(65_523)}!`)];
		expect(packRequests(over).map(r => r.length)).toEqual([7, 1]);
	});

	test('a 24-hour span is one request; a millisecond more is split', () => {
		expect(packRequests([at(0), at(12 * hour), at(24 * hour)])).toHaveLength(1);
		expect(packRequests([at(0), at(12 * hour), at((24 * hour) + 1)]).map(r => r.map(e => e.timestamp))).toEqual([[0, 12 * hour], [(24 * hour) + 1]]);
		expect(packRequests([at(50 * hour), at(0), at(25 * hour)]).map(r => r.length)).toEqual([1, 1, 1]);
	});

	test('refuses an event no request could hold', () => {
		expect(() => packRequests([at(0, 'x'.repeat(maxMessageBytes + 1))])).toThrow(/over the 1048576-byte limit/);
	});
});

describe('messages', () => {
	test('one over the size limit is cut on a character boundary, with a marker, to exactly fit', () => {
		expect(truncateMessage('x'.repeat(maxMessageBytes))).toHaveLength(maxMessageBytes);
		const cut = truncateMessage('€'.repeat(400_000));
		expect(cut).toMatch(/€ \[truncated by logmon: 1200000 bytes\]$/);
		expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(maxMessageBytes);
		expect(Buffer.byteLength(cut)).toBeGreaterThan(maxMessageBytes - 3);
		expect(cut).not.toContain('\uFFFD');
		expect(eventSize(cut)).toBeLessThanOrEqual(cloudwatchLimits.maxBytes);
	});

	test('the raw line without its CR, else the message, never empty', () => {
		expect(cloudwatchMessage(event({raw: 'GET /\r', message: 'GET /'}))).toBe('GET /');
		expect(cloudwatchMessage(event({raw: '', message: 'from a record'}))).toBe('from a record');
		expect(cloudwatchMessage(event({raw: '', message: ''}))).toBe('(empty)');
	});

	test('rejectedLogEventsInfo: too old and expired end exclusive, too new starts inclusive', () => {
		expect(countRejected(undefined, 5)).toEqual({tooOld: 0, tooNew: 0, expired: 0});
		expect(countRejected({tooOldLogEventEndIndex: 2, tooNewLogEventStartIndex: 4}, 5)).toEqual({tooOld: 2, tooNew: 1, expired: 0});
		expect(countRejected({expiredLogEventEndIndex: 3, tooNewLogEventStartIndex: 99}, 5)).toEqual({tooOld: 0, tooNew: 0, expired: 3});
	});
});

describe('group and stream names', () => {
	test('templates whose own text CloudWatch refuses are config errors', () => {
		expect(checkNameTemplate('group', '/logmon/{service}')).toBeUndefined();
		expect(checkNameTemplate('group', 'my logs/{service}')).toMatch(/has " ": CloudWatch allows letters, digits and \. - _ \/ #$/);
		expect(checkNameTemplate('stream', '{host}:{service}')).toMatch(/has ":": CloudWatch allows any character but : and \*$/);
		expect(checkNameTemplate('stream', '{host} {service}')).toBeUndefined();
		expect(checkNameTemplate('stream', '{nope}')).toMatch(/unknown placeholder \{nope\}/);
		expect(checkNameTemplate('group', '')).toMatch(/empty/);
	});

	test('what the events bring in is cleaned', () => {
		expect(cleanName('group', 'shop api:v2')).toBe('shop_api_v2');
		expect(cleanName('stream', 'a:b*c\u001B[2J d')).toBe('a_b_c_[2J d');
		expect(cleanName('stream', '')).toBe('unknown');
		expect(cleanName('group', 'x'.repeat(600))).toHaveLength(512);
		const group = compileName('group', '/apps/{env.TEAM}/{service}', {TEAM: 'shop'});
		const stream = compileName('stream', '{host}/{level}/{record.pod}/{date}');
		const e = event({service: 'check out', host: 'web-1', level: 'ERROR', record: {pod: 'p:1'}, time: Date.UTC(2026, 11, 2, 8)});
		expect(group(e)).toBe('/apps/shop/check_out');
		expect(stream(e)).toBe('web-1/ERROR/p_1/2026-12-02');
	});
});

describe('config', () => {
	test('defaults: the stream is the service, a 4 s delay, groups and streams created', () => {
		expect(cloudwatchForwardConfig.parse({type: 'cloudwatch'})).toEqual({type: 'cloudwatch', stream: '{service}', delay: 4000, createGroup: true, createStream: true});
	});

	test('delay, retention and names are checked', () => {
		expect(cloudwatchForwardConfig.parse({type: 'cloudwatch', delay: '8s', retentionDays: 14}).delay).toBe(8000);
		expect(cloudwatchForwardConfig.parse({type: 'cloudwatch', delay: 8}).delay).toBe(8000);
		expect(cloudwatchForwardConfig.safeParse({type: 'cloudwatch', retentionDays: 2}).error?.message).toMatch(/retention periods: 1, 3, 5/);
		expect(cloudwatchForwardConfig.safeParse({type: 'cloudwatch', group: 'bad group'}).error?.message).toMatch(/letters, digits/);
		expect(cloudwatchForwardConfig.safeParse({type: 'cloudwatch', delay: 'soon'}).error?.message).toMatch(/expected a delay/);
		expect(cloudwatchForwardConfig.safeParse({type: 'cloudwatch', endpoint: 'ftp://x'}).success).toBe(false);
		expect(cloudwatchForwardConfig.safeParse({type: 'cloudwatch', password: 'x'}).success).toBe(false);
	});

	test('--forward cloudwatch://REGION?…', () => {
		const raw = cloudwatchForwardFromUrl(new URL('cloudwatch://eu-west-1?group=/logmon/{env.ENV}&stream={host}-{service}&endpoint=http://127.0.0.1:5000&delay=8&retentionDays=30&createGroup=false'));
		expect(raw).toEqual({type: 'cloudwatch', region: 'eu-west-1', group: '/logmon/{env.ENV}', stream: '{host}-{service}', endpoint: 'http://127.0.0.1:5000', delay: 8, retentionDays: 30, createGroup: false});
		expect(cloudwatchForwardConfig.parse(raw)).toMatchObject({delay: 8000, retentionDays: 30, createGroup: false, createStream: true});
		expect(cloudwatchForwardFromUrl(new URL('cloudwatch://'))).toEqual({type: 'cloudwatch'});
		expect(() => cloudwatchForwardFromUrl(new URL('cloudwatch://us-east-1/logs'))).toThrow(/no path; name the group with \?group=/);
		expect(() => cloudwatchForwardFromUrl(new URL('cloudwatch://us-east-1?grup=x'))).toThrow(/unknown parameter grup/);
	});
});
