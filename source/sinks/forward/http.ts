import {readFileSync} from 'node:fs';
import type http from 'node:http';
import {promisify} from 'node:util';
import {gzip} from 'node:zlib';
import {type HttpForwardConfig, type HttpShape, httpShape} from '../../config/forward-http.js';
import {type LogEvent} from '../../core/event.js';
import {
	bulkDocument, bulkItems, bulkPiece, bulkVerdict, indexName, lokiBody, type LokiEntry, lokiEntry, lokiLabels, lokiOverhead, lokiStream, ndjsonPiece,
} from '../../core/forward-http-body.js';
import {compileTemplate} from '../../core/forward-template.js';
import {networkReason, retryAfterMs} from '../../alerts/http.js';
import {toJson} from '../format.js';
import {type BatchLimits, type Destination, type DestinationContext, type SendOutcome} from './destination.js';
import {type Answer, post} from '../http-post.js';

// The http destination: batched POSTs of NDJSON, Loki pushes or `_bulk` requests. 2xx is done;
// 408, 429, 5xx and network errors are worth another try (Retry-After honoured); any other 4xx
// refuses the batch for good, with the start of the answer. A `_bulk` answer is read item by
// item: stored items are not sent again when the batch is retried.

const gzipAsync = promisify(gzip);

/** Where batches are cut unless the config says otherwise. */
export const defaultLimits: Readonly<Record<HttpShape, BatchLimits>> = {
	ndjson: {maxEvents: 5000, maxBytes: 1024 * 1024, delayMs: 1000},
	// Promtail's defaults: 1 MiB, 1 s.
	loki: {maxEvents: 5000, maxBytes: 1024 * 1024, delayMs: 1000},
	// Elastic's advice: bulk requests of a few MB.
	bulk: {maxEvents: 5000, maxBytes: 5 * 1024 * 1024, delayMs: 1000},
};

const contentTypes: Record<HttpShape, string> = {
	ndjson: 'application/x-ndjson',
	loki: 'application/json',
	bulk: 'application/x-ndjson',
};

/** Longest part of a refusal's answer kept in its reason. */
const reasonLength = 500;
/** Longest answer read: a `_bulk` answer has an item per document; others are only quoted. */
const maxAnswer: Record<HttpShape, number> = {ndjson: 64 * 1024, loki: 64 * 1024, bulk: 64 * 1024 * 1024};

/** The printable start of an answer, on one line. */
function shortText(text: string): string {
	const flat = text.replaceAll(/[\u0000-\u001F\u007F-\u009F]+/g, ' ').trim();
	return flat.length > reasonLength ? flat.slice(0, reasonLength) + '…' : flat;
}

/** What an answer other than a `_bulk` one's items means. */
export function classifyAnswer(answer: Pick<Answer, 'status' | 'text' | 'retryAfter'>): SendOutcome {
	const {status} = answer;
	if (status >= 200 && status < 300) {
		return {ok: true};
	}

	const text = shortText(answer.text);
	const reason = `HTTP ${status}${text ? `: ${text}` : ''}`;
	if (status === 429 || status === 408 || status >= 500) {
		return {ok: false, retry: true, reason, retryAfterMs: retryAfterMs(answer.retryAfter ?? null)};
	}

	return {ok: false, retry: false, reason};
}

/** 1500 → `1.5s`. */
function seconds(ms: number): string {
	return `${Number((ms / 1000).toFixed(3))}s`;
}

/** Header values, the credential after an `Authorization` scheme, and a URL's password: never shown. */
function secretsOf(config: HttpForwardConfig, url: URL): string[] {
	const out: string[] = [];
	for (const value of Object.values(config.headers)) {
		out.push(value);
		const credential = /^[A-Za-z][\w-]*\s+(\S.*)$/.exec(value)?.[1];
		if (credential) {
			out.push(credential);
		}
	}

	if (url.password) {
		const password = decodeURIComponent(url.password);
		out.push(url.password, password, Buffer.from(`${decodeURIComponent(url.username)}:${password}`).toString('base64'));
	}

	return out;
}

/** The raw line as it came, without the CR of a CR LF line; the message when there is none. */
function rawLine(e: LogEvent): string {
	const raw = e.raw.endsWith('\r') ? e.raw.slice(0, -1) : e.raw;
	return raw === '' ? e.message : raw;
}

/** An event's time, or its receive time when the time is unusable. */
function timeOf(e: LogEvent): number {
	return Number.isFinite(e.time) && e.time > 0 ? e.time : e.receivedAt;
}

/** How each event becomes its piece of a body, and how pieces become a body. */
type Shaper = {
	measure(e: LogEvent): number;
	body(events: readonly LogEvent[]): string;
};

function ndjsonShaper(): Shaper {
	const pieces = new WeakMap<LogEvent, string>();
	const piece = (e: LogEvent): string => {
		let p = pieces.get(e);
		if (p === undefined) {
			p = ndjsonPiece(toJson(e));
			pieces.set(e, p);
		}

		return p;
	};

	return {
		measure: e => Buffer.byteLength(piece(e)),
		body: events => events.map(e => piece(e)).join(''),
	};
}

function bulkShaper(config: HttpForwardConfig): Shaper {
	const index = compileTemplate(config.index, {where: 'index'});
	const pieces = new WeakMap<LogEvent, string>();
	const piece = (e: LogEvent): string => {
		let p = pieces.get(e);
		if (p === undefined) {
			p = bulkPiece(config.action, indexName(index(e)), bulkDocument(toJson(e), timeOf(e)));
			pieces.set(e, p);
		}

		return p;
	};

	return {
		measure: e => Buffer.byteLength(piece(e)),
		body: events => events.map(e => piece(e)).join(''),
	};
}

function lokiShaper(config: HttpForwardConfig): Shaper {
	const labels = Object.entries(config.labels).map(([name, text]) => [name, compileTemplate(text, {where: `labels.${name}`})] as const);
	const line = config.line === 'message' ? (e: LogEvent) => e.message : (config.line === 'json' ? toJson : rawLine);
	const entries = new WeakMap<LogEvent, LokiEntry>();
	const entry = (e: LogEvent): LokiEntry => {
		let p = entries.get(e);
		if (p === undefined) {
			const set: Record<string, string> = {};
			for (const [name, render] of labels) {
				set[name] = render(e);
			}

			p = lokiEntry(lokiStream(lokiLabels(set)), timeOf(e), e.seq, line(e));
			entries.set(e, p);
		}

		return p;
	};

	return {
		// The stream's frame is counted for every event: a bound that holds however events group.
		measure(e) {
			const p = entry(e);
			return Buffer.byteLength(p.value) + lokiOverhead(p.stream);
		},
		body: events => lokiBody(events.map(e => entry(e))),
	};
}

/** A request's whole exchange when the forwarder sets no `timeout` (its common field). */
const defaultTimeoutMs = 30_000;

export async function createDestination(config: HttpForwardConfig & {timeout?: number}, context: DestinationContext): Promise<Destination> {
	const url = new URL(config.url);
	// For messages and health: no credentials, no query (it may hold a key).
	const target = `${url.protocol}//${url.host}${url.pathname}`;
	const timeoutMs = config.timeout ?? defaultTimeoutMs;
	const shape = httpShape(config);
	for (const secret of secretsOf(config, url)) {
		context.diagnostics.secrets.add(secret);
	}

	let ca: Buffer | undefined;
	if (config.ca) {
		try {
			ca = readFileSync(config.ca);
		} catch (error) {
			throw new Error(`forward ${context.name}: ca ${config.ca}: ${(error as Error).message}`);
		}
	}

	const client = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
	const agent: http.Agent = url.protocol === 'https:'
		? new (client as typeof import('node:https')).Agent({keepAlive: true, maxSockets: 4, ca, rejectUnauthorized: config.rejectUnauthorized})
		: new client.Agent({keepAlive: true, maxSockets: 4});
	const shaper = shape === 'loki' ? lokiShaper(config) : (shape === 'bulk' ? bulkShaper(config) : ndjsonShaper());
	const defaults = defaultLimits[shape];
	const limits: BatchLimits = {
		maxEvents: config.batch?.events ?? defaults.maxEvents,
		maxBytes: config.batch?.bytes ?? defaults.maxBytes,
		delayMs: config.batch?.delay ?? defaults.delayMs,
	};
	const headers: Record<string, string> = {'content-type': contentTypes[shape], ...config.headers};
	if (config.gzip) {
		headers['content-encoding'] = 'gzip';
	}

	// Events already stored (`_bulk` items that went through, the halves of a split batch that
	// did), so a retried batch sends only the rest. Held weakly: a batch read again from the spool
	// is sent whole (at least once, never less).
	const stored = new WeakSet<LogEvent>();
	const counts = {requests: 0, bytesSent: 0, bulkItemsRetried: 0, bulkItemsRefused: 0, splits: 0};
	let lastStatus = '';
	let closed = false;
	let warnedNotBulk = false;

	async function exchange(events: readonly LogEvent[]): Promise<Answer | SendOutcome> {
		const text = shaper.body(events);
		// Level 1: log text still shrinks about 12 times, at a third of the default level's CPU.
		const body = config.gzip ? await gzipAsync(text, {level: 1}) : Buffer.from(text);
		counts.requests++;
		counts.bytesSent += body.length;
		try {
			const answer = await post(client.request, agent, {url, headers, body, timeoutMs, maxAnswer: maxAnswer[shape]});
			lastStatus = String(answer.status);
			return answer;
		} catch (error) {
			lastStatus = 'no answer';
			const timedOut = (error as Error).name === 'TimeoutError';
			return {ok: false, retry: true, reason: timedOut ? `no answer within ${seconds(timeoutMs)}` : networkReason(error, timeoutMs)};
		}
	}

	function bulkOutcome(events: readonly LogEvent[], answer: Answer): SendOutcome {
		const reply = answer.truncated ? undefined : bulkItems(answer.text);
		if (!reply) {
			// A 2xx that is no `_bulk` answer (a proxy's page?): the server took the request; say so, once.
			if (!warnedNotBulk) {
				warnedNotBulk = true;
				context.diagnostics.add('warn', `forward ${context.name}`, `${target}: a 2xx answer that is not a _bulk reply; batches are taken as stored: ${shortText(answer.text)}`);
			}

			return {ok: true};
		}

		if (!reply.errors) {
			return {ok: true};
		}

		const verdict = bulkVerdict(reply.items, events.length);
		for (const i of verdict.stored) {
			stored.add(events[i]!);
		}

		if (verdict.again.length > 0) {
			counts.bulkItemsRetried += verdict.again.length;
			return {ok: false, retry: true, reason: `_bulk: ${verdict.again.length} of ${events.length} documents not stored, to send again (first: ${shortText(verdict.firstAgain ?? '')})`};
		}

		if (verdict.refused.length > 0) {
			counts.bulkItemsRefused += verdict.refused.length;
			return {
				ok: false,
				retry: false,
				reason: `_bulk: ${verdict.refused.length} of ${events.length} documents refused (first: ${shortText(verdict.firstRefused ?? '')})`,
				refused: verdict.refused.map(i => events[i]!),
			};
		}

		return {ok: true};
	}

	/**
	 * One request; a batch the server finds too large (413: Loki's and Elasticsearch's body limits
	 * are theirs to set) is split in halves, sent one after the other, down to one event, which
	 * alone is refused for good. A half that went through is remembered, so when a later one fails
	 * and the batch is retried, only the rest goes again.
	 */
	async function sendSplitting(events: readonly LogEvent[]): Promise<SendOutcome> {
		const result = await exchange(events);
		if (!('status' in result)) {
			return result;
		}

		if (result.status === 413 && events.length > 1) {
			counts.splits++;
			const half = Math.ceil(events.length / 2);
			const refused: LogEvent[] = [];
			let reason = '';
			for (const part of [events.slice(0, half), events.slice(half)]) {
				const outcome = await sendSplitting(part);
				if (outcome.ok) {
					for (const e of part) {
						stored.add(e);
					}
				} else if (outcome.retry) {
					return outcome;
				} else {
					refused.push(...(outcome.refused ?? part));
					reason ||= outcome.reason;
				}
			}

			return refused.length === 0 ? {ok: true} : {ok: false, retry: false, reason, refused};
		}

		const outcome = classifyAnswer(result);
		return outcome.ok && shape === 'bulk' ? bulkOutcome(events, result) : outcome;
	}

	return {
		kind: 'http',
		target,
		limits,
		measure: e => shaper.measure(e),
		async send(batch) {
			if (closed) {
				return {ok: false, retry: true, reason: 'closed'};
			}

			const events = batch.filter(e => !stored.has(e));
			if (events.length === 0) {
				return {ok: true};
			}

			return sendSplitting(events);
		},
		details: () => ({shape, ...counts, ...(lastStatus ? {lastStatus} : {})}),
		async close() {
			closed = true;
			agent.destroy();
		},
	};
}
