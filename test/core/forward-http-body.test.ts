import {describe, expect, test} from 'vitest';
import {
	bulkDocument, bulkItems, bulkPiece, bulkVerdict, indexName, jsonString, lokiBody, lokiEntry, lokiLabels, lokiStream, lokiTime, maxLokiLine, truncateUtf8,
} from '../../source/core/forward-http-body.js';

describe('http forward bodies', () => {
	test('Loki times: nanoseconds as decimal strings, microseconds kept, the sequence number\'s last digits as nanoseconds', () => {
		expect(lokiTime(1_764_669_600_123, 1).text).toBe('1764669600123000001');
		expect(lokiTime(1_764_669_600_123.5, 12_345).text).toBe('1764669600123500345');
		expect(lokiTime(0, 0).text).toBe('0000000');
		// Equal lines of one millisecond stay apart; the same event sent again is the same entry.
		expect(lokiEntry('{}', 5, 1, 'x').value).not.toBe(lokiEntry('{}', 5, 2, 'x').value);
		expect(lokiEntry('{}', 5, 1, 'x').value).toBe(lokiEntry('{}', 5, 1, 'x').value);
	});

	test('a Loki push groups entries by label set and orders each stream by time', () => {
		const a = lokiStream({service: 'api', level: 'info'});
		const b = lokiStream({level: 'info', service: 'db'});
		const body = JSON.parse(lokiBody([
			lokiEntry(a, 30, 1, 'a3'),
			lokiEntry(b, 10, 2, 'b1'),
			lokiEntry(a, 10, 3, 'a1'),
			lokiEntry(a, 10, 4, 'a2'),
		])) as {streams: Array<{stream: Record<string, string>; values: string[][]}>};
		expect(body.streams).toEqual([
			{stream: {level: 'info', service: 'api'}, values: [['10000003', 'a1'], ['10000004', 'a2'], ['30000001', 'a3']]},
			{stream: {level: 'info', service: 'db'}, values: [['10000002', 'b1']]},
		]);
	});

	test('label sets drop empty values and never end up empty', () => {
		expect(lokiLabels({service: 'api', host: ''})).toEqual({service: 'api'});
		expect(lokiLabels({host: ''})).toEqual({job: 'logmon'});
		expect(lokiLabels({service: 'x'.repeat(5000)})['service']).toHaveLength(1024);
	});

	test('a line over Loki\'s limit is cut on a character boundary, with a marker', () => {
		const line = 'é'.repeat(maxLokiLine);
		const [, kept] = JSON.parse(lokiEntry('{}', 1, 1, line).value) as [string, string];
		expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(maxLokiLine);
		expect(kept.endsWith('…[truncated by logmon]')).toBe(true);
		expect(kept).not.toContain('\uFFFD');
		expect(truncateUtf8('short', 10)).toBe('short');
	});

	test('JSON text escapes DEL, C1 and line separators as well as C0', () => {
		expect(jsonString('a\u001B[31m\u009B\u2028b')).toBe('"a\\u001b[31m\\u009b\\u2028b"');
		expect(jsonString('x\u202Ey\u{E0041}')).toBe('"x\\u202ey\\udb40\\udc41"');
	});

	test('index names are lowercase and free of the characters Elasticsearch refuses', () => {
		expect(indexName('logs-API Gateway-2026-12-02')).toBe('logs-api_gateway-2026-12-02');
		expect(indexName('_logs/a*b?c')).toBe('logs_a_b_c');
		expect(indexName('')).toBe('logmon');
		expect(Buffer.byteLength(indexName('x'.repeat(300)))).toBe(255);
	});

	test('a _bulk piece is an action line then the document with @timestamp first', () => {
		const piece = bulkPiece('index', 'logs-api', bulkDocument('{"message":"hi"}', Date.UTC(2026, 11, 2, 8)));
		expect(piece).toBe('{"index":{"_index":"logs-api"}}\n{"@timestamp":"2026-12-02T08:00:00.000Z","message":"hi"}\n');
	});

	test('a _bulk reply: stored items, items to send again (429, 5xx, missing) and refused ones (other 4xx)', () => {
		const reply = bulkItems(JSON.stringify({errors: true, items: [
			{index: {status: 201}},
			{index: {status: 429, error: {type: 'es_rejected_execution_exception', reason: 'queue full'}}},
			{create: {status: 400, error: {type: 'document_parsing_exception', reason: 'bad field'}}},
			{index: {status: 503, error: 'unavailable'}},
		]}));
		expect(reply?.errors).toBe(true);
		const verdict = bulkVerdict(reply!.items, 5);
		expect(verdict).toEqual({
			stored: [0],
			again: [1, 3, 4],
			refused: [2],
			firstAgain: '429 es_rejected_execution_exception: queue full',
			firstRefused: '400 document_parsing_exception: bad field',
		});
		expect(bulkItems('<html>')).toBeUndefined();
		expect(bulkItems('{"took":1}')).toBeUndefined();
	});
});
