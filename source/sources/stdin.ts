import {fstatSync, readSync} from 'node:fs';
import {type Readable} from 'node:stream';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
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

export type StdinOptions = {
	name?: string;
	service?: string;
	maxLine?: number;
	input?: Readable;
	multiline?: MultilineConfig;
};

export class StdinSource implements LogSource {
	readonly id: string;
	readonly kind = 'stdin' as const;
	readonly ended: Promise<void>;
	/** The stream read, unless stdin is a regular file read here (`readsFile`). */
	private readonly given: Readable | undefined;
	private readsFile = false;
	private paused = false;
	private fileStopped = false;
	/** The next read, waiting for the bus to let the sources read again. */
	private fileWake: (() => void) | undefined;
	private readonly service: string;
	private readonly splitter: LineSplitter;
	private readonly joiner: MultilineJoiner;
	private readonly holdMs: number;
	private holdTimer: NodeJS.Timeout | undefined;
	private handle: SourceHandle | undefined;
	private batch: EventInit[] = [];
	private origin: Origin | undefined;
	private finish!: () => void;

	constructor(options: StdinOptions = {}) {
		this.id = options.name ?? 'stdin';
		this.service = options.service ?? 'stdin';
		this.given = options.input;
		const maxLine = options.maxLine ?? defaultMaxLine;
		this.splitter = new LineSplitter(maxLine);
		const multiline = options.multiline;
		this.holdMs = multiline?.timeoutMs ?? 250;
		this.joiner = new MultilineJoiner({
			enabled: multiline?.enabled ?? true,
			start: multiline?.start === undefined ? undefined : compileUserRegex(multiline.start, 'multiline.start'),
			maxLines: multiline?.maxLines ?? 500,
			maxBytes: maxLine,
		}, (first, rest, trace) => {
			this.batch.push(eventFromLines(first, rest, trace, this.origin!));
		});
		this.ended = new Promise(resolve => {
			this.finish = resolve;
		});
	}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		handle.setState('live');
		if (this.given === undefined && isRegularFile(0)) {
			this.readsFile = true;
			this.readFile(handle);
			return;
		}

		const input = this.input;
		input.on('data', (chunk: Buffer | string) => {
			const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
			handle.addBytes(buf.length);
			this.emit(this.splitter.push(buf));
		});
		input.once('end', () => {
			this.endOfInput();
		});
		input.once('error', (error: Error) => {
			handle.setState('failed', error.message);
			this.finish();
		});
	}

	pause = (): void => {
		// Kept on either path: the bus may pause a source before it starts.
		this.paused = true;
		if (!this.readsFile) {
			this.input.pause();
		}
	};

	resume = (): void => {
		this.paused = false;
		if (!this.readsFile) {
			this.input.resume();
			return;
		}

		const wake = this.fileWake;
		this.fileWake = undefined;
		if (wake) {
			// Not at once: the bus resumes the sources one by one, and a read published here may pause them all.
			setImmediate(wake);
		}
	};

	async stop(): Promise<void> {
		clearTimeout(this.holdTimer);
		if (!this.readsFile) {
			this.input.pause();
			this.input.removeAllListeners('data');
		} else {
			this.fileStopped = true;
		}

		this.finish();
	}

	private get input(): Readable {
		return this.given ?? process.stdin;
	}

	/**
	 * A regular file on stdin (`logmon < app.log`) is read with synchronous reads, a chunk per turn
	 * of the event loop: what the file system has cached comes in microseconds, where each read
	 * through the thread pool left this thread waiting a fifth of the time on this machine's kind
	 * (a thread woken on the other vCPU for every 64 KiB).
	 */
	private readFile(handle: SourceHandle): void {
		const step = (): void => {
			if (this.fileStopped) {
				return;
			}

			if (this.paused) {
				this.fileWake = step;
				return;
			}

			const buf = Buffer.allocUnsafe(fileChunk);
			let n: number;
			try {
				n = readSync(0, buf, 0, fileChunk, null);
			} catch (error) {
				handle.setState('failed', (error as Error).message);
				this.finish();
				return;
			}

			if (n === 0) {
				this.endOfInput();
				return;
			}

			handle.addBytes(n);
			this.emit(this.splitter.push(buf.subarray(0, n)));
			setImmediate(step);
		};

		setImmediate(step);
	}

	/** The input ended: the last line (and a held event) goes out. */
	private endOfInput(): void {
		this.emit(this.splitter.end(), true);
		this.handle!.setState('ended');
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
			this.batch = [];
			this.handle!.publish(batch);
		}
	}
}

/** Bytes read at a time from a regular file on stdin (a file stream's default). */
const fileChunk = 64 * 1024;

function isRegularFile(fd: number): boolean {
	try {
		return fstatSync(fd).isFile();
	} catch {
		return false;
	}
}
