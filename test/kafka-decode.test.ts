import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {describe, expect, it} from 'vitest';

// patches/kafkajs+2.2.4.patch adds offsets and timestamps of ordinary size as
// numbers instead of BigInt-backed Longs. These cases pin it to the Long path's
// exact integer results, on both sides of the point where it falls back to that path.

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder');
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder');
const Batch = require('kafkajs/src/consumer/batch');

type Decoded = {offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: Record<string, unknown>};

function roundTrip(firstOffset: string, offsetDelta: number, firstTimestamp: string, timestampDelta: string): Decoded {
	const encoder = encodeRecord({offsetDelta, timestampDelta, key: Buffer.from('k'), value: Buffer.from('{"a":1}'), headers: {h: 'v'}}) as {buffer: Buffer};
	const framed = new Decoder(encoder.buffer) as {readVarIntBytes(): Buffer};
	// A trailing byte shows that exactly one record was read.
	const body = Buffer.concat([framed.readVarIntBytes(), Buffer.from([0x7F])]);
	const decoder = new Decoder(body) as {offset: number; readInt8(): number};
	const record = decodeRecord(decoder, {firstOffset, firstTimestamp, magicByte: 2}) as Decoded;
	expect(decoder.readInt8()).toBe(0x7F);
	return record;
}

const sum = (a: string, b: string | number) => (BigInt(a) + BigInt(b)).toString();

describe('kafkajs record decoding (patched)', () => {
	it('npm ci applied the patch', () => {
		const file = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder');
		expect(readFileSync(file, 'utf8')).toContain('readSmallVarLong');
	});

	const cases: Array<[string, number, string, string]> = [
		['0', 0, '1700000000000', '0'],
		['12345', 67, '1700000000000', '999'],
		['12345', 67, '1700000000000', '-1700000000000'],
		['-1', 0, '-1', '0'],
		// Largest delta that still fits 7 varint bytes, and the first that does not.
		['5', 1, '0', String((2 ** 48) - 1)],
		['5', 1, '0', String(2 ** 48)],
		['5', 1, '0', String(-(2 ** 60))],
		['5', 1, '1700000000000', '9223372036854775807'],
		// Offsets and times past 2^52 keep exact integer arithmetic.
		['4503599627370495', 2_147_483_647, '4503599627370495', '1'],
		['9007199254740993', 3, '9007199254740993', '5'],
		['9223372036854775800', 7, '-9223372036854775807', '-1'],
	];

	it.each(cases)('offset %s + %i, timestamp %s + %s', (firstOffset, offsetDelta, firstTimestamp, timestampDelta) => {
		const record = roundTrip(firstOffset, offsetDelta, firstTimestamp, timestampDelta);
		expect(record.offset).toBe(sum(firstOffset, offsetDelta));
		expect(record.timestamp).toBe(sum(firstTimestamp, timestampDelta));
		expect(record.key?.toString()).toBe('k');
		expect(record.value?.toString()).toBe('{"a":1}');
		expect(record.headers['h']?.toString()).toBe('v');
	});

	it('a batch keeps the records at or after the fetched offset, small or past 2^52', () => {
		const keep = (fetchedOffset: string, offsets: string[]) => {
			const batch = new Batch('t', fetchedOffset, {partition: 0, highWatermark: '0', abortedTransactions: [], messages: offsets.map(offset => ({offset, batchContext: {}}))}) as {messages: Array<{offset: string}>};
			return batch.messages.map(m => m.offset);
		};

		expect(keep('10', ['8', '9', '10', '11'])).toEqual(['10', '11']);
		expect(keep('9007199254740993', ['9007199254740992', '9007199254740993', '9007199254740994'])).toEqual(['9007199254740993', '9007199254740994']);
		expect(keep('5', ['9007199254740993', '4'])).toEqual(['9007199254740993']);
	});
});
