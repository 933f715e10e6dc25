import http from 'node:http';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {decodeLogsJson} from '../core/otlp-json.js';
import {type OtlpLimits, type OtlpRequest, OtlpDecodeError, OtlpTooManyRecords, eventsFromOtlp} from '../core/otlp-map.js';
import {decodeLogsProto, encodeStatus} from '../core/otlp-proto.js';
import {sanitize} from '../core/sanitize.js';
import {formatHostPort, isLoopback} from '../config/logio.js';
import {type OtlpConfig} from '../config/otlp.js';
import {listen, listenAddress, listenProblem} from './listen.js';
import {BodyError, type MediaType, isGzip, mediaType, readBody} from './otlp-body.js';
import {type LogSource, type SourceDeps} from './source.js';

// An OTLP/HTTP logs receiver (the OTLP specification's HTTP transport): POST /v1/logs with
// an ExportLogsServiceRequest in protobuf or JSON, told apart by the media type, gzip or not.
// Replies are in the request's media type: an empty ExportLogsServiceResponse on success, a
// google.rpc.Status on failure.
//
//   200  taken; every record is on the bus when the reply goes out
//   400  the body cannot be decoded (the client must not retry it)
//   404  another path;  405 another method
//   413  the body, gunzipped, is past maxBodyBytes, or holds more than maxRecords records
//   415  a media type other than JSON or protobuf, or an encoding other than gzip
//   429  logmon cannot take more now (its queues are full): Retry-After, and the client retries
//   503  stopping, or too many bytes being read at once: Retry-After
//
// Back-pressure: the source can pause, so the bus pauses it when a consumer's queue passes
// its high-water mark. Paused, it answers 429 instead of taking records it would have to
// drop; records of a request already taken are published in slices as the queues drain,
// and that request is answered once its last slice is out.

/** Records published at once: well under any queue's room at its high-water mark. */
const slice = 1000;
/** Requests' bodies held at once, in bodies of maxBodyBytes. */
const bodiesInFlight = 4;
/** An unread body up to this size is read and dropped before an error reply, keeping the connection. */
const drainBytes = 1024 * 1024;
/** After an error reply with a larger body unread, how long the client gets to read it before the socket is closed. */
const lingerMs = 2000;

/** gRPC codes of the Status bodies. */
const grpc = {invalidArgument: 3, notFound: 5, resourceExhausted: 8, unimplemented: 12, internal: 13, unavailable: 14} as const;

type Waiting = {events: EventInit[]; next: number; done: () => void};

type Counts = {
	requests: number;
	records: number;
	badData: number;
	tooLarge: number;
	mediaType: number;
	busy: number;
	unavailable: number;
	notFound: number;
};

export class OtlpSource implements LogSource {
	readonly kind = 'otlp' as const;
	/** Where it listens, once started (port 0 becomes the real port). */
	address: {host: string; port: number} | undefined;
	private server: http.Server | undefined;
	private handle: SourceHandle | undefined;
	private paused = false;
	private stopping = false;
	private readonly waiting: Waiting[] = [];
	/** Bytes of bodies being read or decoded now. */
	private heldBytes = 0;
	private readonly limits: OtlpLimits;
	private readonly counts: Counts = {requests: 0, records: 0, badData: 0, tooLarge: 0, mediaType: 0, busy: 0, unavailable: 0, notFound: 0};
	private detailsTimer: NodeJS.Timeout | undefined;

	constructor(readonly id: string, readonly config: OtlpConfig, readonly deps: SourceDeps) {
		this.limits = {maxDepth: 32, maxRecords: config.maxRecords};
	}

	pause = (): void => {
		this.paused = true;
	};

	resume = (): void => {
		this.paused = false;
		this.pump();
	};

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		const where = listenAddress(this.config.listen, handle);
		if (!where) {
			return;
		}

		const server = http.createServer((req, res) => {
			this.request(req, res);
		});
		// A body trickled in forever must not hold a connection and its budget for good.
		server.requestTimeout = 60_000;
		server.headersTimeout = 30_000;
		this.server = server;
		let port: number;
		try {
			port = await listen(server, where.host, where.port);
		} catch (error) {
			const why = listenProblem(error, 'address already in use (another logmon or an OpenTelemetry collector?)');
			handle.setState('failed', `cannot listen on ${formatHostPort(where.host, where.port)} for OTLP: ${why}`);
			this.server = undefined;
			return;
		}

		server.on('error', error => {
			handle.log('error', `OTLP listener: ${error.message}`);
		});
		this.address = {host: where.host, port};
		const at = formatHostPort(this.address.host, this.address.port);
		handle.setState('live');
		handle.detail('listen', at);
		this.updateDetails();
		handle.log('info', `listening on http://${at}/v1/logs for OTLP logs (protobuf and JSON)`);
		if (!isLoopback(where.host)) {
			handle.log('warn', `${at} is reachable from other machines and OTLP/HTTP has no authentication here: anyone who can reach it can send logs`);
		}
	}

	async stop(): Promise<void> {
		this.stopping = true;
		clearTimeout(this.detailsTimer);
		const server = this.server;
		this.server = undefined;
		// Requests still waiting for room: their records are published now, nothing is lost at exit.
		this.paused = false;
		this.pump();
		if (!server) {
			return;
		}

		await new Promise<void>(resolve => {
			server.close(() => {
				resolve();
			});
			server.closeAllConnections();
		});
	}

	private request(req: http.IncomingMessage, res: http.ServerResponse): void {
		const path = (req.url ?? '').split('?')[0];
		if (path !== '/v1/logs') {
			this.counts.notFound++;
			this.fail(req, res, 404, 'json', grpc.notFound, `no such path: ${sanitize(String(path).slice(0, 100))}; OTLP logs go to POST /v1/logs`);
			return;
		}

		const type = mediaType(req.headers['content-type']);
		if (req.method !== 'POST') {
			this.fail(req, res, 405, type ?? 'json', grpc.unimplemented, 'OTLP logs are sent with POST', {allow: 'POST'});
			return;
		}

		if (type === undefined) {
			this.counts.mediaType++;
			this.refused(`a request with media type ${JSON.stringify(sanitize(String(req.headers['content-type'] ?? '').slice(0, 100)))}`, 415);
			this.fail(req, res, 415, 'json', grpc.invalidArgument, 'expected Content-Type application/x-protobuf or application/json');
			return;
		}

		const gzip = isGzip(req.headers['content-encoding']);
		if (gzip === undefined) {
			this.counts.mediaType++;
			this.refused(`a request with Content-Encoding ${JSON.stringify(sanitize(String(req.headers['content-encoding']).slice(0, 100)))}`, 415);
			this.fail(req, res, 415, type, grpc.invalidArgument, 'expected no Content-Encoding, or gzip');
			return;
		}

		if (this.stopping) {
			this.counts.unavailable++;
			this.fail(req, res, 503, type, grpc.unavailable, 'logmon is stopping', {'retry-after': String(this.config.retryAfterSeconds)});
			return;
		}

		if (this.paused || this.waiting.length > 0) {
			this.counts.busy++;
			if (this.counts.busy === 1 || this.counts.busy % 1000 === 0) {
				this.handle?.log('warn', `answered ${this.counts.busy} request(s) 429 with Retry-After: logmon's queues are full (a slow reader of its output?); exporters retry them`);
			}

			this.updateDetails();
			this.fail(req, res, 429, type, grpc.resourceExhausted, 'logmon cannot take more logs now (its queues are full); retry later', {'retry-after': String(this.config.retryAfterSeconds)});
			return;
		}

		this.receive(req, res, type, gzip).catch((error: unknown) => {
			// A fault of logmon's own, not of the request: said, answered 500, and the receiver goes on.
			this.handle?.log('error', `OTLP: a request failed inside logmon: ${error instanceof Error ? error.message : String(error)}`);
			if (!res.headersSent) {
				res.writeHead(500, {'content-type': type === 'proto' ? 'application/x-protobuf' : 'application/json', connection: 'close'});
				res.end(type === 'proto' ? encodeStatus(grpc.internal, 'internal error') : JSON.stringify({code: grpc.internal, message: 'internal error'}));
			}
		});
	}

	private async receive(req: http.IncomingMessage, res: http.ServerResponse, type: MediaType, gzip: boolean): Promise<void> {
		const handle = this.handle!;
		const budget = this.config.maxBodyBytes * bodiesInFlight;
		const held = {bytes: 0};
		let events: EventInit[];
		try {
			let body: Buffer;
			try {
				body = await readBody(req, {gzip, maxBytes: this.config.maxBodyBytes, take: n => {
					if (this.heldBytes + n > budget) {
						return false;
					}

					this.heldBytes += n;
					return true;
				}}, held);
			} catch (error) {
				if (!(error instanceof BodyError)) {
					this.debug(`request abandoned: ${(error as Error).message}`);
					return;
				}

				if (error.status === 413) {
					this.counts.tooLarge++;
					this.refused(error.message, 413);
					this.fail(req, res, 413, type, grpc.resourceExhausted, error.message);
				} else if (error.status === 503) {
					this.counts.unavailable++;
					this.fail(req, res, 503, type, grpc.unavailable, error.message, {'retry-after': String(this.config.retryAfterSeconds)});
				} else {
					this.counts.badData++;
					this.refused(error.message, 400);
					this.fail(req, res, 400, type, grpc.invalidArgument, error.message);
				}

				return;
			}

			handle.addBytes(body.length);
			const problem = (reason: string): void => {
				handle.parseError(`OTLP: ${sanitize(reason)}`);
			};

			let request: OtlpRequest;
			try {
				request = type === 'proto' ? decodeLogsProto(body, this.limits, problem) : decodeLogsJson(body.toString('utf8'), this.limits, problem);
			} catch (error) {
				const tooMany = error instanceof OtlpTooManyRecords;
				if (!tooMany && !(error instanceof OtlpDecodeError)) {
					// A decoder bug must not take logmon down: the request is refused like bad data.
					handle.log('error', `OTLP: decoding failed: ${(error as Error).message}`);
				}

				const why = `the ${type === 'proto' ? 'protobuf' : 'JSON'} body cannot be read as logs: ${(error as Error).message}`;
				if (tooMany) {
					this.counts.tooLarge++;
				} else {
					this.counts.badData++;
				}

				this.refused(why, tooMany ? 413 : 400);
				this.fail(req, res, tooMany ? 413 : 400, type, tooMany ? grpc.resourceExhausted : grpc.invalidArgument, why);
				return;
			}

			events = eventsFromOtlp(request, {sourceId: this.id, service: this.config.service, receivedAt: Date.now(), maxMessage: this.deps.maxLine, parseError: problem});
		} finally {
			this.heldBytes -= held.bytes;
		}

		this.counts.requests++;
		this.counts.records += events.length;
		await this.publish(events);
		this.updateDetails();
		res.writeHead(200, {'content-type': type === 'proto' ? 'application/x-protobuf' : 'application/json'});
		res.end(type === 'proto' ? undefined : '{}');
	}

	/** Publish in slices while the bus has room; resolves once every event is out. */
	private async publish(events: EventInit[]): Promise<void> {
		if (events.length === 0) {
			return;
		}

		return new Promise(resolve => {
			this.waiting.push({events, next: 0, done: resolve});
			this.pump();
		});
	}

	private pump(): void {
		const handle = this.handle;
		while (handle && !this.paused && this.waiting.length > 0) {
			const w = this.waiting[0]!;
			while (!this.paused && w.next < w.events.length) {
				const end = Math.min(w.next + slice, w.events.length);
				const part = w.next === 0 && end === w.events.length ? w.events : w.events.slice(w.next, end);
				w.next = end;
				handle.publish(part);
			}

			if (w.next >= w.events.length) {
				this.waiting.shift();
				w.done();
			}
		}
	}

	/** A refused request, counted as bad input with why and how it was answered. */
	private refused(reason: string, status: number): void {
		// Parser messages may quote the body: never raw on a terminal.
		this.handle?.parseError(`OTLP request refused (${status}): ${sanitize(reason)}`);
		this.updateDetails();
	}

	/**
	 * An error reply in the request's media type. A body not read yet is read to its end and
	 * dropped first, up to drainBytes: a client still sending when the reply and a close came
	 * would see a reset instead of the status (and of Retry-After), and the connection stays
	 * open for its retry. Past drainBytes the reply goes out with a close, and the socket is
	 * destroyed once the client had time to read it.
	 */
	private fail(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: MediaType, code: number, message: string, headers: Record<string, string> = {}): void {
		const body = type === 'proto' ? encodeStatus(code, message) : JSON.stringify({code, message});
		let sent = false;
		const reply = (close: boolean): void => {
			if (sent) {
				return;
			}

			sent = true;
			req.removeAllListeners('data');
			res.writeHead(status, {
				'content-type': type === 'proto' ? 'application/x-protobuf' : 'application/json',
				...headers,
				...(close ? {connection: 'close'} : {}),
			});
			res.end(body);
			if (close) {
				req.resume();
				res.once('finish', () => {
					setTimeout(() => req.socket.destroy(), lingerMs).unref();
				});
			}
		};

		if (req.complete) {
			reply(false);
			return;
		}

		if (Number(req.headers['content-length']) > drainBytes) {
			reply(true);
			return;
		}

		let drained = 0;
		req.on('data', (chunk: Buffer) => {
			drained += chunk.length;
			if (drained > drainBytes) {
				reply(true);
			}
		});
		req.once('end', () => {
			reply(false);
		});
		req.once('error', () => {
			// The client went away: nobody to answer.
		});
		req.resume();
	}

	// Health details at most a few times a second: a busy receiver takes thousands of requests.
	private updateDetails(): void {
		if (this.detailsTimer || !this.handle) {
			return;
		}

		this.handle.detail('requests', {...this.counts});
		this.detailsTimer = setTimeout(() => {
			this.detailsTimer = undefined;
			this.handle?.detail('requests', {...this.counts});
		}, 250);
		this.detailsTimer.unref();
	}

	private debug(text: string): void {
		if (this.deps.debug) {
			process.stderr.write(`logmon: debug: ${this.id}: ${text}\n`);
		}
	}
}
