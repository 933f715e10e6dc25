import {readFileSync} from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {describe, expect, test} from 'vitest';
import {GzipDamage, inflateMember, LargeMember} from '../../source/history/gzip-members.js';
import {MemberInflater} from '../../source/history/member-inflater.js';
import {corpus} from '../support/logmon.js';

// Members inflated into one reused buffer must read exactly as zlib.inflateRawSync reads them,
// and fail the same way: damaged, cut off, larger than allowed.

const files = ['OpenSSH_2k.log', 'Linux_2k.log', 'HDFS_2k.log'].map(f => readFileSync(path.join(corpus, f)));
const packed = Buffer.concat(files.map(t => zlib.gzipSync(t)));
const texts = files.map(t => t.toString('latin1'));
const max = 8 * 1024 * 1024;

function readAll(inflater?: MemberInflater): string[] {
	const out: string[] = [];
	for (let at = 0, m = inflateMember(packed, at, max, true, inflater); m; at = m.next, m = inflateMember(packed, at, max, true, inflater)) {
		out.push(m.text.toString('latin1')); // now: the inflater's next member overwrites it
	}

	return out;
}

describe('MemberInflater', () => {
	const inflater = MemberInflater.create(max);

	test('this Node has the handle it drives', () => {
		expect(inflater).toBeDefined();
	});

	test('member after member, the same text as without it', () => {
		expect(readAll(inflater)).toEqual(texts);
		expect(readAll(undefined)).toEqual(texts);
	});

	test('a damaged member throws GzipDamage, and the inflater reads the next gzip right after', () => {
		const bad = Buffer.from(packed);
		bad[200]! ^= 0xFF;
		bad[201]! ^= 0x55;
		expect(() => {
			for (let at = 0, m = inflateMember(bad, at, max, true, inflater); m; at = m.next, m = inflateMember(bad, at, max, true, inflater)) {
				// Read on to the damage.
			}
		}).toThrow(GzipDamage);
		expect(readAll(inflater)).toEqual(texts);
	});

	test('a member cut off throws GzipDamage', () => {
		const cut = packed.subarray(0, 3000);
		expect(() => inflateMember(cut, 0, max, true, inflater)).toThrow(GzipDamage);
	});

	test('a text larger than allowed throws LargeMember', () => {
		const small = MemberInflater.create(1000);
		expect(() => inflateMember(packed, 0, 1000, true, small)).toThrow(LargeMember);
		expect(() => inflateMember(packed, 0, 1000, true)).toThrow(LargeMember);
	});
});
