// The distinct word hashes of a segment, gathered while it is sealed: an open-addressing set of
// 32-bit values in a typed array. A Set<number> boxes every hash above 2^30 as a heap number
// and was the largest single cost of building a sidecar. 0 marks an empty slot; the hash 0
// itself is held by a flag.

export class WordHashes {
	private slots = new Uint32Array(1 << 12);
	private mask = (1 << 12) - 1;
	private shift = 32 - 12;
	private count = 0;
	private hasZero = false;

	get size(): number {
		return this.count + (this.hasZero ? 1 : 0);
	}

	add(hash: number): void {
		if (hash === 0) {
			this.hasZero = true;
			return;
		}

		const slots = this.slots;
		// Fibonacci hashing: the high bits of the product spread nearby hashes apart.
		let i = Math.imul(hash, 0x9E_37_79_B1) >>> this.shift;
		for (;;) {
			const s = slots[i]!;
			if (s === hash) {
				return;
			}

			if (s === 0) {
				break;
			}

			i = (i + 1) & this.mask;
		}

		slots[i] = hash;
		if (++this.count * 2 > slots.length) {
			this.grow();
		}
	}

	forEach(onHash: (hash: number) => void): void {
		if (this.hasZero) {
			onHash(0);
		}

		for (const s of this.slots) {
			if (s !== 0) {
				onHash(s);
			}
		}
	}

	private grow(): void {
		const old = this.slots;
		this.slots = new Uint32Array(old.length * 2);
		this.mask = this.slots.length - 1;
		this.shift--;
		this.count = 0;
		for (const s of old) {
			if (s !== 0) {
				this.add(s);
			}
		}
	}
}
