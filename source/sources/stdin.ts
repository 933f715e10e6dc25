import {type Readable} from 'node:stream';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {LineSplitter, defaultMaxLine, truncationMarker} from '../core/lines.js';
import {eventFromLineOrJournal} from '../core/journald.js';
import {type LogSource} from './source.js';

// Lines from standard input (`some-command | logmon`). JSON lines are read as
// records (`journalctl -o json` entries among them); anything else is plain text with
// service "stdin".

export type StdinOptions = {
	name?: string;
	service?: string;
	maxLine?: number;
	input?: Readable;
};

export class StdinSource implements LogSource {
	readonly id: string;
	readonly kind = 'stdin' as const;
	readonly ended: Promise<void>;
	private readonly input: Readable;
	private readonly service: string;
	private readonly splitter: LineSplitter;
	private handle: SourceHandle | undefined;
	private finish!: () => void;

	constructor(options: StdinOptions = {}) {
		this.id = options.name ?? 'stdin';
		this.service = options.service ?? 'stdin';
		this.input = options.input ?? process.stdin;
		this.splitter = new LineSplitter(options.maxLine ?? defaultMaxLine);
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
			this.emit(this.splitter.push(buf));
		});
		this.input.once('end', () => {
			this.emit(this.splitter.end());
			handle.setState('ended');
			this.finish();
		});
		this.input.once('error', (error: Error) => {
			handle.setState('failed', error.message);
			this.finish();
		});
	}

	pause = (): void => {
		this.input.pause();
	};

	resume = (): void => {
		this.input.resume();
	};

	async stop(): Promise<void> {
		this.input.pause();
		this.input.removeAllListeners('data');
		this.finish();
	}

	private emit(lines: Array<{text: string; truncated: number}>): void {
		if (lines.length === 0 || !this.handle) {
			return;
		}

		const now = Date.now();
		const handle = this.handle;
		const origin = {sourceId: this.id, sourceKind: this.kind, service: this.service, receivedAt: now, parseError: (reason: string) => handle.parseError(reason)};
		const events: EventInit[] = [];
		for (const {text, truncated} of lines) {
			if (truncated > 0) {
				this.handle.parseError(`line longer than the cap, ${truncated} bytes cut`);
				const e = eventFromLineOrJournal(text, origin);
				const marker = truncationMarker(truncated);
				e.message += marker;
				e.raw += marker;
				events.push(e);
			} else {
				events.push(eventFromLineOrJournal(text, origin));
			}
		}

		this.handle.publish(events);
	}
}
