import {type Readable} from 'node:stream';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {type LineScreen, ScreenedLines, screenFlags} from '../core/line-screen.js';
import {LineSplitter, defaultMaxLine, truncationMarker} from '../core/lines.js';
import {eventFromLines} from '../core/multiline-event.js';
import {MultilineJoiner} from '../core/multiline.js';
import {type Origin} from '../core/record.js';
import {compileUserRegex} from '../core/regex.js';
import {type MultilineConfig} from '../config/multiline.js';
import {type LogSource} from './source.js';

// Lines from standard input (`some-command | logmon`). JSON lines are read as
// records (`journalctl -o json` entries among them); anything else is plain text with
// service "stdin". Stack traces and indented continuation lines are joined into the
// event they belong to (core/multiline.ts) unless multi-line joining is turned off.
// With a redaction screen (core/line-screen.ts), each chunk read is also sent to another thread,
// and is split here once that thread has flagged its lines.

/** Chunks waiting for the screen's answer before reading pauses (64 KiB each from a pipe or file). */
const maxWaiting = 64;

export type StdinOptions = {
	name?: string;
	service?: string;
	maxLine?: number;
	input?: Readable;
	multiline?: MultilineConfig;
	/** Redaction's screen of the input in another thread. */
	screen?: LineScreen | undefined;
};

export class StdinSource implements LogSource {
	readonly id: string;
	readonly kind = 'stdin' as const;
	readonly ended: Promise<void>;
	private readonly input: Readable;
	private readonly service: string;
	private readonly splitter: LineSplitter;
	private readonly joiner: MultilineJoiner;
	private readonly holdMs: number;
	private holdTimer: NodeJS.Timeout | undefined;
	private handle: SourceHandle | undefined;
	private batch: EventInit[] = [];
	/** The screen's flag for each event of the batch (1 where it was not screened). */
	private batchFlags: number[] = [];
	private origin: Origin | undefined;
	private finish!: () => void;
	private readonly screen: LineScreen | undefined;
	private readonly screened = new ScreenedLines();
	/** Chunks sent to the screen, split here in order as their answers come. */
	private readonly waiting: Array<{chunk: Buffer; flags: Uint8Array | undefined; answered: boolean}> = [];
	private ending = false;
	/** Paused by the bus (its consumers are behind), or while the screen is behind. */
	private pausedByBus = false;
	private pausedForScreen = false;

	constructor(options: StdinOptions = {}) {
		this.id = options.name ?? 'stdin';
		this.service = options.service ?? 'stdin';
		this.input = options.input ?? process.stdin;
		const maxLine = options.maxLine ?? defaultMaxLine;
		this.splitter = new LineSplitter(maxLine);
		const multiline = options.multiline;
		this.holdMs = multiline?.timeoutMs ?? 250;
		this.joiner = new MultilineJoiner({
			enabled: multiline?.enabled ?? true,
			start: multiline?.start === undefined ? undefined : compileUserRegex(multiline.start, 'multiline.start'),
			maxLines: multiline?.maxLines ?? 500,
			maxBytes: maxLine,
		}, (first, rest, trace, index) => {
			this.batch.push(eventFromLines(first, rest, trace, this.origin!));
			// A joined event is redacted here whole: its lines were screened one by one.
			this.batchFlags.push(rest === undefined ? this.screened.flag(index) : 1);
		});
		this.screen = options.screen;
		this.ended = new Promise(resolve => {
			this.finish = resolve;
		});
	}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		handle.setState('live');
		this.input.on('data', (chunk: Buffer | string) => {
			const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
			handle.addBytes(buf.length);
			this.take(buf);
		});
		this.input.once('end', () => {
			this.ending = true;
			if (this.waiting.length === 0) {
				this.end();
			}
		});
		this.input.once('error', (error: Error) => {
			handle.setState('failed', error.message);
			this.finish();
		});
	}

	pause = (): void => {
		this.pausedByBus = true;
		this.input.pause();
	};

	resume = (): void => {
		this.pausedByBus = false;
		// Not from inside the consumer that resumes us: like a stream's resume, on the next tick.
		process.nextTick(() => {
			this.drain();
		});
		if (!this.pausedForScreen) {
			this.input.resume();
		}
	};

	async stop(): Promise<void> {
		clearTimeout(this.holdTimer);
		this.input.pause();
		this.input.removeAllListeners('data');
		this.waiting.length = 0;
		this.screen?.close();
		this.finish();
	}

	private take(chunk: Buffer): void {
		const screen = this.screen;
		if (!screen || (!screen.ready && this.waiting.length === 0)) {
			this.read(chunk, undefined);
			return;
		}

		const entry = {chunk, flags: undefined as Uint8Array | undefined, answered: false};
		this.waiting.push(entry);
		screen.screenChunk(chunk, flags => {
			entry.flags = flags;
			entry.answered = true;
			this.drain();
		});
		if (this.waiting.length >= maxWaiting && !this.pausedForScreen) {
			this.pausedForScreen = true;
			this.input.pause();
		}
	}

	/** Split the chunks answered for, in order; none while the bus asks for a pause. */
	private drain(): void {
		while (!this.pausedByBus && this.waiting[0]?.answered) {
			const {chunk, flags} = this.waiting.shift()!;
			this.read(chunk, flags);
		}

		if (this.pausedForScreen && this.waiting.length < maxWaiting / 2) {
			this.pausedForScreen = false;
			if (!this.pausedByBus) {
				this.input.resume();
			}
		}

		if (this.ending && this.waiting.length === 0) {
			this.end();
		}
	}

	private read(chunk: Buffer, flags: Uint8Array | undefined): void {
		const lines = this.splitter.push(chunk);
		if (flags === undefined) {
			this.screen?.offered(lines.length);
		} else if (flags.length === lines.length) {
			this.screened.add(this.joiner.pushed, flags);
		}

		this.emit(lines);
	}

	private end(): void {
		this.ending = false;
		this.emit(this.splitter.end(), true);
		this.screen?.close();
		this.handle?.setState('ended');
		this.finish();
	}

	private emit(lines: Array<{text: string; truncated: number}>, end = false): void {
		const handle = this.handle;
		if (!handle) {
			return;
		}

		const now = Date.now();
		this.origin = {sourceId: this.id, sourceKind: this.kind, service: this.service, receivedAt: now, parseError: (reason: string) => handle.parseError(reason)};
		for (const {text, truncated} of lines) {
			if (truncated > 0) {
				handle.parseError(`line longer than the cap, ${truncated} bytes cut`);
				this.joiner.push(text + truncationMarker(truncated), now);
			} else {
				this.joiner.push(text, now);
			}
		}

		if (end) {
			clearTimeout(this.holdTimer);
			this.joiner.flush();
		}

		this.publish();
		if (!end && this.joiner.holding && !this.holdTimer) {
			this.armHold();
		}
	}

	/** A held event goes out once no line has continued it for a while. */
	private armHold(): void {
		const wait = Math.max(1, this.holdMs - this.joiner.heldFor(Date.now()));
		this.holdTimer = setTimeout(() => {
			this.holdTimer = undefined;
			if (this.joiner.heldFor(Date.now()) >= this.holdMs) {
				this.origin = {...this.origin!, receivedAt: Date.now()};
				this.joiner.flush();
				this.publish();
			}

			if (this.joiner.holding) {
				this.armHold();
			}
		}, wait);
	}

	private publish(): void {
		if (this.batch.length > 0) {
			const batch = this.batch;
			const flags = this.batchFlags;
			this.batch = [];
			this.batchFlags = [];
			this.handle!.publish(batch, this.screened.used ? screenFlags(batch, flags) : undefined);
		}
	}
}
