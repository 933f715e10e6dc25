import zlib from 'node:zlib';

// Gzip members inflated one after the other into one buffer, for a scan of gigabytes in a worker
// thread. zlib.inflateRawSync builds a stream and a fresh 1 MiB output buffer per call: V8 frees
// such buffers only after some 64 MiB of them, per thread, so two scanning threads would hold
// 100 MiB and more of dead text. This drives the native handle under Node's zlib stream the way
// zlib.inflateRawSync does (writeSync into a given buffer, the two counts it leaves in the
// stream's write state), with one buffer reused. Where this Node's handle is not so (a future
// version), `create` gives undefined and the caller inflates with zlib.inflateRawSync. No fs calls.

type Handle = {
	writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, out: Uint8Array, outOffset: number, outLength: number): void;
	reset(): void;
	onerror: (message: string) => void;
};

type Engine = {_handle?: Partial<Handle>; _writeState?: Uint32Array};

export class MemberInflater {
	private failure: string | undefined;

	private constructor(
		private readonly handle: Handle,
		private readonly state: Uint32Array,
		private readonly out: Buffer,
	) {
		handle.onerror = message => {
			this.failure = message;
		};
	}

	/** An inflater for texts of at most `maxText` bytes; undefined where this Node's zlib is not as expected. */
	static create(maxText: number): MemberInflater | undefined {
		const engine = new zlib.InflateRaw();
		const {_handle: handle, _writeState: state} = engine as unknown as Engine;
		if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
			engine.close();
			return undefined;
		}

		return new MemberInflater(handle as Handle, state, Buffer.allocUnsafeSlow(maxText + 1));
	}

	/**
	 * The text of the raw deflate data at the start of `input`, a view on this inflater's buffer
	 * that the next call overwrites, and the bytes of `input` it took; undefined when the text is
	 * longer than `maxText`. Throws with zlib's message when the data is damaged or cut off.
	 */
	inflate(input: Uint8Array): {text: Buffer; used: number} | undefined {
		this.failure = undefined;
		this.handle.reset();
		this.handle.writeSync(zlib.constants.Z_FINISH, input, 0, input.length, this.out, 0, this.out.length);
		if (this.failure !== undefined) {
			throw new Error(this.failure);
		}

		const [outLeft, inLeft] = this.state;
		if (outLeft === 0) {
			return undefined;
		}

		return {text: this.out.subarray(0, this.out.length - outLeft!), used: input.length - inLeft!};
	}
}
