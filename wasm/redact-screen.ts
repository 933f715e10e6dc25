// AssemblyScript, compiled by `npm run build:wasm` (scripts/build-wasm.mjs) into
// source/core/redact-screen-wasm.ts; the host half is source/core/redact-screen.ts.
//
// The redaction screen: which texts of a batch hold a mark of the built-in rules (an exact literal
// such as "Bearer" or "AKIA") or where the card rule starts (core/redact-cards.ts cardMarkSource).
// The texts lie one after another from `start`, each followed by a newline; `ends` holds the place
// of each text's newline. A text flagged 1 goes through the rules; the rest are left as they are.
// It returns how many texts it flagged.
// Sixteen bytes are read at a time, 47 places a step: the literals' first three bytes by nibble tables (as Hyperscan's
// Teddy does), then checked whole where the tables say one may start; card marks by bit masks of
// digits and separators.
//
// Memory, as the host (source/core/redact-screen.ts) lays it out: the tables (6 x 16 bytes) at 0;
// the literals from 96 (8 u16 offsets from 96, one per bucket, of its list: [length][separator
// within][bytes]..., length 0 ends it); a 48-byte scratch at 4032 (the tables' answer for 48 places).

const LITERALS: usize = 96;
const SCRATCH: usize = 4032;

// @ts-ignore: decorator
@inline function look(lo: v128, hi: v128, x: v128): v128 {
	const nibble = i8x16.splat(0x0f);
	return v128.and(i8x16.swizzle(lo, v128.and(x, nibble)), i8x16.swizzle(hi, i8x16.shr_u(x, 4)));
}

// @ts-ignore: decorator
@inline function digits(x: v128): u64 {
	return <u64>i8x16.bitmask(i8x16.lt_u(i8x16.sub(x, i8x16.splat(0x30)), i8x16.splat(10)));
}

// @ts-ignore: decorator
@inline function separators(x: v128): u64 {
	return <u64>i8x16.bitmask(v128.or(i8x16.eq(x, i8x16.splat(0x20)), i8x16.eq(x, i8x16.splat(0x2d))));
}

/** Digits 2-6: a card's first. */
// @ts-ignore: decorator
@inline function firsts(x: v128): u64 {
	return <u64>i8x16.bitmask(i8x16.lt_u(i8x16.sub(x, i8x16.splat(0x32)), i8x16.splat(5)));
}

/** Is there a `=` or `:` in [from, from + within], before `limit` (the text's newline)? */
function separatorIn(from: usize, within: usize, limit: usize): bool {
	let last = from + within;
	if (last >= limit) {
		last = limit - 1;
	}

	for (let k = from; k <= last; k++) {
		const c = load<u8>(k);
		if (c == 0x3d || c == 0x3a) {
			return true;
		}
	}

	return false;
}

/** Does a literal of one of `buckets` start at `at`, in a text whose newline is at `limit`? */
function literalAt(at: usize, buckets: u32, limit: usize): bool {
	while (buckets != 0) {
		// Bucket b's literals from the offset at LITERALS + 2 b: [length][separator within][bytes].
		let p = LITERALS + <usize>load<u16>(LITERALS + (<usize>ctz(buckets) << 1));
		buckets &= buckets - 1;
		let length = <usize>load<u8>(p);
		while (length != 0) {
			let j: usize = 0;
			while (j < length && load<u8>(at + j) == load<u8>(p + 2 + j)) {
				j++;
			}

			if (j == length) {
				const within = <usize>load<u8>(p + 1);
				if (within == 0 || separatorIn(at + length, within, limit)) {
					return true;
				}
			}

			p += 2 + length;
			length = <usize>load<u8>(p);
		}
	}

	return false;
}

/** Per place of the 16 from `at`, the buckets whose literals the tables let start there. */
// @ts-ignore: decorator
@inline function tables(at: usize, lo0: v128, hi0: v128, lo1: v128, hi1: v128, lo2: v128, hi2: v128): v128 {
	return v128.and(v128.and(look(lo0, hi0, v128.load(at)), look(lo1, hi1, v128.load(at + 1))), look(lo2, hi2, v128.load(at + 2)));
}

/** Bits 0..15: the places of `m` with a bucket. */
// @ts-ignore: decorator
@inline function any(m: v128): u64 {
	// (Zero bytes' mask, inverted: one compare fewer than i8x16.ne.)
	return <u64>(i8x16.bitmask(i8x16.eq(m, i8x16.splat(0))) ^ 0xffff);
}

/** Flag (1 at `flags + t`) each text t that holds a mark (`cards`: card marks too); returns how many. */
export function scan(start: usize, end: usize, ends: usize, flags: usize, cards: bool): i32 {
	const lo0 = v128.load(0);
	const hi0 = v128.load(16);
	const lo1 = v128.load(32);
	const hi1 = v128.load(48);
	const lo2 = v128.load(64);
	const hi2 = v128.load(80);
	let i = start;
	let t: usize = 0;
	// The text of the last place checked against the literals (places only move on).
	let u: usize = 0;
	let found = 0;
	// 47 places at a time: the 64 bytes from i - 1 hold what a card mark starting at one needs.
	while (i < end) {
		const m0 = tables(i, lo0, hi0, lo1, hi1, lo2, hi2);
		const m1 = tables(i + 16, lo0, hi0, lo1, hi1, lo2, hi2);
		const m2 = tables(i + 32, lo0, hi0, lo1, hi1, lo2, hi2);
		let bits: u64 = (any(m0) | (any(m1) << 16) | (any(m2) << 32)) & 0x7fffffffffff;
		if (bits != 0) {
			// The tables let through more than the literals: each place is checked, with its buckets
			// from the scratch.
			v128.store(SCRATCH, m0);
			v128.store(SCRATCH + 16, m1);
			v128.store(SCRATCH + 32, m2);
			let sure: u64 = 0;
			if (u < t) {
				u = t;
			}

			while (bits != 0) {
				const lane = <usize>ctz(bits);
				bits &= bits - 1;
				if (i + lane >= end) {
					break; // past the last text
				}

				// The text the place is in, for a separator looked for after a literal.
				while (<usize>load<i32>(ends + (u << 2)) <= i + lane) {
					u++;
				}

				if (literalAt(i + lane, <u32>load<u8>(SCRATCH + lane), <usize>load<i32>(ends + (u << 2)))) {
					sure = (<u64>1) << lane;
					break;
				}
			}

			bits = sure;
		}

		if (cards) {
			// Bit k: byte i - 1 + k. (Looked for even past a literal found: the first mark decides the text.)
			const v0 = v128.load(i - 1);
			const v1 = v128.load(i + 15);
			const v2 = v128.load(i + 31);
			const v3 = v128.load(i + 47);
			const d = digits(v0) | (digits(v1) << 16) | (digits(v2) << 32) | (digits(v3) << 48);
			const x2 = d & (d >> 1);
			const x4 = x2 & (x2 >> 2); // four digits from here
			// Every card mark starts a run of four digits with four more after it or after one byte
			// more, at bits 1..47: most places with digits (times, ids) end here.
			const runs = x4 & ((x4 >> 4) | (x4 >> 5)) & ~(d << 1) & 0xfffffffffffe;
			// Where a card mark may start: a digit 2-6 there.
			const starts = runs == 0 ? 0 : runs & (firsts(v0) | (firsts(v1) << 16) | (firsts(v2) << 32));
			if (starts != 0) {
				const s = separators(v0) | (separators(v1) << 16) | (separators(v2) << 32) | (separators(v3) << 48);
				const x8 = x4 & (x4 >> 4);
				const x13 = x8 & (x4 >> 8) & (d >> 12);
				const x17 = x13 & (x4 >> 13);
				// [2-6]ddd[ -]dddd, then [ -]dddd[ -]d or dd[ -]dddd
				const head = x4 & (s >> 4) & (x4 >> 5);
				const tail = ((s >> 9) & (x4 >> 10) & (s >> 14) & (d >> 15)) | ((x2 >> 9) & (s >> 11) & (x4 >> 12));
				// 13 to 16 digits unbroken, or the groups
				bits |= (starts & ((x13 & ~x17) | (head & tail))) >> 1;
			}
		}

		if (bits != 0) {
			const at = i + <usize>ctz(bits);
			if (at >= end) {
				break;
			}

			while (<usize>load<i32>(ends + (t << 2)) <= at) {
				t++;
			}

			store<u8>(flags + t, 1);
			found++;
			// On to the next text: this one goes through the rules whatever else it holds.
			i = <usize>load<i32>(ends + (t << 2)) + 1;
			t++;
			continue;
		}

		i += 47;
	}

	return found;
}
