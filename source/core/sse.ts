// A Server-Sent Events reader (the text/event-stream format of the HTML standard), fed with the
// body's bytes as they come. Small and ours: lines end with LF, CRLF or CR; `:` starts a comment;
// `data` lines join with LF; a blank line ends a message; `id` is remembered across messages.
// The other side is not trusted: a line longer than `maxLine` characters is skipped whole and
// counted, and a message is never bigger than that. Pure: no I/O.

export type SseMessage = {
	/** `message` unless the server named it (`event: loss`). */
	event: string;
	data: string;
	/** The last id the stream set, at or before this message; '' when none. */
	id: string;
};

export type SseReaderOptions = {
	/** Longest line kept, in characters. */
	maxLine: number;
};

export class SseReader {
	/** The id to send as Last-Event-ID when reconnecting. */
	lastEventId = '';
	/** The server's `retry:` advice, ms, when it gave one. */
	retryMs: number | undefined;
	/** Lines skipped for being too long. */
	overlong = 0;
	private readonly decoder = new TextDecoder('utf-8');
	private readonly maxLine: number;
	private partial = '';
	/** Skipping the rest of a line that grew too long. */
	private skipping = false;
	/** The last chunk ended with CR: an LF at the start of the next one belongs to it. */
	private afterCr = false;
	private event = '';
	private data: string[] = [];
	private dataLength = 0;

	constructor(options: SseReaderOptions) {
		this.maxLine = options.maxLine;
	}

	/** Feed bytes; returns the messages they complete. */
	push(chunk: Uint8Array): SseMessage[] {
		return this.pushText(this.decoder.decode(chunk, {stream: true}));
	}

	pushText(text: string): SseMessage[] {
		const out: SseMessage[] = [];
		let start = 0;
		if (this.afterCr && text.startsWith('\n')) {
			start = 1;
		}

		this.afterCr = false;
		if (!text.includes('\r')) {
			// LF only, as logmon and most servers send: indexOf finds the ends far faster than a loop.
			for (let i = text.indexOf('\n', start); i >= 0; i = text.indexOf('\n', start)) {
				this.takeLine(text.slice(start, i), out);
				start = i + 1;
			}

			this.keep(text.slice(start));
			return out;
		}

		for (let i = start; i < text.length; i++) {
			const c = text.charCodeAt(i);
			if (c !== 0x0A && c !== 0x0D) {
				continue;
			}

			this.takeLine(text.slice(start, i), out);
			if (c === 0x0D) {
				if (i + 1 === text.length) {
					this.afterCr = true;
				} else if (text.charCodeAt(i + 1) === 0x0A) {
					i++;
				}
			}

			start = i + 1;
		}

		this.keep(text.slice(start));
		return out;
	}

	/** The stream ended: an unfinished message is dropped, as the standard says. */
	end(): void {
		this.partial = '';
		this.skipping = false;
		this.afterCr = false;
		this.resetMessage();
	}

	private keep(rest: string): void {
		if (this.skipping) {
			return;
		}

		if (this.partial.length + rest.length > this.maxLine) {
			this.partial = '';
			this.skipping = true;
			this.overlong++;
			return;
		}

		this.partial += rest;
	}

	private takeLine(tail: string, out: SseMessage[]): void {
		if (this.skipping) {
			this.skipping = false;
			this.partial = '';
			// The message that line belonged to is incomplete: it is not delivered.
			this.event = '\u0000skip';
			return;
		}

		let line = tail;
		if (this.partial) {
			line = this.partial + tail;
			this.partial = '';
		}

		if (line.length > this.maxLine) {
			this.overlong++;
			this.event = '\u0000skip';
			return;
		}

		this.line(line, out);
	}

	private line(line: string, out: SseMessage[]): void {
		if (line === '') {
			this.dispatch(out);
			return;
		}

		if (line.startsWith(':')) {
			return;
		}

		const colon = line.indexOf(':');
		const field = colon < 0 ? line : line.slice(0, colon);
		let value = colon < 0 ? '' : line.slice(colon + 1);
		if (value.startsWith(' ')) {
			value = value.slice(1);
		}

		switch (field) {
			case 'data': {
				if (this.dataLength + value.length > this.maxLine) {
					this.overlong++;
					this.event = '\u0000skip';
					return;
				}

				this.data.push(value);
				this.dataLength += value.length + 1;
				break;
			}

			case 'event': {
				if (this.event !== '\u0000skip') {
					this.event = value;
				}

				break;
			}

			case 'id': {
				if (!value.includes('\u0000')) {
					this.lastEventId = value;
				}

				break;
			}

			case 'retry': {
				if (/^\d{1,9}$/.test(value)) {
					this.retryMs = Number(value);
				}

				break;
			}

			default: {
				// Unknown fields are ignored.
			}
		}
	}

	private dispatch(out: SseMessage[]): void {
		const skip = this.event === '\u0000skip';
		if (!skip && this.data.length > 0) {
			out.push({event: this.event || 'message', data: this.data.join('\n'), id: this.lastEventId});
		}

		this.resetMessage();
	}

	private resetMessage(): void {
		this.event = '';
		this.data = [];
		this.dataLength = 0;
	}
}
