import {levelRank} from './event.js';
import {detectLevel} from './level.js';
import {type UserRegex} from './regex.js';

// Multi-line events: lines that continue the event before them are joined into it, for
// files and stdin alike. Pure: the source feeds lines and a clock, and flushes the held
// event when no line has come for a while (`heldFor`).
//
// Without a start pattern, an event continues with
//   - indented lines (Java `\tat …` and `\t... 3 more`, Python frames, Go file lines, any
//     indented continuation), and Java's `Caused by: …`;
//   - right after a first line of level WARN or above: a Java exception header
//     (`java.lang.IllegalStateException: x`) or `Traceback (most recent call last):`, as
//     logger.error(msg, e) and logging.exception write them after the message (after any
//     other line, an uncaught exception's trace is an event of its own);
//   - inside a Python traceback: the final `ValueError: msg` line, and a chained traceback;
//   - inside a Go panic (`panic: …`, `fatal error: …`): goroutine headers, function lines,
//     blank lines and `exit status N`.
// JSON records and blank lines are events of their own and never wait.
// With a start pattern, every line that does not match it continues the event before it.
// Every check is a scan of the line, never a backtracking regex: lines are untrusted.

export type MultilineOptions = {
	enabled: boolean;
	/** Lines matching this start an event; the others continue it. Undefined: the built-in rules. */
	start?: UserRegex | undefined;
	/** An event longer than this is cut there and the rest starts a new one. */
	maxLines: number;
	maxBytes: number;
};

export const defaultMultiline: MultilineOptions = {enabled: true, maxLines: 500, maxBytes: 1024 * 1024};

/** Where a held event is in the built-in rules. */
type State = 'plain' | 'python' | 'python-end' | 'go';

/** One event: its first line, and the lines that continue it (undefined for most events, which are one line). */
export type Emit = (first: string, rest: string[] | undefined, trace: boolean) => void;

export class MultilineJoiner {
	/** Events cut at maxLines or maxBytes. */
	cut = 0;
	/** The held event's first line, and the others; no array for the usual one-line event. */
	private held: string | undefined;
	private rest: string[] | undefined;
	private bytes = 0;
	private state: State = 'plain';
	private trace = false;
	private lastAt = 0;

	constructor(private readonly options: MultilineOptions, private readonly emit: Emit) {}

	get holding(): boolean {
		return this.held !== undefined;
	}

	/** Milliseconds since the held event last grew (0 when nothing is held). */
	heldFor(now: number): number {
		return this.held === undefined ? 0 : now - this.lastAt;
	}

	push(line: string, now: number): void {
		const {options} = this;
		if (!options.enabled) {
			this.emit(line, undefined, false);
			return;
		}

		if (this.held !== undefined && this.continues(line)) {
			const count = 1 + (this.rest?.length ?? 0);
			if (count >= options.maxLines || this.bytes + line.length > options.maxBytes) {
				this.cut++;
				this.flush();
				this.open(line, now, this.state);
				return;
			}

			(this.rest ??= []).push(line);
			this.bytes += line.length + 1;
			this.lastAt = now;
			return;
		}

		this.flush();
		this.open(line, now, undefined);
	}

	/** Emit the held event, if any. */
	flush(): void {
		const held = this.held;
		if (held === undefined) {
			return;
		}

		const rest = this.rest;
		// Blank lines a trace ended with belong to nothing.
		while (rest && rest.length > 0 && rest.at(-1) === '') {
			rest.pop();
		}

		this.held = undefined;
		this.rest = undefined;
		this.bytes = 0;
		this.emit(held, rest && rest.length > 0 ? rest : undefined, this.trace);
	}

	private open(line: string, now: number, state: State | undefined): void {
		if (!this.options.start && (line === '' || isJsonLine(line))) {
			this.emit(line, undefined, false);
			return;
		}

		this.held = line;
		this.bytes = line.length;
		this.lastAt = now;
		this.state = state ?? startState(line);
		this.trace = this.state !== 'plain';
	}

	private continues(line: string): boolean {
		const start = this.options.start;
		if (start) {
			return !start.test(line);
		}

		switch (this.state) {
			case 'go': {
				return line === '' || isIndented(line) || line.startsWith('goroutine ') || line.startsWith('created by ')
					|| line.startsWith('[signal ') || line.startsWith('exit status ') || isGoFrame(line);
			}

			case 'python': {
				if (isIndented(line)) {
					return true;
				}

				if (isExceptionLine(line)) {
					this.state = 'python-end';
					return true;
				}

				return false;
			}

			case 'python-end': {
				if (line === '' || line.startsWith('During handling of the above exception') || line.startsWith('The above exception was the direct cause')) {
					return true;
				}

				if (line === pythonStart) {
					this.state = 'python';
					return true;
				}

				return false;
			}

			case 'plain': {
				if (isIndented(line)) {
					if (line.startsWith('\tat ') || line.startsWith('    at ')) {
						this.trace = true;
					}

					return true;
				}

				if (line.startsWith('Caused by: ')) {
					this.trace = true;
					return true;
				}

				if (this.rest === undefined && line === pythonStart && saysTrouble(this.held!)) {
					this.state = 'python';
					this.trace = true;
					return true;
				}

				if (this.rest === undefined && isJavaHeader(line) && saysTrouble(this.held!)) {
					this.trace = true;
					return true;
				}

				return false;
			}
		}
	}
}

const pythonStart = 'Traceback (most recent call last):';

function startState(line: string): State {
	if (line === pythonStart) {
		return 'python';
	}

	if (line.startsWith('panic: ') || line.startsWith('fatal error: ')) {
		return 'go';
	}

	return 'plain';
}

/** A log line of level WARN or above: what a logged exception's message line is. */
function saysTrouble(line: string): boolean {
	return levelRank[detectLevel({text: line})] >= levelRank.WARN;
}

/** Starts with a space or tab and has something else after it. */
function isIndented(line: string): boolean {
	const c = line.charCodeAt(0);
	return (c === 0x20 || c === 0x09) && line.trim() !== '';
}

function isJsonLine(line: string): boolean {
	return line.charCodeAt(0) === 0x7B /* { */ && line.charCodeAt(line.length - 1) === 0x7D /* } */;
}

/** `Name` or `name.Name` alone or before `: …`: [A-Za-z_][\w.$]*, returns where it ends or -1. */
function dottedName(line: string): number {
	const c0 = line.charCodeAt(0);
	if (!((c0 >= 0x41 && c0 <= 0x5A) || (c0 >= 0x61 && c0 <= 0x7A) || c0 === 0x5F)) {
		return -1;
	}

	let i = 1;
	for (; i < line.length; i++) {
		const c = line.charCodeAt(i);
		const word = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c === 0x5F || c === 0x2E || c === 0x24;
		if (!word) {
			break;
		}
	}

	if (i === line.length || (line.charCodeAt(i) === 0x3A /* : */)) {
		return i;
	}

	return -1;
}

/** The last line of a Python traceback: `ValueError: msg`, `KeyboardInterrupt`, `mod.CustomError: x`. */
function isExceptionLine(line: string): boolean {
	return dottedName(line) > 0;
}

/** `java.lang.IllegalStateException: msg` or `com.x.BadThing` ending in Exception, Error or Throwable. */
function isJavaHeader(line: string): boolean {
	const end = dottedName(line);
	if (end <= 0) {
		return false;
	}

	const name = line.slice(0, end);
	return name.includes('.') && (name.endsWith('Exception') || name.endsWith('Error') || name.endsWith('Throwable'));
}

/** A Go stack frame's function line: `main.main()`, `main.(*T).run(0xc000010000, …)`. */
function isGoFrame(line: string): boolean {
	const open = line.indexOf('(');
	if (open <= 0 || line.charCodeAt(line.length - 1) !== 0x29 /* ) */) {
		return false;
	}

	const space = line.indexOf(' ');
	return (space === -1 || space > open) && line.lastIndexOf('.', open) > 0;
}
