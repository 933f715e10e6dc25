import {type ChildProcess, spawn} from 'node:child_process';
import {type SourceHandle} from '../core/bus.js';
import {Backoff} from '../core/backoff.js';
import {type EventInit} from '../core/event.js';
import {eventFromJournal, isJournalRecord} from '../core/journald.js';
import {LineSplitter, truncationMarker} from '../core/lines.js';
import {type Origin, eventFromLine, parseJsonObject} from '../core/record.js';
import {type JournaldConfig} from '../config/journald.js';
import {type LogSource, type SourceDeps} from './source.js';

// The systemd journal, read by running `journalctl -f -o json --all [-u UNIT…]` and reading
// its entries (core/journald.ts) line by line. --all: without it journalctl writes fields
// over 4096 bytes as null. If journalctl exits, it is run again with backoff from the cursor
// of the last entry read (--after-cursor), so nothing is lost or repeated across the restart.
// Where there is no journalctl the source fails at once, saying so.

/** Bytes of journalctl's stderr kept for the reason shown in health. */
const stderrKept = 2048;

export class JournalSource implements LogSource {
	readonly kind = 'journald' as const;
	private handle: SourceHandle | undefined;
	private child: ChildProcess | undefined;
	private cursor: string | undefined;
	private stopped = false;
	private retryTimer: NodeJS.Timeout | undefined;
	private readonly backoff = new Backoff({initialMs: 1000});
	private paused = false;

	constructor(readonly id: string, readonly config: JournaldConfig, readonly deps: SourceDeps) {}

	/** The arguments journalctl is run with: from the cursor of the last entry read when there is one. */
	args(): string[] {
		const units = this.config.units.flatMap(u => ['-u', u]);
		const from = this.cursor === undefined ? [] : ['--after-cursor', this.cursor, '--lines=all'];
		return ['-f', '-o', 'json', '--all', ...units, ...from];
	}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		this.run();
	}

	pause = (): void => {
		this.paused = true;
		this.child?.stdout?.pause();
	};

	resume = (): void => {
		this.paused = false;
		this.child?.stdout?.resume();
	};

	async stop(): Promise<void> {
		this.stopped = true;
		clearTimeout(this.retryTimer);
		const child = this.child;
		this.child = undefined;
		if (child && child.exitCode === null && child.signalCode === null) {
			await new Promise<void>(resolve => {
				child.once('close', () => {
					resolve();
				});
				child.kill('SIGTERM');
			});
		}
	}

	private run(): void {
		const handle = this.handle!;
		const args = this.args();
		this.debug(`running ${this.config.journalctl} ${args.join(' ')}`);
		const startedAt = Date.now();
		const child = spawn(this.config.journalctl, args, {stdio: ['ignore', 'pipe', 'pipe']});
		this.child = child;
		const splitter = new LineSplitter(this.deps.maxLine);
		let stderr = '';
		let missing = false;
		child.stdout.on('data', (chunk: Buffer) => {
			if (handle.health.state !== 'live') {
				handle.setState('live');
			}

			handle.addBytes(chunk.length);
			this.emit(splitter.push(chunk));
		});
		if (this.paused) {
			child.stdout.pause();
		}

		child.stderr.setEncoding('utf8').on('data', (d: string) => {
			stderr = (stderr + d).slice(-stderrKept);
		});
		child.once('spawn', () => {
			handle.setState('live');
			handle.detail('command', [this.config.journalctl, ...args].join(' '));
		});
		child.once('error', (error: NodeJS.ErrnoException) => {
			if (error.code === 'ENOENT') {
				missing = true;
				handle.setState('failed', `${this.config.journalctl} not found: --journal runs systemd's journalctl, which this machine does not have on its PATH`);
			} else {
				handle.setState('failed', `cannot run ${this.config.journalctl}: ${error.message}`);
			}
		});
		child.once('close', (code, signal) => {
			this.emit(splitter.end());
			if (this.stopped || missing || this.child !== child) {
				return;
			}

			this.child = undefined;
			const why = stderr.trim().split('\n').at(-1) ?? '';
			const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
			this.backoff.connectionEnded(Date.now() - startedAt);
			const delay = this.backoff.next();
			handle.setState('retrying', `${this.config.journalctl} ${how}${why ? `: ${why}` : ''}`, delay);
			handle.reconnected();
			this.retryTimer = setTimeout(() => {
				if (!this.stopped) {
					// From the last cursor nothing is missed; without one, entries since may be.
					if (this.cursor === undefined) {
						handle.gap(startedAt);
					}

					this.run();
				}
			}, delay);
			this.retryTimer.unref();
		});
	}

	private emit(lines: Array<{text: string; truncated: number}>): void {
		const handle = this.handle;
		if (!handle || lines.length === 0) {
			return;
		}

		const origin: Origin = {sourceId: this.id, sourceKind: this.kind, service: this.config.service, receivedAt: Date.now(), parseError: reason => handle.parseError(reason)};
		const events: EventInit[] = [];
		for (const {text, truncated} of lines) {
			if (truncated > 0) {
				// An entry cut short is no longer JSON: kept as text, marked.
				handle.parseError(`a journal entry longer than the cap, ${truncated} bytes cut`);
				// journalctl writes __CURSOR first: a restart goes on after this entry, not into it again.
				const cursor = leadingCursor.exec(text)?.[1];
				if (cursor !== undefined) {
					try {
						this.cursor = JSON.parse(`"${cursor}"`) as string;
					} catch {
						// not a JSON string after all: the last whole entry's cursor stays
					}
				}

				const e = eventFromLine(text, origin);
				e.message += truncationMarker(truncated);
				e.raw += truncationMarker(truncated);
				events.push(e);
				continue;
			}

			const obj = parseJsonObject(text, origin.parseError);
			if (obj && isJournalRecord(obj)) {
				this.cursor = obj['__CURSOR'] as string;
				events.push(eventFromJournal(obj, text, origin));
			} else if (text.trim() !== '') {
				handle.parseError('journalctl wrote a line that is not a journal entry');
				events.push(eventFromLine(text, origin));
			}
		}

		handle.publish(events);
	}

	private debug(text: string): void {
		if (this.deps.debug) {
			process.stderr.write(`logmon: debug: ${this.id}: ${text}\n`);
		}
	}
}

/** The cursor at the start of an entry (journalctl's JSON begins with it), as JSON string text. */
const leadingCursor = /^\{\s*"__CURSOR"\s*:\s*"((?:[^"\\]|\\.){1,4096})"/;
