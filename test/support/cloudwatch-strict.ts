import http from 'node:http';
import type net from 'node:net';

// A CloudWatch Logs server of our own that is as strict as AWS, where moto is not: the same
// awsJson1.1 routes (POST /, `X-Amz-Target: Logs_20140328.<Operation>`), refusing a
// PutLogEvents request as AWS does when it holds over 10,000 events, over 1,048,576 bytes
// counted as UTF-8 message bytes plus 26 per event, an empty message, events out of time
// order or spanning over 24 hours, or names a missing group or stream. Events over 14 days
// old or over 2 hours ahead are left out and reported in rejectedLogEventsInfo, with AWS's
// indexes (too old: an exclusive end; too new: an inclusive start). Every call is recorded.

export const strictLimits = {maxEvents: 10_000, maxBytes: 1_048_576, overhead: 26, maxSpanMs: 24 * 3_600_000, maxAgeMs: 14 * 86_400_000, maxAheadMs: 2 * 3_600_000};

export type StoredEvent = {timestamp: number; message: string; ingestionTime: number};

/** One call as the server saw it. */
export type Call = {
	operation: string;
	group?: string | undefined;
	stream?: string | undefined;
	/** PutLogEvents: events and bytes (with the overhead) in the request. */
	events?: number;
	bytes?: number;
	/** The error type answered, if any. */
	error?: string | undefined;
};

/** A reply forced on the next PutLogEvents calls, before any check ('pass': none, the call goes through). */
export type ScriptedError = {status: number; type: string; message?: string} | 'reset' | 'pass';

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

class Refusal extends Error {
	constructor(readonly status: number, readonly type: string, message: string) {
		super(message);
	}
}

type Body = Record<string, unknown>;

export class StrictCloudwatch {
	readonly calls: Call[] = [];
	/** Errors to answer the next PutLogEvents calls with, in turn. */
	readonly script: ScriptedError[] = [];
	/** group → retention in days (undefined: never expires) and streams. */
	readonly groups = new Map<string, {retentionDays?: number | undefined; streams: Map<string, StoredEvent[]>}>();
	/** PutLogEvents calls answered 200, and the events they stored. */
	accepted = 0;
	storedEvents = 0;
	private readonly server: http.Server;
	port = 0;

	/** keep: false stores no events (counts only), for benchmarks. */
	constructor(private readonly options: {keep?: boolean; now?: () => number} = {}) {
		this.server = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (d: Buffer) => chunks.push(d));
			req.on('end', () => {
				this.handle(req, Buffer.concat(chunks).toString('utf8'), res);
			});
		});
	}

	get endpoint(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	async listen(): Promise<this> {
		await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve));
		this.port = (this.server.address() as net.AddressInfo).port;
		return this;
	}

	async close(): Promise<void> {
		await new Promise<void>(resolve => {
			this.server.close(() => resolve());
			this.server.closeAllConnections();
		});
	}

	/** The events of one stream, as stored. */
	events(group: string, stream: string): StoredEvent[] {
		return this.groups.get(group)?.streams.get(stream) ?? [];
	}

	puts(): Call[] {
		return this.calls.filter(c => c.operation === 'PutLogEvents');
	}

	private handle(req: http.IncomingMessage, text: string, res: http.ServerResponse): void {
		const target = String(req.headers['x-amz-target'] ?? '');
		const operation = target.startsWith('Logs_20140328.') ? target.slice('Logs_20140328.'.length) : '';
		const call: Call = {operation};
		this.calls.push(call);
		try {
			if (req.method !== 'POST' || operation === '') {
				throw new Refusal(400, 'UnknownOperationException', `expected POST with X-Amz-Target: Logs_20140328.*, got ${req.method} ${target}`);
			}

			if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
				throw new Refusal(400, 'SerializationException', `content-type ${req.headers['content-type']}`);
			}

			let body: Body;
			try {
				body = JSON.parse(text) as Body;
			} catch {
				throw new Refusal(400, 'SerializationException', 'the body is not JSON');
			}

			call.group = body['logGroupName'] as string | undefined;
			call.stream = body['logStreamName'] as string | undefined;
			const scripted = operation === 'PutLogEvents' ? this.script.shift() : undefined;
			if (scripted === 'reset') {
				res.socket?.resetAndDestroy();
				return;
			}

			if (scripted && scripted !== 'pass') {
				throw new Refusal(scripted.status, scripted.type, scripted.message ?? scripted.type);
			}

			this.reply(res, 200, this.operate(operation, body, call));
		} catch (error) {
			if (!(error instanceof Refusal)) {
				throw error;
			}

			call.error = error.type;
			res.writeHead(error.status, {'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': error.type});
			res.end(JSON.stringify({__type: error.type, message: error.message}));
		}
	}

	private reply(res: http.ServerResponse, status: number, body: Body): void {
		res.writeHead(status, {'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': String(this.calls.length)});
		res.end(JSON.stringify(body));
	}

	private group(name: unknown): {retentionDays?: number | undefined; streams: Map<string, StoredEvent[]>} {
		const group = typeof name === 'string' ? this.groups.get(name) : undefined;
		if (!group) {
			throw new Refusal(400, 'ResourceNotFoundException', 'The specified log group does not exist.');
		}

		return group;
	}

	private stream(body: Body): StoredEvent[] {
		const stream = this.group(body['logGroupName']).streams.get(String(body['logStreamName']));
		if (!stream) {
			throw new Refusal(400, 'ResourceNotFoundException', 'The specified log stream does not exist.');
		}

		return stream;
	}

	private operate(operation: string, body: Body, call: Call): Body {
		switch (operation) {
			case 'CreateLogGroup': {
				const name = String(body['logGroupName']);
				if (!/^[\w.\-/#]{1,512}$/.test(name)) {
					throw new Refusal(400, 'InvalidParameterException', `1 validation error detected: Value '${name}' at 'logGroupName' failed to satisfy constraint`);
				}

				if (this.groups.has(name)) {
					throw new Refusal(400, 'ResourceAlreadyExistsException', 'The specified log group already exists');
				}

				this.groups.set(name, {streams: new Map()});
				return {};
			}

			case 'CreateLogStream': {
				const group = this.group(body['logGroupName']);
				const name = String(body['logStreamName']);
				if (!/^[^:*]{1,512}$/.test(name)) {
					throw new Refusal(400, 'InvalidParameterException', `1 validation error detected: Value '${name}' at 'logStreamName' failed to satisfy constraint`);
				}

				if (group.streams.has(name)) {
					throw new Refusal(400, 'ResourceAlreadyExistsException', 'The specified log stream already exists');
				}

				group.streams.set(name, []);
				return {};
			}

			case 'PutRetentionPolicy': {
				const days = Number(body['retentionInDays']);
				if (![1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].includes(days)) {
					throw new Refusal(400, 'InvalidParameterException', `1 validation error detected: Value '${days}' at 'retentionInDays' failed to satisfy constraint`);
				}

				this.group(body['logGroupName']).retentionDays = days;
				return {};
			}

			case 'PutLogEvents': {
				return this.put(body, call);
			}

			case 'GetLogEvents': {
				const events = this.stream(body);
				return {events: events.map(e => ({...e})), nextForwardToken: 'f/end', nextBackwardToken: 'b/end'};
			}

			default: {
				throw new Refusal(400, 'UnknownOperationException', `unknown operation ${operation}`);
			}
		}
	}

	private put(body: Body, call: Call): Body {
		const events = body['logEvents'];
		if (!Array.isArray(events) || events.length === 0) {
			throw new Refusal(400, 'InvalidParameterException', 'logEvents must hold at least one event');
		}

		call.events = events.length;
		let bytes = 0;
		for (const e of events as Array<{timestamp?: unknown; message?: unknown}>) {
			if (typeof e.message !== 'string' || e.message === '' || typeof e.timestamp !== 'number' || !Number.isInteger(e.timestamp)) {
				throw new Refusal(400, 'InvalidParameterException', 'each log event needs an integer timestamp and a message of at least 1 character');
			}

			bytes += utf8(e.message) + strictLimits.overhead;
		}

		call.bytes = bytes;
		const list = events as Array<{timestamp: number; message: string}>;
		const stream = this.stream(body);
		if (list.length > strictLimits.maxEvents) {
			throw new Refusal(400, 'InvalidParameterException', `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to ${strictLimits.maxEvents}`);
		}

		if (bytes > strictLimits.maxBytes) {
			throw new Refusal(400, 'InvalidParameterException', `Log event batch of ${bytes} bytes is over the maximum of ${strictLimits.maxBytes}`);
		}

		for (let i = 1; i < list.length; i++) {
			if (list[i]!.timestamp < list[i - 1]!.timestamp) {
				throw new Refusal(400, 'InvalidParameterException', 'Log events in a single PutLogEvents request must be in chronological order.');
			}
		}

		if (list.at(-1)!.timestamp - list[0]!.timestamp > strictLimits.maxSpanMs) {
			throw new Refusal(400, 'InvalidParameterException', 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
		}

		const now = this.options.now?.() ?? Date.now();
		let tooOld = 0;
		while (tooOld < list.length && list[tooOld]!.timestamp < now - strictLimits.maxAgeMs) {
			tooOld++;
		}

		let tooNew = list.length;
		while (tooNew > tooOld && list[tooNew - 1]!.timestamp > now + strictLimits.maxAheadMs) {
			tooNew--;
		}

		this.accepted++;
		this.storedEvents += tooNew - tooOld;
		if (this.options.keep !== false) {
			for (const e of list.slice(tooOld, tooNew)) {
				stream.push({timestamp: e.timestamp, message: e.message, ingestionTime: now});
			}
		}

		const rejected: Body = {};
		if (tooOld > 0) {
			rejected['tooOldLogEventEndIndex'] = tooOld;
		}

		if (tooNew < list.length) {
			rejected['tooNewLogEventStartIndex'] = tooNew;
		}

		return Object.keys(rejected).length > 0 ? {nextSequenceToken: String(this.accepted), rejectedLogEventsInfo: rejected} : {nextSequenceToken: String(this.accepted)};
	}
}
