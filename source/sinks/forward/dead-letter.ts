import fs from 'node:fs/promises';
import path from 'node:path';
import {type LogEvent} from '../../core/event.js';
import {toJson} from '../format.js';

// Batches a destination refused for good, set aside beside the spool as NDJSON: one line per
// event, `{"at", "forwarder", "reason", "event"}` with the event in the `-o json` shape. The
// file is bounded: past `maxBytes` it moves to `dead-letter.ndjson.1` (one generation kept).

export const deadLetterName = 'dead-letter.ndjson';

export class DeadLetter {
	/** Events set aside. */
	count = 0;
	/** Writes that failed (the disk, permissions): the events are only counted then. */
	writeErrors = 0;
	lastError: string | undefined;
	private chain: Promise<void> = Promise.resolve();
	private bytes: number | undefined;

	constructor(readonly file: string, private readonly forwarder: string, private readonly maxBytes = 64 * 1024 ** 2) {}

	/** Set a batch aside; resolves once it is written (or could not be). */
	async add(events: readonly LogEvent[], reason: string, now = Date.now()): Promise<void> {
		this.count += events.length;
		const at = new Date(now).toISOString();
		const head = `{"at":${JSON.stringify(at)},"forwarder":${JSON.stringify(this.forwarder)},"reason":${JSON.stringify(reason)},"event":`;
		const text = events.map(e => `${head}${toJson(e)}}\n`).join('');
		this.chain = this.chain.then(async () => this.write(text));
		return this.chain;
	}

	private async write(text: string): Promise<void> {
		try {
			await fs.mkdir(path.dirname(this.file), {recursive: true, mode: 0o700});
			let torn = false;
			if (this.bytes === undefined) {
				this.bytes = await fs.stat(this.file).then(s => s.size, () => 0);
				torn = this.bytes > 0 && !await endsWithNewline(this.file, this.bytes).catch(() => true);
			}

			if (this.bytes > 0 && this.bytes + Buffer.byteLength(text) > this.maxBytes) {
				await fs.rename(this.file, `${this.file}.1`);
				this.bytes = 0;
				torn = false;
			}

			// Half a line from a logmon killed mid-write stays a line of its own, not glued to the next.
			const data = torn ? '\n' + text : text;
			await fs.appendFile(this.file, data, {mode: 0o600});
			this.bytes += Buffer.byteLength(data);
		} catch (error) {
			this.writeErrors++;
			this.lastError = error instanceof Error ? error.message : String(error);
			this.bytes = undefined;
		}
	}

	async close(): Promise<void> {
		await this.chain;
	}
}

async function endsWithNewline(file: string, size: number): Promise<boolean> {
	const h = await fs.open(file, 'r');
	try {
		const last = Buffer.alloc(1);
		await h.read(last, 0, 1, size - 1);
		return last[0] === 0x0A;
	} finally {
		await h.close();
	}
}
