import {resourceFromAttributes} from '@opentelemetry/resources';
import {InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor} from '@opentelemetry/sdk-logs';
import {JsonLogsSerializer, ProtobufLogsSerializer} from '@opentelemetry/otlp-transformer';
import {describe, expect, test} from 'vitest';
import {decodeLogsJson} from '../../source/core/otlp-json.js';
import {
	type OtlpRequest, OtlpDecodeError, OtlpTooManyRecords, defaultOtlpLimits, eventsFromOtlp, levelFromSeverity, nanosToMs, tooDeep,
} from '../../source/core/otlp-map.js';
import {decodeLogsProto, encodeStatus} from '../../source/core/otlp-proto.js';
import {SeverityNumber, spanContext} from '../support/otlp.js';

// The OTLP decoders against the official serializers' bytes, hostile input, and the mapping.

/** Records made by the SDK, serialized by the official transformer in both encodings. */
async function officialBytes() {
	const exporter = new InMemoryLogRecordExporter();
	const provider = new LoggerProvider({
		resource: resourceFromAttributes({'service.name': 'shop', 'host.name': 'web1', 'deployment.environment': 'prod'}),
		processors: [new SimpleLogRecordProcessor({exporter})],
	});
	const logger = provider.getLogger('checkout', '1.2.3');
	logger.emit({body: 'plain text', severityNumber: SeverityNumber.WARN, severityText: 'WARN', timestamp: 1_796_000_000_123, attributes: {n: 42, big: 2 ** 40, f: 1.5, ok: false, list: [1, 'two']}});
	logger.emit({body: {nested: {deep: [1, {x: 'y'}]}}, severityNumber: SeverityNumber.FATAL, context: spanContext('5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174'), eventName: 'crash'});
	logger.emit({body: new Uint8Array([1, 2, 255]) as never, severityText: 'debug'});
	await provider.forceFlush();
	const records = exporter.getFinishedLogRecords();
	return {records, proto: ProtobufLogsSerializer.serializeRequest(records)!, json: Buffer.from(JsonLogsSerializer.serializeRequest(records)!).toString('utf8')};
}

function noProblems(): (reason: string) => void {
	return reason => {
		throw new Error(`unexpected problem: ${reason}`);
	};
}

describe('OTLP decoders', () => {
	test('protobuf and JSON from the official serializers decode to the same request', async () => {
		const {proto, json} = await officialBytes();
		const fromProto = decodeLogsProto(proto, defaultOtlpLimits, noProblems());
		const fromJson = decodeLogsJson(json, defaultOtlpLimits, noProblems());
		expect(fromProto).toEqual(fromJson);
		expect(fromProto.records).toBe(3);
		const [resource] = fromProto.resources;
		expect({...resource!.attributes}).toEqual({'service.name': 'shop', 'host.name': 'web1', 'deployment.environment': 'prod'});
		const scope = resource!.scopes[0]!;
		expect(scope).toMatchObject({name: 'checkout', version: '1.2.3'});
		const [first, second, third] = scope.records;
		expect(first).toMatchObject({timeMs: 1_796_000_000_123, severityNumber: 13, severityText: 'WARN', body: 'plain text', traceId: '', spanId: ''});
		expect({...first!.attributes}).toEqual({n: 42, big: 2 ** 40, f: 1.5, ok: false, list: [1, 'two']});
		expect(first!.observedMs).toBeGreaterThan(1_700_000_000_000);
		expect(second).toMatchObject({severityNumber: 21, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', flags: 1, eventName: 'crash'});
		expect(JSON.stringify(second!.body)).toBe('{"nested":{"deep":[1,{"x":"y"}]}}');
		expect(third).toMatchObject({body: Buffer.from([1, 2, 255]).toString('base64'), severityText: 'debug'});
	});

	test('malformed protobuf is an OtlpDecodeError, never a crash', () => {
		const bad = [
			[0x0A, 0x05, 0x01], // a length past the end
			[0x0A], // a tag with no length
			[0x08 | 0x03], // a group
			[0x00, 0x00], // field number 0
			[0x0A, 0x02, 0x12, 0x05], // a nested length past its parent
			[0x0A, 0x03, 0x12, 0x01, 0x12], // a ScopeLogs of one byte that is a cut tag
			Array.from({length: 11}, () => 0xFF), // a varint of 11 bytes
			[0x0D, 0x00, 0x00, 0x00, 0x00], // resource_logs as fixed32
		];
		for (const bytes of bad) {
			expect(() => decodeLogsProto(new Uint8Array(bytes), defaultOtlpLimits, () => undefined), JSON.stringify(bytes)).toThrow(OtlpDecodeError);
		}

		// Random bytes: decoded or refused, nothing else.
		let seed = 7;
		for (let i = 0; i < 2000; i++) {
			const bytes = new Uint8Array(1 + (i % 64)).map(() => {
				seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
				return seed & 0xFF;
			});
			try {
				decodeLogsProto(bytes, defaultOtlpLimits, () => undefined);
			} catch (error) {
				expect(error).toBeInstanceOf(OtlpDecodeError);
			}
		}
	});

	test('values nested past the limit are cut, in both encodings, without deep recursion', () => {
		// Protobuf: an AnyValue that is an array holding an array … 10,000 deep.
		let inner = Buffer.from([0x0A, 0x01, 0x78]); // AnyValue{string_value: "x"}
		for (let i = 0; i < 10_000; i++) {
			const array = Buffer.concat([Buffer.from([0x0A]), varint(inner.length), inner]); // ArrayValue{values}
			inner = Buffer.concat([Buffer.from([0x2A]), varint(array.length), array]); // AnyValue{array_value}
		}

		const record = Buffer.concat([Buffer.from([0x2A]), varint(inner.length), inner]); // LogRecord{body}
		const request = wrapRecord(record);
		const problems: string[] = [];
		const decoded = decodeLogsProto(request, defaultOtlpLimits, r => problems.push(r));
		expect(JSON.stringify(decoded.resources[0]!.scopes[0]!.records[0]!.body)).toBe('['.repeat(defaultOtlpLimits.maxDepth) + JSON.stringify(tooDeep) + ']'.repeat(defaultOtlpLimits.maxDepth));
		expect(problems).toHaveLength(1);

		const deepJson = '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":' + '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(50_000) + '{"stringValue":"x"}' + '}]}}'.repeat(50_000) + '}]}]}]}';
		const jsonProblems: string[] = [];
		const fromJson = decodeLogsJson(deepJson, defaultOtlpLimits, r => jsonProblems.push(r));
		expect(JSON.stringify(fromJson.resources[0]!.scopes[0]!.records[0]!.body)).toBe('{"k":'.repeat(defaultOtlpLimits.maxDepth) + JSON.stringify(tooDeep) + '}'.repeat(defaultOtlpLimits.maxDepth));
		expect(jsonProblems).toHaveLength(1);
	});

	test('more records than the limit is OtlpTooManyRecords', () => {
		const empty = Buffer.from([0x12, 0x00]); // ScopeLogs{log_records: {}}
		const scope = Buffer.concat(Array.from({length: 11}, () => empty));
		const request = Buffer.concat([Buffer.from([0x0A]), varint(scope.length + 2), Buffer.from([0x12]), varint(scope.length), scope]);
		const limits = {...defaultOtlpLimits, maxRecords: 10};
		expect(() => decodeLogsProto(request, limits, () => undefined)).toThrow(OtlpTooManyRecords);
		expect(decodeLogsProto(request, {...limits, maxRecords: 11}, () => undefined).records).toBe(11);
		const json = JSON.stringify({resourceLogs: [{scopeLogs: [{logRecords: Array.from({length: 11}, () => ({}))}]}]});
		expect(() => decodeLogsJson(json, limits, () => undefined)).toThrow(OtlpTooManyRecords);
	});

	test('parts past the limit (empty scopes, attributes, array items) are OtlpTooManyRecords, in both encodings', () => {
		// Empty ScopeLogs hold no record: each costs 2 bytes of protobuf and far more memory.
		const scopes = Buffer.concat(Array.from({length: 20}, () => Buffer.from([0x12, 0x00])));
		const request = Buffer.concat([Buffer.from([0x0A]), varint(scopes.length), scopes]);
		const limits = {...defaultOtlpLimits, maxParts: 20};
		expect(() => decodeLogsProto(request, limits, () => undefined)).toThrow(/more than 20 parts/);
		expect(decodeLogsProto(request, {...limits, maxParts: 21}, () => undefined).resources[0]!.scopes).toHaveLength(20);
		const emptyScopes = JSON.stringify({resourceLogs: [{scopeLogs: Array.from({length: 20}, () => ({}))}]});
		expect(() => decodeLogsJson(emptyScopes, limits, () => undefined)).toThrow(OtlpTooManyRecords);
		expect(decodeLogsJson(emptyScopes, {...limits, maxParts: 21}, () => undefined).resources[0]!.scopes).toHaveLength(20);
		// One record with many attributes, and one with a long array.
		const attributes = Array.from({length: 30}, (_, i) => ({key: `k${i}`, value: {intValue: i}}));
		const manyAttributes = JSON.stringify({resourceLogs: [{scopeLogs: [{logRecords: [{attributes}]}]}]});
		expect(() => decodeLogsJson(manyAttributes, limits, () => undefined)).toThrow(OtlpTooManyRecords);
		const longArray = JSON.stringify({resourceLogs: [{scopeLogs: [{logRecords: [{body: {arrayValue: {values: Array.from({length: 30}, () => ({stringValue: 'x'}))}}}]}]}]});
		expect(() => decodeLogsJson(longArray, limits, () => undefined)).toThrow(OtlpTooManyRecords);
		expect(decodeLogsJson(longArray, defaultOtlpLimits, () => undefined).records).toBe(1);
	});

	test('int64: negative and past 2^53, from protobuf and JSON', () => {
		// AnyValue{int_value: -1} is a 10-byte varint.
		const minusOne = Buffer.from([0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
		const big = Buffer.concat([Buffer.from([0x18]), varint64(2n ** 62n + 1n)]);
		const attribute = (key: string, value: Buffer) => {
			const kv = Buffer.concat([Buffer.from([0x0A, key.length]), Buffer.from(key), Buffer.from([0x12]), varint(value.length), value]);
			return Buffer.concat([Buffer.from([0x32]), varint(kv.length), kv]); // LogRecord{attributes}
		};

		const decoded = decodeLogsProto(wrapRecord(Buffer.concat([attribute('a', minusOne), attribute('b', big), attribute('__proto__', Buffer.from([0x0A, 0x01, 0x78]))])), defaultOtlpLimits, noProblems());
		const attributes = decoded.resources[0]!.scopes[0]!.records[0]!.attributes;
		expect(JSON.stringify(attributes)).toBe(`{"a":-1,"b":"${2n ** 62n + 1n}","__proto__":"x"}`);
		// A sender's `__proto__` is a key like any other, not the object's prototype.
		expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
		const fromJson = decodeLogsJson('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"__proto__","value":{"kvlistValue":{"values":[{"key":"polluted","value":{"boolValue":true}}]}}}]}]}]}]}', defaultOtlpLimits, noProblems());
		const pollutable = fromJson.resources[0]!.scopes[0]!.records[0]!.attributes;
		expect(JSON.stringify(pollutable)).toBe('{"__proto__":{"polluted":true}}');
		expect((pollutable as Record<string, unknown>)['polluted']).toBeUndefined();
		const json = decodeLogsJson(JSON.stringify({resourceLogs: [{scopeLogs: [{logRecords: [{attributes: [{key: 'a', value: {intValue: '-1'}}, {key: 'b', value: {intValue: '4611686018427387905'}}, {key: 'c', value: {doubleValue: 'NaN'}}]}]}]}]}), defaultOtlpLimits, noProblems());
		expect({...json.resources[0]!.scopes[0]!.records[0]!.attributes}).toEqual({a: -1, b: '4611686018427387905', c: 'NaN'});
	});

	test('JSON: snake_case names, enum names, bad scalars counted and left out', () => {
		const problems: string[] = [];
		const decoded = decodeLogsJson(JSON.stringify({resource_logs: [{scope_logs: [{log_records: [
			{time_unix_nano: '1796000000123999999', severity_number: 'SEVERITY_NUMBER_ERROR2', body: {string_value: 'x'}, trace_id: 'not hex', flags: 'x', severityText: 5},
		]}]}]}), defaultOtlpLimits, r => problems.push(r));
		expect(decoded.resources[0]!.scopes[0]!.records[0]).toMatchObject({timeMs: 1_796_000_000_123, severityNumber: 18, body: 'x', traceId: '', flags: 0, severityText: ''});
		expect(problems).toHaveLength(3);
		expect(() => decodeLogsJson('{"resourceLogs":[{"scopeLogs":{}}]}', defaultOtlpLimits, () => undefined)).toThrow(/scopeLogs must be an array/);
		expect(() => decodeLogsJson('nope', defaultOtlpLimits, () => undefined)).toThrow(OtlpDecodeError);
	});
});

describe('OTLP mapping', () => {
	test('nanoseconds to ms exactly, severity numbers to levels', () => {
		const ns = 1_796_000_000_123_999_999n;
		expect(nanosToMs(Number(ns & 0xFF_FF_FF_FFn), Number(ns >> 32n))).toBe(1_796_000_000_123);
		expect(nanosToMs(0, 0)).toBeUndefined();
		expect([0, 1, 4, 5, 9, 12, 13, 17, 20, 21, 24, 25].map(n => levelFromSeverity(n))).toEqual([undefined, 'TRACE', 'TRACE', 'DEBUG', 'INFO', 'INFO', 'WARN', 'ERROR', 'ERROR', 'CRITICAL', 'CRITICAL', undefined]);
	});

	test('events: service, host, proc, level from number, text or message, body, a cap on size, escapes', () => {
		const request: OtlpRequest = decodeLogsJson(JSON.stringify({resourceLogs: [
			{resource: {attributes: [{key: 'service.name', value: {stringValue: 'api\u001B[2J'}}, {key: 'host.name', value: {stringValue: 'h1'}}]}, scopeLogs: [{scope: {name: 'db'}, logRecords: [
				{observedTimeUnixNano: '1796000000000000000', severityNumber: 9, body: {stringValue: 'ERROR but the number says info'}},
				{severityText: 'Warning', body: {arrayValue: {values: [{intValue: 1}, {boolValue: true}]}}},
				{body: {stringValue: '[error] from the text'}},
				{body: {stringValue: 'y'.repeat(5000)}},
			]}]},
			{scopeLogs: [{logRecords: [{}]}]},
		]}), defaultOtlpLimits, noProblems());
		const problems: string[] = [];
		const events = eventsFromOtlp(request, {sourceId: 'otlp', service: 'otlp', receivedAt: 5, maxMessage: 1024, parseError: r => problems.push(r)});
		expect(events.map(e => [e.service, e.host, e.proc, e.level])).toEqual([
			['api', 'h1', 'db', 'INFO'], ['api', 'h1', 'db', 'WARN'], ['api', 'h1', 'db', 'ERROR'], ['api', 'h1', 'db', 'INFO'], ['otlp', '', '', 'INFO'],
		]);
		expect(events[0]!.time).toBe(1_796_000_000_000);
		expect(events[1]!.message).toBe('[1,true]');
		expect(events[3]!.message).toBe('y'.repeat(1024) + ' …[truncated 3976 bytes]');
		expect(problems).toEqual(['a log record body longer than the cap, 3976 bytes cut']);
		expect(events[4]).toMatchObject({time: 5, message: ''});
	});

	test('scope attributes are in the record; a service.name or host.name that is not text stays with the resource', () => {
		const request = decodeLogsJson(JSON.stringify({resourceLogs: [
			{resource: {attributes: [{key: 'service.name', value: {intValue: '7'}}, {key: 'host.name', value: {arrayValue: {values: [{stringValue: 'a'}]}}}, {key: 'region', value: {stringValue: 'eu'}}]}, scopeLogs: [
				{scope: {name: 'db', attributes: [{key: 'pool', value: {stringValue: 'primary'}}]}, logRecords: [{body: {stringValue: 'one'}}]},
				{scope: {name: 'cache'}, logRecords: [{body: {stringValue: 'two'}}]},
			]},
		]}), defaultOtlpLimits, noProblems());
		const [first, second] = eventsFromOtlp(request, {sourceId: 'otlp', service: 'otlp', receivedAt: 5, maxMessage: 1024, parseError: noProblems()});
		expect(first).toMatchObject({service: 'otlp', host: '', proc: 'db', record: {scopeAttributes: {pool: 'primary'}, resource: {region: 'eu', 'service.name': 7, 'host.name': ['a']}}});
		expect(second!.record).not.toHaveProperty('scopeAttributes');
	});

	test('protobuf groups (wire types 3 and 4) of unknown fields are skipped, nested too; one left open is an error', () => {
		// ExportLogsServiceRequest: field 9 a group holding a varint and a group of field 2, then resource_logs
		// holding an empty ResourceLogs.
		const group = [0x4B, 0x08, 0x01, 0x13, 0x08, 0x02, 0x14, 0x4C];
		const decoded = decodeLogsProto(new Uint8Array([...group, 0x0A, 0x00]), defaultOtlpLimits, () => undefined);
		expect(decoded.resources).toHaveLength(1);
		for (const bad of [[0x4B, 0x08, 0x01], [0x4B, 0x54], [...Array.from({length: 101}, () => 0x13)]]) {
			expect(() => decodeLogsProto(new Uint8Array(bad), defaultOtlpLimits, () => undefined), JSON.stringify(bad)).toThrow(OtlpDecodeError);
		}
	});

	test('the error reply is a google.rpc.Status', () => {
		expect([...encodeStatus(3, 'bad')]).toEqual([0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]);
		expect(encodeStatus(8, 'x'.repeat(200)).subarray(2, 5)).toEqual(Buffer.from([0x12, 0xC8, 0x01]));
	});
});

function varint(n: number): Buffer {
	return varint64(BigInt(n));
}

function varint64(n: bigint): Buffer {
	const out: number[] = [];
	let v = BigInt.asUintN(64, n);
	while (v >= 0x80n) {
		out.push(Number(v & 0x7Fn) | 0x80);
		v >>= 7n;
	}

	out.push(Number(v));
	return Buffer.from(out);
}

/** ExportLogsServiceRequest{ResourceLogs{ScopeLogs{LogRecord}}} around the bytes of one LogRecord. */
function wrapRecord(record: Buffer): Buffer {
	const scope = Buffer.concat([Buffer.from([0x12]), varint(record.length), record]);
	const resource = Buffer.concat([Buffer.from([0x12]), varint(scope.length), scope]);
	return Buffer.concat([Buffer.from([0x0A]), varint(resource.length), resource]);
}
