import {parentPort, workerData} from 'node:worker_threads';
import {checkCrc} from './gzip-members.js';
import {linePicker} from './line-filter.js';
import {type LineCounts, matchLines, type ScanTask, taskAccept} from './scan-task.js';
import {MemberInflater} from './member-inflater.js';
import {Lines, maxMemberText, SegmentReader, type TextCounts} from './segment-text.js';

// A worker of `logmon query`'s scan (scan-pool.ts): it reads whole sealed segments, each in turn,
// and does all of a segment's work: inflate its members, check their CRC-32, pick the lines
// that may match by their bytes, decode those and test them (scan-task.ts). It hands back only
// the matching lines, or with `count` only their number, so that two of these on two cores do
// the scan's work side by side while the query's thread merges in order and prints. At most
// `ahead` batches of lines of a segment wait there before the query's thread asks for more.

export type ScanRequest =
	| {op: 'read'; id: number; file: string; ahead: number}
	| {op: 'more'; id: number}
	| {op: 'stop'; id: number};

export type ScanReply =
	| {id: number; lines: ArrayBuffer}
	| {id: number; end: true; damaged: boolean; matched: number; damagedLines: number};

type Job = {id: number; file: string; credit: number; stopped: boolean; wake?: (() => void) | undefined};

/** Matching lines are sent in batches of about this much. */
const batchBytes = 256 * 1024;

const task = workerData as ScanTask;
const accept = taskAccept(task);
const pick = linePicker(task.test);
const reader = new SegmentReader(undefined, {inflater: MemberInflater.create(maxMemberText), blocking: true});
const jobs: Job[] = [];
const byId = new Map<number, Job>();
let running = false;

/** The byte ranges of `from` (all of each buffer when not given) as one buffer of its own, to move to the query's thread. */
function gather(from: Buffer[], ranges = from.map(b => [0, b.length])): ArrayBuffer {
	let size = 0;
	for (const r of ranges) {
		for (let i = 0; i < r.length; i += 2) {
			size += r[i + 1]! - r[i]!;
		}
	}

	const out = Buffer.from(new ArrayBuffer(size));
	let at = 0;
	for (const [k, r] of ranges.entries()) {
		for (let i = 0; i < r.length; i += 2) {
			at += from[k]!.copy(out, at, r[i], r[i + 1]);
		}
	}

	return out.buffer as ArrayBuffer;
}

async function read(job: Job, counts: LineCounts): Promise<void> {
	const text: TextCounts = {damaged: false};
	const lines = new Lines();
	// Matching lines waiting to be sent, each copied out of the text (the next member overwrites it).
	let held: Buffer[] = [];
	let heldBytes = 0;
	const send = async (): Promise<boolean> => {
		while (job.credit === 0 && !job.stopped) {
			await new Promise<void>(resolve => {
				job.wake = resolve;
			});
			job.wake = undefined;
		}

		if (job.stopped) {
			return false;
		}

		job.credit--;
		const buffer = gather(held);
		held = [];
		heldBytes = 0;
		parentPort!.postMessage({id: job.id, lines: buffer} satisfies ScanReply, [buffer]);
		return true;
	};

	let damaged = false;
	for await (const piece of reader.pieces(job.file, text, false)) {
		if (job.stopped) {
			return;
		}

		if (piece.afterGap) {
			lines.skipPart();
		}

		if (piece.crc !== undefined && !checkCrc(piece.text, piece.crc)) {
			// Damaged: nothing of this member, and the line it cut at each end is a part.
			damaged = true;
			lines.skipPart();
			continue;
		}

		for (const chunk of lines.take(piece.text)) {
			const picked = pick(chunk);
			if (picked.length === 0) {
				continue;
			}

			if (task.undecoded && !task.count) {
				const lines = Buffer.from(gather([picked]));
				held.push(lines);
				heldBytes += lines.length;
				continue;
			}

			const matched = task.count ? undefined : [];
			matchLines(picked, accept, counts, matched);
			if (matched && matched.length > 0) {
				const lines = Buffer.from(gather([picked], [matched]));
				held.push(lines);
				heldBytes += lines.length;
			}
		}

		if (heldBytes >= batchBytes && !(await send())) {
			return;
		}
	}

	if (heldBytes > 0 && !(await send())) {
		return;
	}

	parentPort!.postMessage({id: job.id, end: true, damaged: damaged || text.damaged, ...counts} satisfies ScanReply);
}

async function run(): Promise<void> {
	if (running) {
		return;
	}

	running = true;
	try {
		for (let job = jobs.shift(); job; job = jobs.shift()) {
			if (!job.stopped) {
				const counts: LineCounts = {matched: 0, damagedLines: 0};
				try {
					await read(job, counts);
				} catch {
					parentPort!.postMessage({id: job.id, end: true, damaged: true, ...counts} satisfies ScanReply);
				}
			}

			byId.delete(job.id);
		}
	} finally {
		running = false;
	}
}

parentPort?.on('message', (m: ScanRequest) => {
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
