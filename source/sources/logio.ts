import http from 'node:http';
import https from 'node:https';
import {Backoff} from '../core/backoff.js';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {detectLevel} from '../core/level.js';
import {type LogioRecord, LogioLineParser} from '../core/logio-line.js';
import {truncationMarker} from '../core/lines.js';
import {sanitize} from '../core/sanitize.js';
import {type LogioConfig} from '../config/logio.js';
import {readErrorBody} from './error-body.js';
import {type SourceDeps} from './source.js';
import {type LogSource} from './source.js';

// Subscribe to a logio server (protocols.md §2.2): one long GET whose status line
// and headers only arrive with the first matching log, then a chunked body of
// `YYYY-MM-DDTHH:MM:SS.mmm app[proc] host: raw` lines.
//
// - Plain http.request: no header or body timeout (an idle subscription is silent
//   for as long as nothing matches), no X-Forwarded-For (logio refuses it).
// - The body is always read at once and handed to the bus, which never waits: a
//   stalled reader here would stall the whole logio server (§2.3).
// - A record is held briefly until the next record or a quiet moment, so the
//   continuation lines of a multi-line raw join it.
// - Reconnects with backoff; the gap is marked in the stream.

/** How long a record waits for continuation lines once the stream goes quiet, ms. */
const holdMs = 50;
/** How long a new connection must go unrefused before it ends the gap (without a 200 first), ms. */
const gapAfterMs = 2000;

/** The subscription URL: the config's url with app/proc/host/log from the config put over its query. */
export function subscriptionUrl(config: LogioConfig): URL {
	const url = new URL(config.url);
	for (const key of ['app', 'proc', 'host', 'log'] as const) {
		const v = config[key];
		if (v !== undefined) {
			url.searchParams.set(key, v);
		}
	}

	return url;
}

/** The URL as it may be shown: no password. */
export function redactUrl(url: URL): string {
	if (!url.password) {
		return url.href;
	}

	const copy = new URL(url.href);
	copy.password = '***';
	return copy.href;
}

export class LogioSubscriberSource implements LogSource {
	readonly kind = 'logio' as const;
	private handle: SourceHandle | undefined;
	private readonly backoff = new Backoff();
	private request: http.ClientRequest | undefined;
	private retryTimer: NodeJS.Timeout | undefined;
	private stopped = false;
	/**
	 * When the last live connection ended; set until the next one is live, for the gap marker. A
	 * connection is live once the server answers 200, or has not refused it within `gapAfterMs` (logio
	 * answers only with the first matching line); one refused (a proxy's 502 while logio is down) is
	 * no end of the gap, so an outage is one marker, not one per attempt.
	 */
	private downSince: number | undefined;
	private attempt = 0;

	constructor(readonly id: string, readonly config: LogioConfig, readonly deps: SourceDeps) {}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		let url: URL;
		try {
			url = subscriptionUrl(this.config);
		} catch (error) {
			handle.setState('failed', `url: ${(error as Error).message}`);
			return;
		}

		handle.detail('url', redactUrl(url));
		this.connect(url);
	}

	async stop(): Promise<void> {
		this.stopped = true;
		clearTimeout(this.retryTimer);
		this.request?.destroy();
		this.request = undefined;
	}

	private connect(url: URL): void {
		const handle = this.handle!;
		if (this.stopped) {
			return;
		}

		const attempt = ++this.attempt;
		const parser = new LogioLineParser(this.deps.maxLine);
		let connectedAt = 0;
		let done = false;
		let refused = false;
		let holdTimer: NodeJS.Timeout | undefined;
		let gapTimer: NodeJS.Timeout | undefined;
		const closeGap = (): void => {
			clearTimeout(gapTimer);
			gapTimer = undefined;
			if (this.downSince !== undefined && !done) {
				handle.reconnected();
				handle.gap(this.downSince, connectedAt);
				this.downSince = undefined;
			}
		};
		handle.setState('connecting');
		this.debug(`GET ${redactUrl(url)}`);

		const end = (reason: string, fatal = false): void => {
			if (done || attempt !== this.attempt) {
				return;
			}

			done = true;
			clearTimeout(holdTimer);
			clearTimeout(gapTimer);
			this.emit(parser.end(Date.now()));
			this.request?.destroy();
			this.request = undefined;
			if (this.stopped) {
				return;
			}

			if (connectedAt > 0) {
				if (!refused) {
					this.downSince ??= Date.now();
				}

				this.backoff.connectionEnded(Date.now() - connectedAt);
			}

			if (fatal) {
				handle.setState('failed', reason);
				return;
			}

			const delay = this.backoff.next();
			handle.setState('retrying', reason, delay);
			this.retryTimer = setTimeout(() => {
				this.connect(url);
			}, delay);
		};

		const client = url.protocol === 'https:' ? https : http;
		const request = client.request(url, {
			method: 'GET',
			agent: false,
			headers: {'User-Agent': 'logmon', Accept: '*/*'},
		});
		this.request = request;

		request.on('socket', socket => {
			socket.setKeepAlive(true, 30_000);
			socket.once('connect', () => {
				if (done) {
					return;
				}

				// The request is out: logio answers only when a line matches, so this is live.
				connectedAt = Date.now();
				if (this.downSince !== undefined) {
					gapTimer = setTimeout(closeGap, gapAfterMs);
				}

				handle.detail('waiting', 'for the first matching line (logio sends its headers only then)');
				handle.setState('live');
			});
		});

		request.on('response', response => {
			handle.detail('waiting', undefined);
			this.debug(`HTTP ${response.statusCode ?? '?'} ${response.headers['content-type'] ?? ''}`);
			if (response.statusCode === 200) {
				closeGap();
			} else {
				refused = true;
				clearTimeout(gapTimer);
				readErrorBody(response, body => {
					const text = sanitize(body.trim().replaceAll('\n', ' '));
					const status = response.statusCode ?? 0;
					// 4xx: the subscription itself is wrong (e.g. an invalid regex); retrying will not help.
					end(`HTTP ${status}${text ? `: ${text}` : ''}`, status >= 400 && status < 500);
				}, error => {
					end(error.message);
				});
				return;
			}

			response.on('data', (chunk: Buffer) => {
				handle.addBytes(chunk.length);
				this.emit(parser.push(chunk, Date.now()));
				if (parser.holding) {
					if (holdTimer) {
						holdTimer.refresh();
					} else {
						holdTimer = setTimeout(() => {
							this.emit(parser.flush());
						}, holdMs);
					}
				}
			});
			response.on('end', () => {
				end('the server ended the stream');
			});
			response.on('error', error => {
				end(error.message);
			});
			response.on('close', () => {
				end('the connection closed');
			});
		});

		request.on('error', error => {
			const code = (error as NodeJS.ErrnoException).code;
			end(code === 'ECONNREFUSED' ? 'connection refused' : error.message);
		});
		request.on('close', () => {
			end('the connection closed');
		});
		request.end();
	}

	private emit(records: LogioRecord[]): void {
		const handle = this.handle;
		if (records.length === 0 || !handle) {
			return;
		}

		const now = Date.now();
		const events: EventInit[] = [];
		for (const r of records) {
			if (r.orphan) {
				handle.parseError('a line without the logio prefix "time app[proc] host: "');
			}

			if (r.badTime) {
				handle.parseError('a logio line with an impossible time; the receive time is used');
			}

			let raw = r.raw;
			if (r.truncated > 0) {
				handle.parseError(`a logio record longer than the cap, ${r.truncated} bytes cut`);
				raw += truncationMarker(r.truncated);
			}

			events.push({
				time: r.time,
				receivedAt: now,
				sourceId: this.id,
				sourceKind: this.kind,
				service: sanitize(r.app),
				host: sanitize(r.host),
				proc: sanitize(r.proc),
				type: '',
				level: detectLevel({text: raw}),
				message: sanitize(raw),
				raw,
			});
		}

		handle.publish(events);
	}

	private debug(text: string): void {
		if (this.deps.debug) {
			process.stderr.write(`logmon: debug: ${this.id}: ${text}\n`);
		}
	}
}
