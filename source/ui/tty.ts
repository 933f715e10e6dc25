import fs from 'node:fs';
import {PassThrough} from 'node:stream';
import tty from 'node:tty';

// Which terminal the UI draws on and reads keys from. Plain Node: main.ts
// imports this without loading React or Ink.
//
// - stdout is a terminal: draw there. Keys come from stdin when it is a
//   terminal, else from /dev/tty (`cat app.log | logmon`).
// - stdout is a pipe or file (`logmon | grep x`): draw on /dev/tty, keys from
//   /dev/tty too, and the filtered stream still goes to stdout.

export type Terminal = {
	input: NodeJS.ReadStream;
	output: NodeJS.WriteStream;
	/** File descriptor of `output`, for the synchronous restore on exit. */
	outputFd: number;
	/** True when keys can be read (a terminal in raw mode). */
	keyboard: boolean;
	/** The UI draws on /dev/tty while stdout carries the stream. */
	separateFromStdout: boolean;
	close(): void;
};

type Io = {stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream};

function openTty(path: string, flags: 'r' | 'w'): number | undefined {
	try {
		const fd = fs.openSync(path, flags);
		if (tty.isatty(fd)) {
			return fd;
		}

		fs.closeSync(fd);
	} catch {
		// No controlling terminal (cron, CI, a service): no UI.
	}

	return undefined;
}

/** The terminal for the UI, or undefined when there is none to draw on. */
export function openTerminal(io: Io = {stdin: process.stdin, stdout: process.stdout}, devTty = '/dev/tty'): Terminal | undefined {
	const owned: Array<{destroy: () => void}> = [];
	let output: NodeJS.WriteStream;
	let outputFd: number;
	if (io.stdout.isTTY) {
		output = io.stdout;
		outputFd = 1;
	} else {
		const fd = openTty(devTty, 'w');
		if (fd === undefined) {
			return undefined;
		}

		output = new tty.WriteStream(fd) as NodeJS.WriteStream;
		outputFd = fd;
		owned.push(output);
	}

	let input: NodeJS.ReadStream;
	let keyboard = true;
	if (io.stdin.isTTY) {
		input = io.stdin;
	} else {
		const fd = openTty(devTty, 'r');
		if (fd === undefined) {
			// Still draw; quitting is then Ctrl+C as a signal.
			input = new PassThrough() as unknown as NodeJS.ReadStream;
			keyboard = false;
		} else {
			input = new tty.ReadStream(fd) as NodeJS.ReadStream;
		}

		owned.push(input);
	}

	return {
		input,
		output,
		outputFd,
		keyboard,
		separateFromStdout: output !== io.stdout,
		close() {
			for (const s of owned) {
				s.destroy();
			}
		},
	};
}

/**
 * Alternate screen, cleared, cursor hidden, and autowrap off: every row is cut
 * to its pane already, and should a terminal draw some cluster wider than the
 * width tables say, the row is clipped at the edge instead of wrapping and
 * pushing every row below it down.
 */
export const enterScreen = '\u001B[?1049h\u001B[2J\u001B[H\u001B[?25l\u001B[?7l';
export const leaveScreen = '\u001B[?7h\u001B[?25h\u001B[?1049l';

/** Put the terminal back as it was: raw mode off, cursor shown, main screen. Safe to call twice, and from 'exit'. */
export function restoreTerminal(terminal: Terminal): void {
	try {
		if (terminal.input.isTTY && terminal.input.isRaw) {
			terminal.input.setRawMode(false);
		}
	} catch {
		// The terminal may already be gone (SSH dropped).
	}

	try {
		fs.writeSync(terminal.outputFd, leaveScreen);
	} catch {
		// Same.
	}
}
