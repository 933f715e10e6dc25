import type http from 'node:http';
import {type ConnectConfig} from '../config/connect.js';
import {isLoopback} from '../config/logio.js';
import {Backoff, type BackoffOptions} from '../core/backoff.js';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {readRemoteHealth} from '../core/remote-health.js';
import {type SseMessage, SseReader} from '../core/sse.js';
import {RecentIds, readLoss, readRemoteEvent, remoteEvent} from './connect-event.js';
import {readErrorBody} from './error-body.js';
import {RequestError, client, endpoint, getJson, refusalText, requestHeaders} from './connect-http.js';
import {redactUrl} from './logio.js';
import {describeNetworkError} from './net-error.js';
import {type LogSource, type SourceDeps} from './source.js';

// Another logmon's live stream (`logmon serve`, or any run with --http): GET /api/v1/stream, read
// as Server-Sent Events, so the terminal UI runs against a remote or local service.
//
// - First connection: the newest `backlog` events from /api/v1/logs/events, so the view starts
//   with context; the stream then resumes after the newest of them.
// - Every reconnection sends Last-Event-ID: the remote sends what was missed (from its history or
//   memory), then live. A gap marker covers the time the stream was down; event ids seen lately are
//   remembered, so an event sent twice across a resume is taken once.
// - The remote's own `event: loss` notices (it dropped events because we read too slowly) are
//   counted as drops and marked in the stream.
// - /api/v1/health is read every healthIntervalMs while the stream is up: the status bar shows
//   the remote's sources.
// - The bus may pause it (a full pipe): the socket stops being read and the remote's bounded queue
//   for us fills; what it then drops it tells us, and we count.

export type ConnectOptions = {
	backoff?: BackoffOptions;
};

/** A request that gives no answer headers within this long is abandoned, ms. */
const answerTimeoutMs = 15_000;
/** Largest /api/v1/logs/events answer read for the backlog, bytes. */
const maxBacklogBytes = 256 * 1024 * 1024;
const maxHealthBytes = 1024 * 1024;

/** The answers after which trying again cannot help: the URL, the token or the request is wrong. */
function fatalStatus(status: number): boolean {
	return status === 400 || status === 401 || status === 403 || status === 404 || status === 405;
}

function advice(status: number): string {
	switch (status) {
		case 401:
		case 403: {
			return ' (give the remote\'s http.token with --token or the source\'s "token")';
		}

		case 404:
		case 405: {
			return ' (is it a logmon serve, or a logmon run with --http, at that address?)';
		}

		default: {
			return '';
		}
	}
}

export class ConnectSource implements LogSource {
	readonly kind = 'connect' as const;
	private handle: SourceHandle | undefined;
	private base: URL | undefined;
	private readonly backoff: Backoff;
	private readonly recent = new RecentIds();
	private stopped = false;
	private failed = false;
	private paused = false;
	private attempt = 0;
	private retryTimer: NodeJS.Timeout | undefined;
	private deadTimer: NodeJS.Timeout | undefined;
	private healthTimer: NodeJS.Timeout | undefined;
	private healthAbort: AbortController | undefined;
	private request: http.ClientRequest | undefined;
	private response: http.IncomingMessage | undefined;
	/** The id of the newest event taken: sent as Last-Event-ID. */
	private lastEventId = '';
	private backlogDone = false;
	/** Set when a live stream ended; the gap marker covers from here to the next one. */
	private downSince: number | undefined;
	private duplicates = 0;
	private remoteLost = 0;

	constructor(readonly id: string, readonly config: ConnectConfig, readonly deps: SourceDeps, options: ConnectOptions = {}) {
		this.backoff = new Backoff({initialMs: 500, maxMs: 30_000, ...options.backoff});
	}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		this.stopped = false;
		try {
			this.base = new URL(this.config.url);
		} catch (error) {
			handle.setState('failed', `url: ${(error as Error).message}`);
			return;
		}

		handle.detail('url', redactUrl(this.base));
		const host = this.base.hostname.replace(/^\[|\]$/g, '');
		if (this.config.token !== undefined && this.base.protocol === 'http:' && !isLoopback(host)) {
			handle.log('warn', `the token goes to ${host} in clear text (http://); put TLS in front of it (https://) or use an SSH tunnel`);
		}

		void this.connect();
	}

	async stop(): Promise<void> {
		this.stopped = true;
		clearTimeout(this.retryTimer);
		this.endStream();
	}

	readonly pause = (): void => {
		this.debug('paused: a consumer is full; the remote holds, then drops, what comes meanwhile');
		this.paused = true;
		this.response?.pause();
		clearTimeout(this.deadTimer);
	};

	readonly resume = (): void => {
		this.debug('resumed');
		this.paused = false;
		if (this.response) {
			this.response.resume();
			this.armDeadTimer();
		}
	};

	// --- connection -------------------------------------------------------

	private async connect(): Promise<void> {
		const handle = this.handle!;
		if (this.stopped || this.failed) {
			return;
		}

		const attempt = ++this.attempt;
		handle.setState('connecting');
		if (!this.backlogDone && this.config.backlog > 0) {
			const ok = await this.readBacklog();
			if (!ok || attempt !== this.attempt || this.stopped || this.failed) {
				return;
			}
		}

		this.openStream(attempt);
	}

	/** The newest events, oldest first, before the stream; false when it stopped or will retry. */
	private async readBacklog(): Promise<boolean> {
		const handle = this.handle!;
		const url = endpoint(this.base!, 'api/v1/logs/events', true);
		url.searchParams.set('limit', String(this.config.backlog));
		this.debug(`GET ${redactUrl(url)}`);
		let answer;
		try {
			answer = await getJson(url, {token: this.config.token, timeoutMs: 60_000, maxBytes: maxBacklogBytes});
		} catch (error) {
			this.retry(error instanceof RequestError ? `backlog: ${error.message}` : describeNetworkError(error));
			return false;
		}

		if (this.stopped) {
			return false;
		}

		if (answer.status !== 200) {
			if (fatalStatus(answer.status) && answer.status !== 404) {
				this.fail(refusalText(answer.status, answer.text) + advice(answer.status));
				return false;
			}

			if (answer.status !== 404) {
				this.retry(`backlog: ${refusalText(answer.status, answer.text)}`);
				return false;
			}

			// A logmon without the events API: live only.
			handle.log('warn', `${url.pathname}: ${refusalText(answer.status, answer.text)}; no backlog, live events only`);
			this.backlogDone = true;
			return true;
		}

		const events = (answer.json as Record<string, unknown> | undefined)?.['events'];
		if (!Array.isArray(events)) {
			handle.parseError(`${url.pathname} answered without an "events" list; no backlog`);
			this.backlogDone = true;
			return true;
		}

		const now = Date.now();
		const batch: EventInit[] = [];
		// Newest first in the answer: taken oldest first.
		for (let i = events.length - 1; i >= 0; i--) {
			const read = remoteEvent(events[i], this.id, now);
			if (typeof read === 'string') {
				handle.parseError(read);
				continue;
			}

			this.take(read.id, read.event, read.warning, batch);
		}

		this.backlogDone = true;
		handle.detail('backlog', batch.length);
		handle.publish(batch);
		return true;
	}

	private openStream(attempt: number): void {
		const handle = this.handle!;
		const url = endpoint(this.base!, 'api/v1/stream', true);
		const headers = requestHeaders(this.config.token, 'text/event-stream');
		if (this.lastEventId) {
			headers['Last-Event-ID'] = this.lastEventId;
		}

		this.debug(`GET ${redactUrl(url)}${this.lastEventId ? ` (Last-Event-ID: ${this.lastEventId})` : ''}`);
		let connectedAt = 0;
		let done = false;
		// An event's JSON holds its raw text and message, escaped: up to several times --max-line.
		const maxLine = this.deps.maxLine * 8 + 65_536;
		const reader = new SseReader({maxLine});
		const answerTimer = setTimeout(() => {
			end(`no answer within ${answerTimeoutMs / 1000} s`);
		}, answerTimeoutMs);

		const end = (reason: string, fatal = false): void => {
			if (done || attempt !== this.attempt) {
				return;
			}

			done = true;
			clearTimeout(answerTimer);
			this.endStream();
			reader.end();
			if (this.stopped) {
				return;
			}

			if (connectedAt > 0) {
				this.downSince ??= Date.now();
				this.backoff.connectionEnded(Date.now() - connectedAt);
			}

			if (fatal) {
				this.fail(reason);
			} else {
				this.retry(reason);
			}
		};

		const request = client(url).request(url, {method: 'GET', agent: false, headers});
		this.request = request;
		request.on('socket', socket => {
			socket.setKeepAlive(true, 30_000);
		});
		request.on('response', response => {
			clearTimeout(answerTimer);
			const status = response.statusCode ?? 0;
			this.debug(`HTTP ${status} ${response.headers['content-type'] ?? ''}`);
			if (status !== 200 || !/^text\/event-stream\b/i.test(response.headers['content-type'] ?? '')) {
				readErrorBody(response, body => {
					const why = status === 200 ? `${url.pathname} did not answer with an event stream` : refusalText(status, body);
					end(why + advice(status === 200 ? 404 : status), status === 200 || fatalStatus(status));
				});
				return;
			}

			connectedAt = Date.now();
			this.response = response;
			this.onLive(connectedAt);
			if (this.paused) {
				response.pause();
			} else {
				this.armDeadTimer();
			}

			response.on('data', (chunk: Buffer) => {
				handle.addBytes(chunk.length);
				this.deadTimer?.refresh();
				const overlong = reader.overlong;
				this.onMessages(reader.push(chunk));
				if (reader.overlong > overlong) {
					handle.parseError(`a stream line longer than ${maxLine} characters was skipped`);
				}
			});
			response.on('end', () => {
				end('the remote ended the stream');
			});
			response.on('error', error => {
				end(describeNetworkError(error));
			});
			response.on('close', () => {
				end('the connection closed');
			});
		});
		request.on('error', error => {
			end(describeNetworkError(error));
		});
		request.on('close', () => {
			end('the connection closed');
		});
		request.end();
	}

	private onLive(now: number): void {
		const handle = this.handle!;
		if (this.downSince !== undefined) {
			handle.reconnected();
			handle.gap(this.downSince, now);
			this.downSince = undefined;
		}

		handle.setState('live');
		this.pollHealth();
	}

	private armDeadTimer(): void {
		clearTimeout(this.deadTimer);
		this.deadTimer = setTimeout(() => {
			// The remote pings an idle stream every 15 s: this one is gone without a word.
			this.response?.destroy(new Error(`nothing from the remote for ${Math.round(this.config.deadAfterMs / 1000)} s`));
		}, this.config.deadAfterMs);
	}

	/** Forget the current stream: its sockets and timers. */
	private endStream(): void {
		clearTimeout(this.deadTimer);
		clearTimeout(this.healthTimer);
		this.healthAbort?.abort();
		this.healthAbort = undefined;
		this.deadTimer = undefined;
		this.healthTimer = undefined;
		const {request, response} = this;
		this.request = undefined;
		this.response = undefined;
		response?.destroy();
		request?.destroy();
	}

	private retry(cause: string): void {
		if (this.stopped || this.failed) {
			return;
		}

		const delay = this.backoff.next();
		this.handle?.setState('retrying', cause, delay);
		clearTimeout(this.retryTimer);
		this.retryTimer = setTimeout(() => {
			void this.connect();
		}, delay);
	}

	private fail(cause: string): void {
		this.failed = true;
		clearTimeout(this.retryTimer);
		this.endStream();
		this.handle?.setState('failed', cause);
	}

	// --- receiving --------------------------------------------------------

	private onMessages(messages: SseMessage[]): void {
		if (messages.length === 0) {
			return;
		}

		const handle = this.handle!;
		const now = Date.now();
		let batch: EventInit[] = [];
		for (const m of messages) {
			if (m.event === 'loss') {
				handle.publish(batch);
				batch = [];
				this.onLoss(m.data, now);
				continue;
			}

			if (m.event !== 'message') {
				continue;
			}

			const read = readRemoteEvent(m.data, this.id, now);
			if (typeof read === 'string') {
				handle.parseError(read);
				continue;
			}

			this.take(read.id, read.event, read.warning, batch);
		}

		handle.publish(batch);
	}

	/** Into the batch unless it was taken before; the newest id is where a resume starts. */
	private take(id: string, event: EventInit, warning: string | undefined, batch: EventInit[]): void {
		this.lastEventId = id;
		if (!this.recent.add(id)) {
			this.duplicates++;
			this.handle!.detail('duplicates', this.duplicates);
			return;
		}

		if (warning) {
			this.handle!.parseError(warning);
		}

		batch.push(event);
	}

	private onLoss(data: string, now: number): void {
		const handle = this.handle!;
		const lost = readLoss(data);
		if (lost === 0) {
			return;
		}

		if (lost !== undefined) {
			this.remoteLost += lost;
			handle.health.drops += lost;
			handle.detail('remoteLost', this.remoteLost);
		}

		const what = lost === undefined
			? 'the remote no longer holds some events (its history is off); lines are missing'
			: `the remote dropped ${lost} events it could not send fast enough; lines are missing`;
		handle.log('warn', what);
		const message = `${this.id}: ${what}`;
		handle.publish([{time: now, receivedAt: now, sourceId: this.id, sourceKind: this.kind, service: '', host: '', proc: '', type: '', level: 'WARN', message, raw: message, marker: 'gap'}]);
	}

	// --- the remote's health ---------------------------------------------

	private pollHealth(): void {
		clearTimeout(this.healthTimer);
		const handle = this.handle!;
		const abort = new AbortController();
		this.healthAbort = abort;
		const url = endpoint(this.base!, 'api/v1/health', false);
		getJson(url, {token: this.config.token, timeoutMs: answerTimeoutMs, maxBytes: maxHealthBytes, signal: abort.signal}).then(answer => {
			if (abort.signal.aborted) {
				return;
			}

			const health = answer.status === 200 ? readRemoteHealth(answer.json, Date.now()) : undefined;
			if (health) {
				handle.detail('remote', health);
				handle.detail('remoteHealthError', undefined);
			} else {
				handle.detail('remoteHealthError', answer.status === 200 ? 'not a logmon health answer' : refusalText(answer.status, answer.text));
			}
		}, (error: unknown) => {
			if (!abort.signal.aborted) {
				handle.detail('remoteHealthError', error instanceof Error ? error.message : String(error));
			}
		}).finally(() => {
			if (!abort.signal.aborted && this.response) {
				this.healthTimer = setTimeout(() => {
					this.pollHealth();
				}, this.config.healthIntervalMs);
			}
		});
	}

	private debug(text: string): void {
		if (this.deps.debug) {
			process.stderr.write(`logmon: debug: ${this.id}: ${text}\n`);
		}
	}
}
