import {type View} from './view.js';

// When a new frame is worth drawing. A timer asks for a frame between every
// 50 ms and every 1 s. The interval grows when frames are expensive (time spent
// building and drawing) or when they write many bytes (SSH links), and shrinks
// again when they are cheap. A frame is skipped without any work when nothing
// it shows can have changed (the signature: store, aggregates, health, UI
// state, size, the clock's second), and skipped after building when its text
// equals the last one, so an idle screen writes nothing. Keys draw at once.

const minIntervalMs = 50;
const maxIntervalMs = 1000;
/** Terminal output the adaptive timer aims to stay under (bytes/s), for slow links. */
const byteBudget = 100_000;

export type FrameSource = {
	/** Changes whenever anything on screen may have. */
	signature(now: number): string;
	build(now: number): View;
};

export class FrameLoop {
	private view: View | undefined;
	private viewText = '';
	private lastSignature = '';
	private readonly listeners = new Set<() => void>();
	private timer: NodeJS.Timeout | undefined;
	private immediate: NodeJS.Immediate | undefined;
	private running = false;
	/** Smoothed cost of a frame (ms) and its output (bytes). */
	private frameCost = 0;
	private frameBytes = 0;
	private bytesSinceFrame = 0;
	/** Counters for the benchmark and --debug. */
	readonly metrics = {frames: 0, skipped: 0, built: 0, intervalMs: minIntervalMs};

	constructor(private readonly source: FrameSource, private readonly now: () => number) {}

	/** For useSyncExternalStore. */
	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	getView = (): View | undefined => this.view;

	start(): void {
		if (this.running) {
			return;
		}

		this.running = true;
		this.frame();
		this.schedule();
	}

	stop(): void {
		this.running = false;
		clearTimeout(this.timer);
		if (this.immediate) {
			clearImmediate(this.immediate);
			this.immediate = undefined;
		}
	}

	/** Ink's own measure of turning the tree into output (onRender). */
	noteRender(ms: number): void {
		this.frameCost = Math.max(this.frameCost, ms);
	}

	/** Bytes written to the terminal (counted by the runner). */
	noteBytes(n: number): void {
		this.bytesSinceFrame += n;
	}

	/** Draw soon (after a key or resize), without waiting for the timer. */
	request(): void {
		if (!this.running || this.immediate) {
			return;
		}

		this.immediate = setImmediate(() => {
			this.immediate = undefined;
			this.frame();
		});
	}

	private schedule(): void {
		if (!this.running) {
			return;
		}

		clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			this.frame();
			this.schedule();
		}, this.metrics.intervalMs);
	}

	/** Build and publish a frame if anything on screen may have changed. Returns true when it published. */
	frame(): boolean {
		const now = this.now();
		const signature = this.source.signature(now);
		if (signature === this.lastSignature) {
			this.metrics.skipped++;
			return false;
		}

		this.lastSignature = signature;
		const start = performance.now();
		const view = this.source.build(now);
		this.metrics.built++;
		if (view.text === this.viewText) {
			this.adapt(performance.now() - start);
			return false;
		}

		this.view = view;
		this.viewText = view.text;
		this.bytesSinceFrame = 0;
		for (const l of this.listeners) {
			l();
		}

		this.metrics.frames++;
		// React commits in a microtask queued by the listener above; this one runs after it,
		// so the cost covers building, React, Yoga layout and Ink's output.
		queueMicrotask(() => {
			this.adapt(performance.now() - start, this.bytesSinceFrame);
		});
		return true;
	}

	private adapt(costMs: number, bytes?: number): void {
		// Smoothed, so one slow frame (a GC pause) does not stall the screen for a second.
		this.frameCost = (this.frameCost * 0.7) + (costMs * 0.3);
		if (bytes !== undefined) {
			this.frameBytes = (this.frameBytes * 0.7) + (bytes * 0.3);
		}

		// Spend at most about a quarter of the time drawing, and stay within the byte budget.
		const byCost = this.frameCost * 4;
		const byBytes = (this.frameBytes / byteBudget) * 1000;
		this.metrics.intervalMs = Math.round(Math.min(maxIntervalMs, Math.max(minIntervalMs, byCost, byBytes)));
	}
}
