import {describe, expect, test} from 'vitest';
import {maxJsonDepth, parseJsonBounded} from '../../source/core/json-depth.js';
import {eventFromLine} from '../../source/core/record.js';

function nested(depth: number, open = '{"a":', close = '}'): string {
	return open.repeat(depth) + '1' + close.repeat(depth);
}

function depthOf(value: unknown): number {
	let depth = 0;
	let level: unknown[] = [value];
	while (level.length > 0) {
		depth++;
		level = level.flatMap(v => (v !== null && typeof v === 'object' ? Object.values(v as object) : [])).filter(v => v !== null && typeof v === 'object');
	}

	return depth;
}

describe('bounded JSON depth', () => {
	test('values within the bound parse exactly as JSON.parse does', () => {
		for (const text of ['{"a":1}', '[1,[2,[3]]]', '"x"', '12', 'null', nested(maxJsonDepth), nested(maxJsonDepth, '[', ']')]) {
			expect(parseJsonBounded(text)).toEqual({value: JSON.parse(text), cut: false});
		}
	});

	test('deeper parts are kept as their text, strings included', () => {
		const text = `{"m":"x}]{[\\"","d":${nested(5000)},"after":[${nested(200, '[', ']')},"ok"]}`;
		const {value, cut} = parseJsonBounded(text);
		expect(cut).toBe(true);
		const v = value as Record<string, unknown>;
		expect(v['m']).toBe('x}]{["');
		expect((v['after'] as unknown[])[1]).toBe('ok');
		expect(depthOf(value)).toBeLessThanOrEqual(maxJsonDepth);
		// Nothing is lost: the text kept at the bound is the original text of that part.
		expect(JSON.stringify(value).length).toBeGreaterThan(0);
		let inner: unknown = v['d'];
		for (let i = 1; i < maxJsonDepth - 1; i++) {
			inner = (inner as Record<string, unknown>)['a'];
		}

		expect(typeof (inner as Record<string, unknown>)['a']).toBe('string');
		expect(JSON.parse((inner as Record<string, unknown>)['a'] as string)).toBeTypeOf('object');
	});

	test('a record line nested 5,000 deep becomes an event that JSON.stringify can write, with the parse error reported', () => {
		const reasons: string[] = [];
		const e = eventFromLine(`{"message":"deep","x":${nested(5000)}}`, {sourceId: 's', sourceKind: 'stdin', service: 's', receivedAt: 1, parseError: r => reasons.push(r)});
		expect(e.message).toBe('deep');
		expect(() => JSON.stringify(e)).not.toThrow();
		expect(reasons).toEqual([expect.stringMatching(/nested deeper than 64 levels/)]);
	});

	test('impossible times fall back to the receive time and are reported', () => {
		for (const time of ['1e308', '-1e15', '"0000-01-01T00:00:00Z"', '"+275760-09-13T00:00:00.000Z"']) {
			const reasons: string[] = [];
			const e = eventFromLine(`{"message":"m","time":${time}}`, {sourceId: 's', sourceKind: 'stdin', service: 's', receivedAt: 1234, parseError: r => reasons.push(r)});
			expect(e.time, time).toBe(1234);
			expect(reasons, time).toEqual([expect.stringMatching(/unreadable time .*the receive time is used/)]);
		}
	});
});
