// When the UI's slow work runs (a new filter over 50,000 held events, a
// search): in slices of about 10 ms with the event loop free in between, so
// keys, signals and frames always get their turn.

/** Time one slice of slow work may take before keys, signals and frames get their turn. */
const sliceMs = 10;

export class Slices {
	private pending: NodeJS.Immediate | undefined;
	private running = false;

	/** `slice` works until `deadline` (a performance.now() time) and says whether there is more to do. */
	constructor(private readonly slice: (deadline: number) => boolean) {}

	start(): void {
		this.running = true;
		this.wake();
	}

	stop(): void {
		this.running = false;
		if (this.pending) {
			clearImmediate(this.pending);
			this.pending = undefined;
		}
	}

	/** There is work: run a slice soon, unless one is already due. */
	wake(): void {
		if (this.running && !this.pending) {
			this.pending = setImmediate(this.run);
		}
	}

	private readonly run = (): void => {
		this.pending = undefined;
		if (!this.running) {
			return;
		}

		if (this.slice(performance.now() + sliceMs)) {
			this.pending = setImmediate(this.run);
		}
	};
}
