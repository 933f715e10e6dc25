import {availableParallelism} from 'node:os';
import {Worker} from 'node:worker_threads';
import {type RedactScreen} from './core/redact-queue.js';
import {workerFile} from './history/worker-client.js';
import {type RedactSettings} from './settings.js';

// The redaction screen in a worker thread (redact-worker.ts): the same rules, run on each batch's
// texts while this thread goes on reading; the bus redacts here only what the worker flags
// (core/redact-queue.ts). Replies come in the order of the requests.

/** What the worker is started with. */
export type ScreenSetup = {spec: RedactSettings};

/** The batch's texts one after another in `joined`, and each one's length: one string is cheaper to copy to a thread than hundreds. */
export type ScreenRequest = {joined: string; lengths: Uint32Array};
export type ScreenReply = {flags: Uint8Array} | {error: string} | {ready: true};

/**
 * Events redacted in this thread before the worker starts: a short run never pays for a thread (its
 * start and stop cost some 40 ms of wall time here), a long one starts it within a fraction of a second.
 */
const startAfter = 20_000;

/** The characters of a batch's texts sent as one string, at most (V8's strings hold 2^29 at most). */
const maxJoined = 64 * 1024 * 1024;

class WorkerScreen implements RedactScreen {
	/** The worker has its rules compiled. */
	ready = false;
	private worker: Worker | undefined;
	private offeredEvents = 0;
	private stopped = false;
	private readonly answers: Array<(flags: Uint8Array | undefined) => void> = [];

	constructor(private readonly file: string, private readonly setup: ScreenSetup, private readonly failed: (why: string) => void) {}

	offered(events: number): void {
		this.offeredEvents += events;
		if (this.offeredEvents >= startAfter && !this.worker && !this.stopped) {
			this.start();
		}
	}

	private start(): void {
		const w = new Worker(this.file, {workerData: this.setup, resourceLimits: {maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 128}});
		w.unref();
		w.on('message', (reply: ScreenReply) => {
			if ('ready' in reply) {
				this.ready = this.worker !== undefined;
				return;
			}

			const answer = this.answers.shift();
			answer?.('flags' in reply ? reply.flags : undefined);
		});
		w.on('error', error => {
			this.stop(`the redaction thread failed: ${error.message}`);
		});
		w.on('exit', code => {
			this.stop(`the redaction thread exited (code ${code})`);
		});
		this.worker = w;
	}

	screen(texts: string[], answer: (flags: Uint8Array | undefined) => void): void {
		if (!this.worker) {
			answer(undefined);
			return;
		}

		const lengths = new Uint32Array(texts.length);
		let total = 0;
		for (const [i, text] of texts.entries()) {
			lengths[i] = text.length;
			total += text.length;
		}

		if (total > maxJoined) {
			answer(undefined); // past what one string may hold: the caller redacts the batch itself
			return;
		}

		this.answers.push(answer);
		this.worker.postMessage({joined: texts.join(''), lengths} satisfies ScreenRequest, [lengths.buffer]);
	}

	close(): void {
		const w = this.worker;
		this.worker = undefined;
		this.stopped = true;
		this.ready = false;
		this.flush();
		void w?.terminate();
	}

	private stop(why: string): void {
		if (!this.worker) {
			return;
		}

		this.worker = undefined;
		this.stopped = true;
		this.ready = false;
		this.failed(why);
		this.flush();
	}

	/** Whatever was sent and not answered is redacted by the caller. */
	private flush(): void {
		for (const answer of this.answers.splice(0)) {
			answer(undefined);
		}
	}
}

/**
 * A screen for these settings, where it pays: user rules on (the built-in ones alone cost little),
 * a second CPU, and a build with the worker's file (not the single executable).
 */
export function redactScreen(spec: RedactSettings, env: NodeJS.ProcessEnv, failed: (why: string) => void): RedactScreen | undefined {
	// `LOGMON_REDACT_THREAD=0`: one thread always; `=1`: the worker for the built-in rules too.
	const want = env['LOGMON_REDACT_THREAD'];
	if (!spec.enabled || want === '0' || (want !== '1' && (spec.rules.length === 0 || availableParallelism() < 2))) {
		return undefined;
	}

	const file = workerFile('redact-worker.js');
	return file === undefined ? undefined : new WorkerScreen(file, {spec}, failed);
}
