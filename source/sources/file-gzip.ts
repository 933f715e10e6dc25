import {createGunzip} from 'node:zlib';
import {LineSplitter, truncationMarker} from '../core/lines.js';
import {MultilineJoiner} from '../core/multiline.js';
import {type FileReader, type TailerOptions, type TailerSink, openRegular} from './file-tailer.js';

// A compressed rotated file (`*.gz`) is read whole, once: it never grows. Reading waits
// while the bus asks the sources to pause.

export class GzipReader implements FileReader {
	readonly firstPath: string;
	private paused = false;
	private wake: (() => void) | undefined;
	private stopped = false;

	constructor(readonly path: string, private readonly options: TailerOptions, private readonly sink: TailerSink) {
		this.firstPath = path;
	}

	/** Resolves when the whole file is read; rejects with the reason it could not be. */
	async read(): Promise<void> {
		const splitter = new LineSplitter(this.options.maxLine);
		const joiner = new MultilineJoiner(this.options.multiline, (first, rest, trace) => {
			this.sink.event(this, first, rest, trace);
		});
		const push = (lines: Array<{text: string; truncated: number}>): void => {
			const now = Date.now();
			for (const {text, truncated} of lines) {
				if (truncated > 0) {
					this.sink.cutLine(this, truncated);
				}

				joiner.push(truncated > 0 ? text + truncationMarker(truncated) : text, now);
			}
		};

		const {fd} = await openRegular(this.path);
		const input = fd.createReadStream();
		const gunzip = createGunzip();
		input.on('data', (chunk: Buffer | string) => {
			this.sink.bytes(chunk.length);
		});
		const stream = input.pipe(gunzip);
		input.once('error', error => gunzip.destroy(error));
		try {
			for await (const chunk of stream as AsyncIterable<Buffer>) {
				if (this.stopped) {
					break;
				}

				push(splitter.push(chunk));
				this.sink.done(this);
				while (this.paused && !this.stopped) {
					await new Promise<void>(resolve => { // eslint-disable-line no-await-in-loop
						this.wake = resolve;
					});
				}
			}
		} finally {
			input.destroy();
			push(splitter.end());
			joiner.flush();
			this.sink.done(this);
		}
	}

	pause(): void {
		this.paused = true;
	}

	resume(): void {
		this.paused = false;
		this.wake?.();
	}

	stop(): void {
		this.stopped = true;
		this.wake?.();
	}
}
