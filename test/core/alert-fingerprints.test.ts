import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {ShapeFingerprints} from '../../source/core/alert-fingerprints.js';
import {fingerprint} from '../../source/core/errors.js';
import {otherDigits} from '../support/events.js';
import {root} from '../support/logmon.js';

// Fingerprints remembered by the shape of the message (its digits alike): the same as
// the error list's, worked out once per shape.

describe('ShapeFingerprints', () => {
	test('messages of one shape share the first one\'s fingerprint; others get their own', () => {
		const f = new ShapeFingerprints();
		expect(f.get('timeout after 3000 ms from 10.0.0.1')).toBe('timeout after <n> ms from <ip>');
		expect(f.get('timeout after 1234 ms from 10.0.0.9')).toBe('timeout after <n> ms from <ip>');
		expect(f.get('timeout after 12 ms from 10.0.0.9')).toBe('timeout after <n> ms from <ip>');
		expect(f.get('timeout after 3000 ms from 10.0.0.1 again')).toBe('timeout after <n> ms from <ip> again');
		expect(f.get('block blk_1234 lost')).toBe('block <id> lost');
		expect(f.get('block blk_abcd lost')).toBe('block blk_abcd lost');
	});

	test('on every line of the loghub fixtures, twice over (shapes learnt, then known), with room for few shapes: the fingerprint itself', () => {
		const dir = path.join(root, 'test', 'fixtures', 'loghub');
		const f = new ShapeFingerprints(64);
		for (let pass = 0; pass < 2; pass++) {
			for (const file of readdirSync(dir).filter(name => name.endsWith('.log'))) {
				for (const line of readFileSync(path.join(dir, file), 'utf8').split(/\r?\n/).filter(Boolean)) {
					const shifted = otherDigits(line, 1 + pass);
					expect(f.get(shifted)).toBe(fingerprint(shifted));
				}
			}
		}
	});

	test('past the fingerprinted length only the start counts; longer messages are fingerprinted, not kept', () => {
		const f = new ShapeFingerprints();
		const long = `${'x'.repeat(295)} 12345 tail ${'y'.repeat(50)}`;
		expect(f.get(long)).toBe(fingerprint(long));
		expect(f.get(long.replace('12345', '99999'))).toBe(fingerprint(long));
	});
});
