import net from 'node:net';
import {hostname} from 'node:os';
import {type Readable} from 'node:stream';
import {type Flags} from '../cli.js';
import {Backoff, type BackoffOptions} from '../core/backoff.js';
import {defaultMaxValueBytes} from '../core/json-stream.js';
import {LineSplitter} from '../core/lines.js';
import {sanitize} from '../core/sanitize.js';
import {exitCodes} from '../exit.js';

// The logio publisher protocol (protocols.md §2.1): connect over TCP, write the
// topic {"app","proc","host"}, then one {"time","raw"} value per log. There is no
// ack, so "sent" means handed to the operating system on a live connection.
//
// While connected, a caller that writes faster than the socket drains is asked to
// wait (`full` / `drained()`), so piping a file loses nothing. While the server is
// away, logs queue up to a limit and the rest are dropped with a count, as the Go
// client does, so a live `tail -f | logmon publish` never blocks its writer. The
// queue's bytes are bounded as well as its count (values are up to --max-line long,
// and 10,000 of 1 MiB would be 10 GB): past `queueBytes`, a caller is asked to wait
// while connected, and logs are dropped with a count while the server is away.

export type LogioTopic = {app: string; proc: string; host: string};

export type LogioPublisherOptions = {
	host: string;
	port: number;
	topic: LogioTopic;
	/** Logs held while disconnected or while the socket is busy; more are dropped. Default 10,000. */
	queueLimit?: number;
	/** Bytes of encoded logs held: past them the caller waits (connected) or logs are dropped. Default 32 MiB. */
	queueBytes?: number;
	/** Largest value the server takes; longer raws are cut to fit. Default 1 MiB. */
	maxValueBytes?: number;
	backoff?: BackoffOptions;
	/** Connection news for a person: connected, retrying, the server's error text. */
	onNotice?: (text: string) => void;
};

export type PublishResult = {sent: number; dropped: number};

/** Bytes of encoded logs a publisher holds: 32 MiB. */
export const defaultQueueBytes = 32 * 1024 * 1024;

/** Parse `logio://host:7701?app=myapp&proc=web&host=name`; proc defaults to `stdin`, host to this machine's name. */
export function parseLogioUrl(url: URL, defaults: Partial<LogioTopic> = {}): {host: string; port: number; topic: LogioTopic} {
	if (url.protocol !== 'logio:') {
		throw new Error(`expected a logio:// URL, got ${url.protocol}//`);
	}

	const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
	const port = url.port === '' ? 7701 : Number(url.port);
	const q = url.searchParams;
	return {
		host,
		port,
		topic: {
			app: q.get('app') ?? defaults.app ?? '',
			proc: q.get('proc') ?? defaults.proc ?? 'stdin',
			host: q.get('host') ?? defaults.host ?? hostname(),
		},
	};
}

/** One log value, with raw cut so the encoded value stays under `max` bytes. */
export function encodeLog(raw: string, time: number, max = defaultMaxValueBytes): string {
	const stamp = new Date(time).toISOString();
	let value = JSON.stringify({time: stamp, raw});
	if (value.length * 3 <= max || Buffer.byteLength(value) <= max) {
		return value;
	}

	// Escapes can make a character six bytes long; cutting to a sixth of the cap always fits.
	const cut = raw.slice(0, Math.floor((max - 100) / 6));
	value = JSON.stringify({time: stamp, raw: cut.endsWith('\n') ? cut : cut + '\n'});
	return value;
}

export class LogioPublisher {
	/** Logs handed to a live connection. */
	sent = 0;
	/** Logs lost: queue full, connection failed under them, or still queued at close. */
	dropped = 0;
	private readonly options: Required<Omit<LogioPublisherOptions, 'backoff' | 'onNotice'>> & Pick<LogioPublisherOptions, 'onNotice'>;
	private readonly backoff: Backoff;
	private socket: net.Socket | undefined;
	private connected = false;
	private busy = false; // the socket asked us to wait for 'drain'
	private queue: string[] = [];
	private bytes = 0;
	private retryTimer: NodeJS.Timeout | undefined;
	private closing = false;
	private waiters: Array<() => void> = [];
	private wasUp = false;
	private retryNoticed = false;

	constructor(options: LogioPublisherOptions) {
		this.options = {queueLimit: 10_000, queueBytes: defaultQueueBytes, maxValueBytes: defaultMaxValueBytes, ...options};
		this.backoff = new Backoff({initialMs: 250, maxMs: 5000, ...options.backoff});
		this.connect();
	}

	/** True when the caller should wait for `drained()` before sending more. */
	get full(): boolean {
		return this.connected && (this.bytes >= this.options.queueBytes || this.queue.length >= Math.min(1000, this.options.queueLimit));
	}

	/** Bytes of the logs queued (UTF-8, as they go out). */
	get queuedBytes(): number {
		return this.bytes;
	}

	get isConnected(): boolean {
		return this.connected;
	}

	/** Queue one log (raw should end with \n, as Go's log lines do). Returns false when it was dropped. */
	send(raw: string, time = Date.now()): boolean {
		if (this.queue.length >= this.options.queueLimit) {
			this.dropped++;
			return false;
		}

		const value = encodeLog(raw, time, this.options.maxValueBytes);
		const size = Buffer.byteLength(value);
		// While the server is away nobody waits: what would pass the bytes is dropped, as past the count.
		if (!this.connected && this.queue.length > 0 && this.bytes + size > this.options.queueBytes) {
			this.dropped++;
			return false;
		}

		this.queue.push(value);
		this.bytes += size;
		if (this.connected && !this.busy && this.queue.length === 1) {
			queueMicrotask(() => {
				this.pump();
			});
		}

		return true;
	}

	/** Resolves when the queue is low again, or the connection is down (then sending drops instead of waiting). */
	async drained(): Promise<void> {
		if (!this.full) {
			return;
		}

		await new Promise<void>(resolve => {
			this.waiters.push(resolve);
		});
	}

	/** Send what is queued (waiting up to `timeoutMs` for a connection), then disconnect. */
	async close(timeoutMs = 5000): Promise<PublishResult> {
		this.closing = true;
		const deadline = Date.now() + timeoutMs;
		while (this.queue.length > 0 && Date.now() < deadline) {
			await new Promise(resolve => setTimeout(resolve, 20));
		}

		clearTimeout(this.retryTimer);
		this.dropped += this.queue.length;
		this.queue = [];
		this.bytes = 0;
		const socket = this.socket;
		if (socket && !socket.destroyed) {
			await new Promise<void>(resolve => {
				const timer = setTimeout(() => {
					socket.destroy();
				}, Math.max(100, deadline - Date.now()));
				socket.once('close', () => {
					clearTimeout(timer);
					resolve();
				});
				socket.end();
			});
		}

		this.wake();
		return {sent: this.sent, dropped: this.dropped};
	}

	private connect(): void {
		const {host, port, topic} = this.options;
		const socket = net.connect({host, port});
		this.socket = socket;
		socket.setNoDelay(true);
		socket.setKeepAlive(true, 30_000);
		let upAt = 0;
		socket.once('connect', () => {
			upAt = Date.now();
			this.connected = true;
			this.busy = false;
			if (this.wasUp || this.retryNoticed) {
				this.notice(`connected to ${host}:${port}`);
			}

			this.wasUp = true;
			this.retryNoticed = false;
			socket.write(JSON.stringify(topic));
			this.pump();
		});
		socket.on('drain', () => {
			this.busy = false;
			this.pump();
		});
		socket.setEncoding('utf8');
		socket.on('data', (text: string) => {
			// logio writes only to say why it is closing the connection. After our own end it
			// says `EOF` (its decoder reached the end of our stream): that is a clean close.
			const said = text.trim();
			if (this.closing && said === 'EOF') {
				return;
			}

			this.notice(`the server says: ${sanitize(said.slice(0, 500))}`);
		});
		socket.on('error', error => {
			const code = (error as NodeJS.ErrnoException).code;
			if (!this.retryNoticed && !this.closing) {
				this.retryNoticed = true;
				this.notice(`cannot send to ${host}:${port} (${code === 'ECONNREFUSED' ? 'connection refused' : error.message}); retrying`);
			}
		});
		socket.on('close', () => {
			this.connected = false;
			this.busy = false;
			if (this.socket === socket) {
				this.socket = undefined;
			}

			this.wake();

			if (upAt > 0) {
				this.backoff.connectionEnded(Date.now() - upAt);
			}

			if (this.closing && this.queue.length === 0) {
				return;
			}

			this.retryTimer = setTimeout(() => {
				this.connect();
			}, this.backoff.next());
		});
	}

	// Write the queue in batches, stopping when the socket asks to wait.
	private pump(): void {
		const socket = this.socket;
		while (this.connected && !this.busy && socket && this.queue.length > 0) {
			const batch = this.queue.splice(0, 500);
			const n = batch.length;
			const text = batch.join('');
			this.bytes = this.queue.length === 0 ? 0 : this.bytes - Buffer.byteLength(text);
			const ok = socket.write(text, error => {
				if (error) {
					this.dropped += n;
				} else {
					this.sent += n;
				}
			});
			if (!ok) {
				this.busy = true;
			}
		}

		if (!this.full) {
			this.wake();
		}
	}

	private wake(): void {
		const waiters = this.waiters;
		this.waiters = [];
		for (const w of waiters) {
			w();
		}
	}

	private notice(text: string): void {
		this.options.onNotice?.(text);
	}
}

/** `logmon publish --to 'logio://host:7701?app=myapp&proc=web'`: stdin lines to a logio server. */
export async function publishLogio(url: URL, flags: Flags, input: Readable, stderr: NodeJS.WritableStream): Promise<number> {
	let target: ReturnType<typeof parseLogioUrl>;
	try {
		target = parseLogioUrl(url);
		if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65_535) {
			throw new Error(`bad port in ${url.href}`);
		}
	} catch (error) {
		stderr.write(`logmon: publish: --to: ${(error as Error).message}\n`);
		return exitCodes.usage;
	}

	if (target.topic.app === '') {
		stderr.write('logmon: publish: --to: the logio URL needs ?app=NAME, e.g. logio://127.0.0.1:7701?app=myapp&proc=web\n');
		return exitCodes.usage;
	}

	const maxLine = flags.maxLine ?? 256 * 1024;
	const publisher = new LogioPublisher({
		...target,
		onNotice(text) {
			stderr.write(`logmon: publish: ${text}\n`);
		},
	});
	const splitter = new LineSplitter(maxLine);
	let lines = 0;
	const sendLines = (chunk: Buffer | undefined): void => {
		const out = chunk ? splitter.push(chunk) : splitter.end();
		for (const {text} of out) {
			lines++;
			publisher.send(text + '\n');
		}
	};

	await new Promise<void>(resolve => {
		input.on('data', (chunk: Buffer | string) => {
			sendLines(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
			if (publisher.full) {
				input.pause();
				void publisher.drained().then(() => input.resume());
			}
		});
		input.once('end', () => {
			sendLines(undefined);
			resolve();
		});
		input.once('error', error => {
			stderr.write(`logmon: publish: reading stdin: ${error.message}\n`);
			resolve();
		});
	});

	const result = await publisher.close();
	if (result.dropped > 0) {
		stderr.write(`logmon: publish: ${result.dropped} of ${lines} lines could not be sent to ${target.host}:${target.port}\n`);
	}

	return exitCodes.ok;
}
