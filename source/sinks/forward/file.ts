import {constants, createReadStream, createWriteStream} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {pipeline} from 'node:stream/promises';
import {createGzip} from 'node:zlib';
import {type FileForwardConfig} from '../../config/forward-file.js';
import {type LogEvent} from '../../core/event.js';
import {compileTemplate, plainTextFormatter, toJson} from '../format.js';
import {type Destination, type DestinationContext, type SendOutcome} from './destination.js';

// The file destination: one line per event (NDJSON in the `-o json` shape, or pipe mode's
// text, raw or template lines) appended to a file, rotated by size and by time to PATH.1,
// PATH.2 … (gzipped when asked), `keep` of them kept. A file renamed or removed under it
// (logrotate) is noticed within a second and a new one opened. A failed write (ENOSPC, a
// directory that cannot be written) is cut back to the last whole batch and reported as
// retryable: the loop tries again and shows why meanwhile.

const checkEveryMs = 1000;

function formatterFor(config: FileForwardConfig, name: string): (e: LogEvent) => string {
	switch (config.format) {
		case 'json': {
			return toJson;
		}

		case 'raw': {
			// One event per line, whatever the source sent: a CR or LF inside would split it.
			return e => e.raw.replace(/\r?\n/g, ' ');
		}

		case 'template': {
			try {
				return compileTemplate(config.template!);
			} catch (error) {
				throw new Error(`forward ${name}: ${error instanceof Error ? error.message.replace(/^--template: /, 'template: ') : String(error)}`);
			}
		}

		case 'text': {
			return plainTextFormatter();
		}
	}
}

/** Which period of `everyMs` an instant falls in (aligned to the epoch: hours at :00, days at 00:00 UTC). */
function period(time: number, everyMs: number): number {
	return Math.floor(time / everyMs);
}

export class FileDestination implements Destination {
	readonly kind = 'file';
	readonly target: string;
	readonly limits = {maxEvents: 10_000, maxBytes: 8 * 1024 * 1024, delayMs: 100};
	rotations = 0;
	reopened = 0;
	writeErrors = 0;
	tornLines = 0;
	bytesWritten = 0;
	private readonly file: string;
	private readonly format: (e: LogEvent) => string;
	private handle: fs.FileHandle | undefined;
	private opening: Promise<fs.FileHandle> | undefined;
	private identity = '';
	private size = 0;
	private openedPeriod = 0;
	private lastCheck = 0;
	private closed = false;

	constructor(private readonly config: FileForwardConfig, private readonly context: DestinationContext) {
		this.file = path.resolve(config.path);
		this.target = this.file;
		this.format = formatterFor(config, context.name);
	}

	measure(event: LogEvent): number {
		return event.message.length + event.raw.length + 256;
	}

	details(): Record<string, number | string> {
		return {rotations: this.rotations, reopened: this.reopened, writeErrors: this.writeErrors, tornLines: this.tornLines, bytesWritten: this.bytesWritten};
	}

	async send(events: readonly LogEvent[]): Promise<SendOutcome> {
		if (this.closed) {
			return {ok: false, retry: true, reason: 'closed'};
		}

		let text = '';
		for (const e of events) {
			text += this.format(e) + '\n';
		}

		try {
			await this.write(Buffer.from(text), Date.now());
			return {ok: true};
		} catch (error) {
			this.writeErrors++;
			const code = (error as NodeJS.ErrnoException).code;
			const why = code === 'ENOSPC' ? 'disk full (ENOSPC)' : code === 'ENXIO' ? 'a FIFO nobody reads (ENXIO)' : code === 'EAGAIN' ? 'its reader does not keep up (EAGAIN)' : (error instanceof Error ? error.message : String(error));
			return {ok: false, retry: true, reason: why.includes(this.file) ? why : `${this.file}: ${why}`};
		}
	}

	async close(): Promise<void> {
		this.closed = true;
		const h = this.handle;
		this.handle = undefined;
		await h?.close().catch(() => undefined);
	}

	private async write(data: Buffer, now: number): Promise<void> {
		await this.checkRenamed(now);
		let h = await this.open(now);
		const {maxSize, rotateEvery} = this.config;
		if (this.size > 0 && ((maxSize !== undefined && this.size + data.length > maxSize) || (rotateEvery !== undefined && period(now, rotateEvery) !== this.openedPeriod))) {
			await this.rotate();
			h = await this.open(now);
		}

		// Size rotation cuts between lines: a batch bigger than what is left goes on in the next file.
		let rest = data;
		while (maxSize !== undefined && this.size + rest.length > maxSize) {
			const room = maxSize - this.size;
			const cut = rest.subarray(0, Math.max(0, room)).lastIndexOf(0x0A) + 1;
			if (cut > 0) {
				await this.append(h, rest.subarray(0, cut));
				rest = rest.subarray(cut);
			} else if (this.size === 0) {
				// One line bigger than maxSize: it gets a file of its own.
				const nl = rest.indexOf(0x0A) + 1;
				await this.append(h, rest.subarray(0, nl));
				rest = rest.subarray(nl);
			}

			if (rest.length === 0) {
				return;
			}

			await this.rotate();
			h = await this.open(now);
		}

		await this.append(h, rest);
	}

	/** Append, or leave the file as it was: a failed write must not leave half a line for the retry to follow. */
	private async append(h: fs.FileHandle, data: Buffer): Promise<void> {
		const before = this.size;
		try {
			for (let offset = 0; offset < data.length;) {
				const {bytesWritten} = await h.write(data, offset, data.length - offset);
				offset += bytesWritten;
				this.size += bytesWritten;
			}

			this.bytesWritten += data.length;
		} catch (error) {
			await h.truncate(before).catch(() => undefined);
			this.size = before;
			throw error;
		}
	}

	private async open(now: number): Promise<fs.FileHandle> {
		if (this.handle) {
			return this.handle;
		}

		// One open at a time: a send that timed out waits on the same one (a FIFO nobody reads blocks in open).
		this.opening ??= (async () => {
			await fs.mkdir(path.dirname(this.file), {recursive: true});
			// Non-blocking: a FIFO with no reader fails at once (ENXIO) instead of holding a thread of
			// Node's pool forever, which would also keep the process from exiting. Files do not mind.
			const h = await fs.open(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o640);
			let st = await h.stat();
			if (st.isFile() && st.size > 0 && await this.cutTornLine(h, st.size)) {
				st = await h.stat();
			}

			this.identity = `${st.dev}:${st.ino}`;
			this.size = st.size;
			this.openedPeriod = this.config.rotateEvery === undefined ? 0 : period(st.size > 0 ? Math.min(now, st.mtimeMs) : now, this.config.rotateEvery);
			this.lastCheck = now;
			return h;
		})().finally(() => {
			this.opening = undefined;
		});
		const h = await this.opening;
		if (this.closed) {
			await h.close();
			throw new Error('closed');
		}

		this.handle = h;
		return h;
	}

	/**
	 * A writer killed mid-write (kill -9, a power cut) can leave half a line at the end: the kernel
	 * stops a large write between pages. That batch was never acknowledged, so it goes again; the
	 * half line is cut so that the file stays one whole event per line. Says whether it cut.
	 */
	private async cutTornLine(h: fs.FileHandle, size: number): Promise<boolean> {
		const reader = await fs.open(this.file, 'r').catch(() => undefined);
		if (!reader) {
			return false;
		}

		try {
			const chunk = Buffer.alloc(64 * 1024);
			let end = size;
			let keep = -1;
			while (end > 0 && keep < 0) {
				const start = Math.max(0, end - chunk.length);
				const {bytesRead} = await reader.read(chunk, 0, end - start, start);
				const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0A);
				if (start + bytesRead === size && nl === bytesRead - 1) {
					return false; // ends with a newline: whole
				}

				keep = nl < 0 ? (start === 0 ? 0 : -1) : start + nl + 1;
				end = start;
			}

			await h.truncate(keep);
			this.tornLines++;
			this.context.diagnostics.add('warn', `forward ${this.context.name}`, `${this.file} ended in half a line (${size - keep} bytes, from a write cut short); cut, its batch goes again`);
			return true;
		} finally {
			await reader.close().catch(() => undefined);
		}
	}

	/** logrotate moved or removed the file: close ours, the next write opens a new one. */
	private async checkRenamed(now: number): Promise<void> {
		if (!this.handle || now - this.lastCheck < checkEveryMs) {
			return;
		}

		this.lastCheck = now;
		const st = await fs.stat(this.file).catch(() => undefined);
		if (st && `${st.dev}:${st.ino}` === this.identity) {
			return;
		}

		this.reopened++;
		const h = this.handle;
		this.handle = undefined;
		await h.close().catch(() => undefined);
		this.context.diagnostics.add('info', `forward ${this.context.name}`, `${this.file} was ${st ? 'replaced' : 'moved away'}; writing a new one`);
	}

	private rotatedName(n: number): string {
		return `${this.file}.${n}${this.config.gzip ? '.gz' : ''}`;
	}

	/** PATH → PATH.1, PATH.1 → PATH.2 …, the oldest past `keep` removed; PATH.1 gzipped when asked. */
	private async rotate(): Promise<void> {
		const h = this.handle;
		this.handle = undefined;
		await h?.close();
		const {keep, gzip} = this.config;
		await fs.rm(this.rotatedName(keep), {force: true});
		for (let n = keep - 1; n >= 1; n--) {
			await fs.rename(this.rotatedName(n), this.rotatedName(n + 1)).catch((error: NodeJS.ErrnoException) => {
				if (error.code !== 'ENOENT') {
					throw error;
				}
			});
		}

		if (keep === 0) {
			await fs.rm(this.file, {force: true});
		} else if (gzip) {
			const plain = `${this.file}.1`;
			await fs.rename(this.file, plain);
			try {
				await pipeline(createReadStream(plain), createGzip(), createWriteStream(this.rotatedName(1), {mode: 0o640}));
				await fs.rm(plain, {force: true});
			} catch (error) {
				// Kept uncompressed rather than lost (the disk may be full).
				await fs.rm(this.rotatedName(1), {force: true});
				this.context.diagnostics.add('warn', `forward ${this.context.name}`, `${plain} could not be compressed: ${error instanceof Error ? error.message : String(error)}`);
			}
		} else {
			await fs.rename(this.file, this.rotatedName(1));
		}

		this.rotations++;
		this.size = 0;
	}
}

export async function createDestination(config: FileForwardConfig, context: DestinationContext): Promise<Destination> {
	return new FileDestination(config, context);
}
