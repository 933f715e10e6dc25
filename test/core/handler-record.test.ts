import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {expect, test} from 'vitest';
import {handlerRecord, handlerRecordJson, isoTime} from '../../source/core/handler-record.js';
import {eventFromLine} from '../../source/core/record.js';
import {event} from '../support/events.js';
import {corpus} from '../support/logmon.js';

test('the JSON text written field by field is the record JSON.stringify gives', () => {
	const lines = readdirSync(corpus).filter(f => f.endsWith('.log')).flatMap(f => readFileSync(path.join(corpus, f), 'utf8').split(/\r?\n/).filter(Boolean));
	const odd = [
		'tab\there "quoted" back\\slash \u0001 control \u001B[31m escape ünïcode 😀 \u2028 sep',
		JSON.stringify({id: 'keep-me', level: 'warning', msg: 'from msg', nested: {a: [1, 2]}, status: 503, type: 'access'}),
		JSON.stringify({message: 'no id', took_ms: 3}),
		'line with its newline\r\n',
	];
	const t0 = Date.parse('2026-12-02T08:00:00Z');
	let i = 0;
	for (const line of [...lines, ...odd]) {
		const e = eventFromLine(line, {sourceId: 's', sourceKind: 'logio', service: 'svc "x"', host: 'h', proc: 'p', receivedAt: t0 + (i * 7)});
		const full = {...e, seq: i++, status: i % 5 === 0 ? 200 + (i % 300) : e.status, type: i % 3 === 0 ? 'apache-access' : e.type};
		const newId = (): string => `id-${full.seq}`;
		expect(handlerRecordJson(full, newId)).toBe(JSON.stringify(handlerRecord(full, newId)));
	}
});

test('record times are toISOString\'s, millisecond by millisecond and across seconds', () => {
	const t0 = Date.parse('2026-12-31T23:59:58.990Z');
	for (let ms = t0; ms < t0 + 2100; ms += 3) {
		expect(isoTime(ms)).toBe(new Date(ms).toISOString());
	}

	for (const ms of [0, -1, -1500, 1.5, 253_402_300_799_999, 253_402_300_800_000, Number.NaN]) {
		expect(isoTime(ms)).toBe(new Date(Number.isFinite(ms) ? ms : 0).toISOString());
	}

	expect(handlerRecord(event({time: Date.parse('2026-01-02T03:04:05.006Z')}), () => 'x')['timestamp']).toBe('2026-01-02T03:04:05.006Z');
});
