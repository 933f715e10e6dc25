import {parentPort, workerData} from 'node:worker_threads';
import {compileRedaction} from './core/redact.js';
import type {ScreenReply, ScreenRequest, ScreenSetup} from './redact-thread.js';

// The redaction screen's thread: for each text of a batch, would the rules change it? The
// replacements themselves are made by the bus's thread, so hash mode needs no key here: a
// stand-in pseudonym serves, as nothing made here leaves the thread.

const setup = workerData as ScreenSetup;
const redactor = compileRedaction(setup.spec, () => '0000000000');
// The first texts meet compiled scans, not the interpreter: a few milliseconds, once.
for (let i = 0; i < 200; i++) {
	redactor.mayChange(`GET /warm/${i} 200 key=${i} session=abc 192.0.2.${i} tok_${i} +1 555${i}`);
}

parentPort?.postMessage({ready: true} satisfies ScreenReply);

parentPort?.on('message', (m: ScreenRequest) => {
	let reply: ScreenReply;
	const transfer: ArrayBuffer[] = [];
	try {
		const {joined, lengths} = m;
		const buffer = new ArrayBuffer(lengths.length);
		const flags = new Uint8Array(buffer);
		transfer.push(buffer);
		let at = 0;
		for (const [i, length] of lengths.entries()) {
			flags[i] = redactor.mayChange(joined.slice(at, at + length)) ? 1 : 0;
			at += length;
		}

		reply = {flags};
	} catch (error) {
		reply = {error: error instanceof Error ? error.message : String(error)};
	}

	parentPort!.postMessage(reply, transfer);
});
