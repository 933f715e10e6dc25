import {once} from 'node:events';
import {type Writable} from 'node:stream';
import {type EventInit} from './core/event.js';
import {LineSplitter} from './core/lines.js';
import {eventFromLine} from './core/record.js';
import {sanitize} from './core/sanitize.js';
import {type Redactor} from './core/redact.js';
import {exitCodes} from './exit.js';

// `logmon redact --test`: each line of stdin as the redaction stage leaves it (JSON lines as
// records, so field rules apply), followed by the rules that fired, so a user can check their
// rules before trusting them:
//
//   key=[REDACTED:aws-key] card=[REDACTED:card]
//     ← aws-key, card

export type RedactTestOptions = {
	stdin: NodeJS.ReadableStream;
	stdout: NodeJS.WritableStream & {isTTY?: boolean};
	/** Colour the rule names (dim) when true. */
	color: boolean;
	maxLine: number;
};

export async function runRedactTest(redactor: Redactor | undefined, options: RedactTestOptions): Promise<number> {
	const {stdout} = options;
	const splitter = new LineSplitter(options.maxLine);
	// The reader may go away (`| head -1`): then reading stops, and that is no error.
	let closed = false;
	stdout.on('error', () => {
		closed = true;
	});
	const show = (e: EventInit): void => {
		if (redactor) {
			redactor.redactEvent(e);
		}

		// The raw line is what `-o raw` and the logio fan-out pass on; on a terminal, made safe.
		let out = (stdout.isTTY ? sanitize(e.raw) : e.raw) + '\n';
		const fired = redactor?.fired() ?? [];
		if (fired.length > 0) {
			const names = `  ← ${fired.join(', ')}`;
			out += (options.color ? `\u001B[2m${names}\u001B[22m` : names) + '\n';
		}

		if (!closed) {
			stdout.write(out);
		}
	};

	const origin = {sourceId: 'stdin', sourceKind: 'stdin' as const, service: 'stdin', receivedAt: Date.now()};
	for await (const chunk of options.stdin) {
		for (const {text} of splitter.push(chunk as Buffer)) {
			show(eventFromLine(text.endsWith('\r') ? text.slice(0, -1) : text, origin));
		}

		if (closed) {
			return exitCodes.ok;
		}

		if ((stdout as Partial<Writable>).writableNeedDrain) {
			// eslint-disable-next-line no-await-in-loop
			await once(stdout as Writable, 'drain').catch(() => undefined); // an error: `closed` says so
		}
	}

	for (const {text} of splitter.end()) {
		show(eventFromLine(text, origin));
	}

	return exitCodes.ok;
}
