import {parentPort} from 'node:worker_threads';
import {SegmentReader, type TextCounts} from './segment-text.js';

// A worker of `logmon query`'s scan (inflate-pool.ts): it inflates sealed segments, member by
// member, and hands each member's text over (moved, not copied) with the CRC-32 it must have,
// while the query's thread checks, searches and decodes the text before: inflating is the larger
// half of the work. One segment at a time, in the order asked; at most `ahead` members of a
// segment wait there before the query's thread asks for more.

export type InflateRequest =
	| {op: 'read'; id: number; file: string; ahead: number}
	| {op: 'more'; id: number}
	| {op: 'stop'; id: number};

export type InflateReply =
	| {id: number; text: ArrayBuffer; length: number; crc?: number | undefined}
	| {id: number; end: true; damaged: boolean};

type Job = {id: number; file: string; credit: number; stopped: boolean; wake?: (() => void) | undefined};

const reader = new SegmentReader();
const jobs: Job[] = [];
const byId = new Map<number, Job>();
let running = false;

/** The text as an ArrayBuffer of its own, to move: a member's (the whole of its memory) as it is, anything else copied. */
function movable(text: Buffer, own: boolean): ArrayBuffer {
	// Buffer's shared pool is never moved: other buffers of this thread live in it.
	if (own && text.byteOffset === 0 && text.buffer instanceof ArrayBuffer && text.buffer.byteLength > Buffer.poolSize) {
		return text.buffer;
	}

	return new Uint8Array(text).buffer;
}

async function read(job: Job): Promise<void> {
	const counts: TextCounts = {damaged: false};
	for await (const {text, own, crc} of reader.pieces(job.file, counts, false)) {
		while (job.credit === 0 && !job.stopped) {
			await new Promise<void>(resolve => {
				job.wake = resolve;
			});
			job.wake = undefined;
		}

		if (job.stopped) {
			return;
		}

		if (text.length > 0) {
			job.credit--;
			const buffer = movable(text, own);
			parentPort!.postMessage({id: job.id, text: buffer, length: text.length, crc} satisfies InflateReply, [buffer]);
		}
	}

	parentPort!.postMessage({id: job.id, end: true, damaged: counts.damaged} satisfies InflateReply);
}

async function run(): Promise<void> {
	if (running) {
		return;
	}

	running = true;
	try {
		for (let job = jobs.shift(); job; job = jobs.shift()) {
			if (!job.stopped) {
				try {
					await read(job);
				} catch {
					parentPort!.postMessage({id: job.id, end: true, damaged: true} satisfies InflateReply);
				}
			}

			byId.delete(job.id);
		}
	} finally {
		running = false;
	}
}

parentPort?.on('message', (m: InflateRequest) => {
	const job = byId.get(m.id);
	switch (m.op) {
		case 'read': {
			const added: Job = {id: m.id, file: m.file, credit: m.ahead, stopped: false};
			jobs.push(added);
			byId.set(m.id, added);
			void run();
			break;
		}

		case 'more': {
			if (job) {
				job.credit++;
				job.wake?.();
			}

			break;
		}

		case 'stop': {
			if (job) {
				job.stopped = true;
				job.wake?.();
			}

			break;
		}
	}
});
