import zlib from 'node:zlib';
import {type MemberInflater} from './member-inflater.js';

// A sealed segment's gzip is a run of members, one per slice of about 1 MiB of text
// (seal-file.ts). Reading it member by member, each inflated with one synchronous call, takes
// about half the CPU of a gunzip stream: no hop through libuv's pool and no stream per
// 256 KiB, and one member's text stays in the cache while it is searched. Each member's length
// and CRC-32 are checked as gunzip checks them. No fs calls.

/** A gzip that does not read as one: cut off, or its bytes changed. */
export class GzipDamage extends Error {
	constructor(message: string, readonly salvaged: Buffer) {
		super(message);
		this.name = 'GzipDamage';
	}
}

/** A member whose text is longer than asked for: written by something else than the sealer (one member for the whole file). */
export class LargeMember extends Error {
	constructor() {
		super('gzip member larger than expected');
		this.name = 'LargeMember';
	}
}

// Node 20.15 and later; before that the length alone is checked.
const crc32 = (zlib as {crc32?: (data: Uint8Array) => number}).crc32;

type InflateResult = {buffer: Buffer; engine: {bytesWritten: number}};

const flagHeaderCrc = 2;
const flagExtra = 4;
const flagName = 8;
const flagComment = 16;

/**
 * Where the deflate data of the member at `at` begins; -1 at the end of the file or when what
 * follows the last member is not one (gunzip ignores it too). Throws GzipDamage when a header is
 * cut off or wrong.
 */
export function memberData(packed: Uint8Array, at: number): number {
	if (at >= packed.length || packed[at] !== 0x1F) {
		return -1;
	}

	if (at + 10 > packed.length || packed[at + 1] !== 0x8B || packed[at + 2] !== 8) {
		throw new GzipDamage('not a gzip member header', Buffer.alloc(0));
	}

	const flags = packed[at + 3]!;
	let p = at + 10;
	if (flags & flagExtra) {
		p += 2 + (packed[p]! | (packed[p + 1]! << 8));
	}

	for (const flag of [flagName, flagComment]) {
		if (flags & flag) {
			const end = packed.indexOf(0, p);
			p = end < 0 ? packed.length + 1 : end + 1;
		}
	}

	if (flags & flagHeaderCrc) {
		p += 2;
	}

	if (p >= packed.length) {
		throw new GzipDamage('gzip header cut off', Buffer.alloc(0));
	}

	return p;
}

export type Member = {
	text: Buffer;
	next: number;
	/** The CRC-32 the member's trailer gives, when `check` left it to the caller (checkCrc). */
	crc?: number | undefined;
};

/** False when `text` does not match the CRC-32 its member gives (the text is then damaged). */
export function checkCrc(text: Uint8Array, crc: number): boolean {
	return !crc32 || crc32(text) === crc;
}

/**
 * The text of the member at `at` and where the next one starts; undefined past the last member.
 * Throws LargeMember when its text passes `maxText` bytes, GzipDamage (with what could be read of
 * it) when it is cut off or does not match its length or checksum. With `check` false, the
 * checksum is the caller's to test (checkCrc), on the thread that has time for it. With an
 * `inflater`, the text is a view on its buffer, overwritten by the next member it inflates.
 */
export function inflateMember(packed: Buffer, at: number, maxText: number, check = true, inflater?: MemberInflater): Member | undefined {
	const data = memberData(packed, at);
	if (data < 0) {
		return undefined;
	}

	const input = packed.subarray(data);
	const {text, used} = inflater ? inflateInto(inflater, input, maxText) : inflateRaw(input, maxText);
	const trailer = data + used;
	if (trailer + 8 > packed.length) {
		throw new GzipDamage('gzip member cut off', Buffer.from(text));
	}

	const crc = packed.readUInt32LE(trailer);
	if (packed.readUInt32LE(trailer + 4) !== text.length % 0x1_00_00_00_00 || (check && !checkCrc(text, crc))) {
		throw new GzipDamage('gzip member does not match its checksum', Buffer.alloc(0));
	}

	return {text, next: trailer + 8, crc: check ? undefined : crc};
}

type Inflated = {text: Buffer; used: number};

function inflateRaw(input: Buffer, maxText: number): Inflated {
	try {
		// One output buffer: the sealer's members hold at most 1 MiB of text.
		const result = zlib.inflateRawSync(input, {info: true, chunkSize: Math.min(maxText, 1024 * 1024) + 64 * 1024, maxOutputLength: maxText}) as unknown as InflateResult;
		return {text: result.buffer, used: result.engine.bytesWritten};
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
			throw new LargeMember();
		}

		throw new GzipDamage((error as Error).message, salvage(input, maxText));
	}
}

function inflateInto(inflater: MemberInflater, input: Buffer, maxText: number): Inflated {
	let inflated;
	try {
		inflated = inflater.inflate(input);
	} catch (error) {
		throw new GzipDamage((error as Error).message, salvage(input, maxText));
	}

	if (!inflated) {
		throw new LargeMember();
	}

	return inflated;
}

/** What a damaged member gives up to the damage. */
function salvage(input: Buffer, maxText: number): Buffer {
	try {
		return zlib.inflateRawSync(input, {finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: maxText});
	} catch {
		return Buffer.alloc(0);
	}
}
