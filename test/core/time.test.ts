import {describe, expect, it} from 'vitest';
import {parseTime} from '../../source/core/record.js';
import {toJson} from '../../source/sinks/format.js';
import {isoTime} from '../../source/core/time.js';
import {type LogEvent} from '../../source/core/event.js';

describe('time parsing and formatting agree with Date', () => {
	it('parses RFC 3339 like Date.parse, with and without fractions and offsets', () => {
		const cases = ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.1Z', '2024-05-01T10:00:00.123Z', '2024-05-01T10:00:00.123456789Z',
			'2024-05-01T10:00:00.999+00:00', '2024-05-01T10:00:00.5-0000', '2024-05-01T10:00:00+02:00', '2024-05-01T23:59:59.999Z', '2024-05-02T00:00:00.001Z'];
		for (const c of cases) {
			expect(parseTime(c), c).toBe(Date.parse(c));
		}

		expect(parseTime('2024-13-01T10:00:00Z')).toBeUndefined();
		// The tail after a cached second is read by hand: each shape once right after the same second.
		for (const tail of ['Z', '.1Z', '.12Z', '.123Z', '.1234Z', '.987654321Z', '.1234567890Z', '.12aZ', '.Z', '1Z', '.123', '.123+00:00', '.123z']) {
			expect(parseTime('2024-05-01T10:00:00.5Z')).toBe(Date.parse('2024-05-01T10:00:00.5Z'));
			const c = `2024-05-01T10:00:00${tail}`;
			const want = Date.parse(c);
			expect(parseTime(c), c).toBe(Number.isNaN(want) ? undefined : want);
		}

		expect(parseTime(1_714_557_600)).toBe(1_714_557_600_000);
		expect(parseTime(1_714_557_600_123)).toBe(1_714_557_600_123);
	});

	it('formats times like toISOString across second and day boundaries', () => {
		const base = Date.parse('2024-05-01T23:59:59.000Z');
		for (const ms of [base, base + 1, base + 9, base + 10, base + 99, base + 100, base + 999, base + 1000, base + 1001, 0, -1, -1001]) {
			const e = {seq: 1, time: ms, receivedAt: ms, sourceId: 's', sourceKind: 'stdin', service: '', host: '', proc: '', type: '', level: 'INFO', message: '', raw: ''} as LogEvent;
			const json = JSON.parse(toJson(e)) as {time: string};
			expect(json.time, String(ms)).toBe(new Date(ms).toISOString());
		}
	});

	it('formats alternating times of two or three seconds right (an event time and its receive time)', () => {
		const base = Date.parse('2024-05-01T23:59:58.500Z');
		const times = [base, base + 3000, base + 1, base + 3001, base + 1500, base, base + 3000, base + 700, -1, base];
		for (const ms of times) {
			expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
		}
	});
});
