// Shared memory for the writer and its encoder worker: captured batches and encoded lines live
// in SharedArrayBuffers made once and used again and again, named by a number in messages.
// Handing buffers over to the other thread instead (a transfer) makes new buffers on the
// receiving side each time, and V8 answered that churn with a full garbage collection every
// few dozen batches. Each side makes its own slabs and tells the other side about a slab once
// (`news`); a slab given back while enough are free is dropped, and the other side told to
// forget it. No fs calls.

export type Slab = {id: number; buffer: SharedArrayBuffer};

export type SlabNews = {slabs: Slab[]; forget: number[]};

/** Slab sizes are powers of two from this up, so freed slabs fit later needs. */
const minSlabBytes = 64 * 1024;

export class SlabPool {
	private readonly free: Slab[] = [];
	private freeBytes = 0;
	private nextId = 1;
	private unsent: Slab[] = [];
	private forgotten: number[] = [];

	/** Free slabs are kept up to `maxFreeBytes` in all: memory stays bounded after a burst. */
	constructor(private readonly maxFreeBytes: number) {}

	/** A slab of at least `bytes`, free to fill. */
	take(bytes: number): Slab {
		let best = -1;
		for (let i = 0; i < this.free.length; i++) {
			const size = this.free[i]!.buffer.byteLength;
			if (size >= bytes && (best < 0 || size < this.free[best]!.buffer.byteLength)) {
				best = i;
			}
		}

		if (best >= 0) {
			const slab = this.free.splice(best, 1)[0]!;
			this.freeBytes -= slab.buffer.byteLength;
			return slab;
		}

		let size = minSlabBytes;
		while (size < bytes) {
			size *= 2;
		}

		const slab = {id: this.nextId++, buffer: new SharedArrayBuffer(size)};
		this.unsent.push(slab);
		return slab;
	}

	/** A slab the other side is done with. */
	give(slab: Slab): void {
		if (this.free.includes(slab)) {
			return; // given back twice: once is what counts
		}

		if (this.freeBytes + slab.buffer.byteLength <= this.maxFreeBytes) {
			this.free.push(slab);
			this.freeBytes += slab.buffer.byteLength;
			return;
		}

		// Enough free ones: let this one go, on both sides.
		const unsent = this.unsent.indexOf(slab);
		if (unsent >= 0) {
			this.unsent.splice(unsent, 1);
		} else {
			this.forgotten.push(slab.id);
		}
	}

	/** Slabs made and slabs dropped since the last message to the other side. */
	news(): SlabNews {
		const news = {slabs: this.unsent, forget: this.forgotten};
		this.unsent = [];
		this.forgotten = [];
		return news;
	}
}

/** The other side's slabs, by number. */
export class SlabMap {
	private readonly slabs = new Map<number, Slab>();

	learn(news: SlabNews): void {
		for (const s of news.slabs) {
			this.slabs.set(s.id, s);
		}

		for (const id of news.forget) {
			this.slabs.delete(id);
		}
	}

	get(id: number): Slab {
		const slab = this.slabs.get(id);
		if (!slab) {
			throw new Error(`history encoder: no slab ${id}`);
		}

		return slab;
	}
}
