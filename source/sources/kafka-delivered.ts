import {createHash} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import path from 'node:path';

// Offsets are committed after a batch is handed on, so a logmon that dies between the
// two gets that batch again on its next start (at-least-once). To report those
// duplicates, the last offset handed on per partition is written to a small state
// file *before* the batch goes out; a record at or below it after a restart was
// delivered before.

type Offsets = Record<string, number>;

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
	const base = env['XDG_STATE_HOME'] && path.isAbsolute(env['XDG_STATE_HOME']) ? env['XDG_STATE_HOME'] : path.join(homedir(), '.local', 'state');
	return path.join(base, 'logmon', 'kafka');
}

export class DeliveredLog {
	/** What the previous run handed on, read once at start. */
	private readonly before: Offsets;
	private readonly now: Offsets;
	private readonly file: string | undefined;

	constructor(group: string, brokers: readonly string[], dir: string | undefined) {
		let before: Offsets = {};
		let file: string | undefined;
		if (dir) {
			const digest = createHash('sha1').update(brokers.join(',')).digest('hex').slice(0, 12);
			file = path.join(dir, `${group.replaceAll(/[^\w.@-]/g, '_')}-${digest}.json`);
			try {
				const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
				if (parsed !== null && typeof parsed === 'object') {
					before = Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'number')) as Offsets;
				}
			} catch {
				// No state yet, or a torn write: nothing to compare with.
			}

			try {
				mkdirSync(dir, {recursive: true});
			} catch {
				file = undefined;
			}
		}

		this.before = before;
		this.now = {...before};
		this.file = file;
	}

	/** True when the previous run already handed on this offset. */
	deliveredBefore(topic: string, partition: number, offset: number): boolean {
		const last = this.before[`${topic}/${partition}`];
		return last !== undefined && offset <= last;
	}

	/** Record that offsets up to `offset` are being handed on now. */
	mark(topic: string, partition: number, offset: number): void {
		const k = `${topic}/${partition}`;
		if ((this.now[k] ?? -1) < offset) {
			this.now[k] = offset;
		}
	}

	/** Write the marks; called before the batch is published. Failures only cost the report. */
	save(): void {
		if (!this.file) {
			return;
		}

		try {
			writeFileSync(this.file, JSON.stringify(this.now));
		} catch {
			// A read-only home: duplicates after a crash go unreported, nothing else changes.
		}
	}
}
