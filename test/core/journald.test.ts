import {describe, expect, test} from 'vitest';
import {eventFromJournal, eventFromLineOrJournal, isJournalRecord, journalText} from '../../source/core/journald.js';

// The journal entry mapping on its own: what the captured fixture cannot show.

const origin = {sourceId: 'stdin', sourceKind: 'stdin' as const, service: 'stdin', receivedAt: 42};
const entry = (fields: Record<string, unknown>) => ({__CURSOR: 's=1;i=1', __REALTIME_TIMESTAMP: '1796199753357541', ...fields});

describe('journal entries', () => {
	test('service from SYSLOG_IDENTIFIER, else _SYSTEMD_UNIT, else _COMM, else the source\'s', () => {
		const service = (fields: Record<string, unknown>) => eventFromJournal(entry(fields), '', origin).service;
		expect(service({SYSLOG_IDENTIFIER: 'nginx', _SYSTEMD_UNIT: 'nginx.service'})).toBe('nginx');
		expect(service({_SYSTEMD_UNIT: 'nginx.service', _COMM: 'nginx'})).toBe('nginx.service');
		expect(service({_COMM: 'bash'})).toBe('bash');
		expect(service({SYSLOG_IDENTIFIER: '', _SYSTEMD_UNIT: 'cron.service'})).toBe('cron.service');
		expect(service({})).toBe('stdin');
	});

	test('fields as journalctl writes them: bytes, repeated values, null past 4096 bytes', () => {
		expect(journalText([104, 105])).toBe('hi');
		expect(journalText(['first', 'second'])).toBe('first');
		expect(journalText([[104, 105], 'x'])).toBe('hi');
		expect(journalText(null)).toBeUndefined();
		expect(eventFromJournal(entry({MESSAGE: null}), '', origin).message).toMatch(/over 4096 bytes.*--all/);
	});

	test('PRIORITY as syslog levels; none: the text decides; time in µs; a bad time is counted', () => {
		const levels = ['0', '1', '2', '3', '4', '5', '6', '7'].map(p => eventFromJournal(entry({PRIORITY: p, MESSAGE: 'x'}), '', origin).level);
		expect(levels).toEqual(['CRITICAL', 'CRITICAL', 'CRITICAL', 'ERROR', 'WARN', 'NOTICE', 'INFO', 'DEBUG']);
		expect(eventFromJournal(entry({MESSAGE: 'ERROR: disk full'}), '', origin).level).toBe('ERROR');
		expect(eventFromJournal(entry({MESSAGE: 'x'}), '', origin).time).toBe(1_796_199_753_357);
		const problems: string[] = [];
		const e = eventFromJournal(entry({__REALTIME_TIMESTAMP: 'soon', MESSAGE: 'x'}), '', {...origin, parseError: r => problems.push(r)});
		expect(e.time).toBe(42);
		expect(problems).toHaveLength(1);
		// Seventeen digits of microseconds is past the year 2286: the year 5138 is no journal's time.
		const far = eventFromJournal(entry({__REALTIME_TIMESTAMP: '99999999999999999', MESSAGE: 'x'}), '', {...origin, parseError: r => problems.push(r)});
		expect(far.time).toBe(42);
		expect(problems).toHaveLength(2);
	});

	test('only entries with a cursor and a realtime timestamp are read as journal entries', () => {
		expect(isJournalRecord(entry({}))).toBe(true);
		expect(isJournalRecord({MESSAGE: 'x', __REALTIME_TIMESTAMP: '1'})).toBe(false);
		expect(eventFromLineOrJournal('{"MESSAGE":"m","service":"s"}', origin)).toMatchObject({service: 's', message: '{"MESSAGE":"m","service":"s"}'});
		expect(eventFromLineOrJournal('plain', origin)).toMatchObject({service: 'stdin', message: 'plain'});
	});
});
