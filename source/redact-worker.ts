import {parentPort, workerData} from 'node:worker_threads';
import {lineFlag} from './core/line-screen.js';
import {LineSplitter, defaultMaxLine, truncationMarker} from './core/lines.js';
import {compileRedaction} from './core/redact.js';
import type {ScreenReply, ScreenRequest, ScreenSetup} from './redact-thread.js';

// The redaction screen's thread: for each text of a batch, or each line of a source's input
// (core/line-screen.ts), would the rules change it? The replacements themselves are made by the
// bus's thread, so hash mode needs no key here: a stand-in pseudonym serves, as nothing made here
// leaves the thread.

const setup = workerData as ScreenSetup;
const redactor = compileRedaction(setup.spec, () => '0000000000');
// The first texts meet compiled scans, not the interpreter: a few milliseconds, once.
for (let i = 0; i < 200; i++) {
	redactor.mayChange(`GET /warm/${i} 200 key=${i} session=abc 192.0.2.${i} tok_${i} +1 555${i}`);
}

parentPort?.postMessage({ready: true} satisfies ScreenReply);

const mayChange = (text: string): boolean => redactor.mayChange(text);
// A source's input, split as the source splits it. The first line it completes began before the
// first chunk sent here: it is flagged, for the source to redact whole.
const splitter = new LineSplitter(setup.maxLine ?? defaultMaxLine);
let seenWhole = false;

/** A flag per line the chunk completes, in a buffer of its own (to be transferred). */
function screenLines(chunk: ArrayBuffer): Uint8Array {
	const lines = splitter.push(Buffer.from(chunk));
	const flags = new Uint8Array(new ArrayBuffer(lines.length));
	for (const [i, {text, truncated}] of lines.entries()) {
		flags[i] = seenWhole ? lineFlag(truncated > 0 ? text + truncationMarker(truncated) : text, mayChange) : 1;
		seenWhole = true;
	}

	return flags;
}

parentPort?.on('message', (m: ScreenRequest) => {
	let reply: ScreenReply;
	const transfer: ArrayBuffer[] = [];
	try {
		if ('chunk' in m) {
			const flags = screenLines(m.chunk);
			transfer.push(flags.buffer as ArrayBuffer);
			reply = {flags};
		} else {
			const buffer = new ArrayBuffer(m.texts.length);
			const flags = new Uint8Array(buffer);
			transfer.push(buffer);
			for (const [i, text] of m.texts.entries()) {
				flags[i] = redactor.mayChange(text) ? 1 : 0;
			}

			reply = {flags};
		}
	} catch (error) {
		reply = {error: error instanceof Error ? error.message : String(error)};
	}

	parentPort!.postMessage(reply, transfer);
});

