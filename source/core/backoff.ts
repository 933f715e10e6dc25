// Reconnect policy for long-lived sources: exponential growth with full jitter,
// reset once a connection has stayed up for a while. Pure: the caller owns timers.

export type BackoffOptions = {
	/** First delay ceiling, ms. */
	initialMs?: number;
	/** Largest delay, ms. */
	maxMs?: number;
	factor?: number;
	/** A connection that lasted this long resets the attempt count. */
	stableMs?: number;
	/** For tests: a fixed random source in [0, 1). */
	random?: () => number;
};

export class Backoff {
	attempt = 0;
	private readonly initialMs: number;
	private readonly maxMs: number;
	private readonly factor: number;
	private readonly stableMs: number;
	private readonly random: () => number;

	constructor(options: BackoffOptions = {}) {
		this.initialMs = options.initialMs ?? 500;
		this.maxMs = options.maxMs ?? 30_000;
		this.factor = options.factor ?? 2;
		this.stableMs = options.stableMs ?? 10_000;
		this.random = options.random ?? Math.random;
	}

	/** Delay before the next attempt. Half fixed, half random, so retries never bunch up yet never hit zero. */
	next(): number {
		const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
		this.attempt++;
		return Math.round(ceiling / 2 + this.random() * ceiling / 2);
	}

	/** Call when a connection ends; `upMs` is how long it lasted. */
	connectionEnded(upMs: number): void {
		if (upMs >= this.stableMs) {
			this.attempt = 0;
		}
	}

	reset(): void {
		this.attempt = 0;
	}
}
