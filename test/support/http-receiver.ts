import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import {gunzipSync} from 'node:zlib';

// A log store's HTTP front on 127.0.0.1 for the http forwarder: it takes NDJSON posts, Loki pushes
// (`…/loki/api/v1/push`) and `_bulk` requests (`…/_bulk`), checks each body line by line the way
// Loki and Elasticsearch read it (gzip or not), keeps what it stored, and answers from a script:
// a status (500, 429 with Retry-After, 400…), per-item statuses of a `_bulk` answer, a hang (after
// storing the body or not) or a reset.

export type Shape = 'ndjson' | 'loki' | 'bulk';

/** One stored Loki entry. */
export type LokiEntry = {labels: Record<string, string>; ns: string; line: string};
/** One stored `_bulk` document. */
export type BulkDoc = {action: string; index: string; doc: Record<string, unknown>};

export type Request = {
	shape: Shape;
	path: string;
	headers: http.IncomingHttpHeaders;
	/** Bytes on the wire (compressed when gzip). */
	bytes: number;
	gzip: boolean;
	/** The body, decompressed. */
	text: string;
	/** What the body did wrong, for the shape; empty when it is right. */
	problems: string[];
	status: number;
};

/** Statuses of a `_bulk` answer's items, by document: undefined stores it (201). */
export type ItemStatuses = (doc: Record<string, unknown>, index: number) => number | undefined;

export type Reply =
	| number
	| {status: number; body?: string; headers?: Record<string, string>}
	| {items: ItemStatuses}
	| 'hang'
	/** Store the body, then never answer: the sender cannot know it arrived. */
	| 'store-and-hang'
	| 'reset';

const labelName = /^[A-Za-z_]\w*$/;
const indexForbidden = /[\\/*?"<>|,#:\sA-Z]/;

export function shapeOf(path: string): Shape {
	const p = (path.split('?')[0] ?? '').replace(/\/+$/, '');
	return p.endsWith('/loki/api/v1/push') ? 'loki' : (p.endsWith('/_bulk') ? 'bulk' : 'ndjson');
}

function isObject(v: unknown): v is Record<string, unknown> {
	return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A Loki push, read as Loki's JSON decoder does; entries of each stream in time order. */
export function checkLoki(text: string, problems: string[]): LokiEntry[] {
	let push: unknown;
	try {
		push = JSON.parse(text);
	} catch (error) {
		problems.push(`not JSON: ${(error as Error).message}`);
		return [];
	}

	if (!isObject(push) || !Array.isArray(push['streams']) || push['streams'].length === 0) {
		problems.push('no "streams" array');
		return [];
	}

	const out: LokiEntry[] = [];
	const seen = new Set<string>();
	for (const [i, stream] of (push['streams'] as unknown[]).entries()) {
		if (!isObject(stream) || !isObject(stream['stream']) || !Array.isArray(stream['values'])) {
			problems.push(`streams[${i}]: expected {"stream":{…},"values":[…]}`);
			continue;
		}

		const labels = stream['stream'];
		const names = Object.keys(labels);
		if (names.length === 0) {
			problems.push(`streams[${i}]: no labels`);
		}

		for (const name of names) {
			if (!labelName.test(name) || name.startsWith('__')) {
				problems.push(`streams[${i}]: bad label name ${JSON.stringify(name)}`);
			}

			if (typeof labels[name] !== 'string' || labels[name] === '') {
				problems.push(`streams[${i}]: label ${name} is not a non-empty string`);
			}
		}

		const key = JSON.stringify(names.sort().map(n => [n, labels[n]]));
		if (seen.has(key)) {
			problems.push(`streams[${i}]: the same labels as an earlier stream of the push`);
		}

		seen.add(key);
		let last = 0n;
		for (const [j, value] of (stream['values'] as unknown[]).entries()) {
			if (!Array.isArray(value) || value.length < 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string' || !/^\d{1,19}$/.test(value[0])) {
				problems.push(`streams[${i}].values[${j}]: expected ["<ns>","<line>"]`);
				continue;
			}

			const ns = BigInt(value[0]);
			if (ns < last) {
				problems.push(`streams[${i}].values[${j}]: out of order (${value[0]} after ${last})`);
			}

			last = ns;
			out.push({labels: labels as Record<string, string>, ns: value[0], line: value[1]});
		}
	}

	return out;
}

/** A `_bulk` body, read as Elasticsearch does: action and document lines in pairs, a newline at the end. */
export function checkBulk(text: string, problems: string[]): BulkDoc[] {
	if (!text.endsWith('\n')) {
		problems.push('the body does not end with a newline');
	}

	const lines = text.split('\n');
	if (lines.at(-1) === '') {
		lines.pop();
	}

	if (lines.length % 2 !== 0) {
		problems.push(`${lines.length} lines: action and document lines do not pair`);
	}

	const out: BulkDoc[] = [];
	for (let i = 0; i + 1 < lines.length; i += 2) {
		let action: unknown;
		let doc: unknown;
		try {
			action = JSON.parse(lines[i]!);
			doc = JSON.parse(lines[i + 1]!);
		} catch (error) {
			problems.push(`line ${i + 1}: not JSON: ${(error as Error).message}`);
			continue;
		}

		const keys = isObject(action) ? Object.keys(action) : [];
		const verb = keys[0];
		const meta = isObject(action) && verb ? action[verb] : undefined;
		if (keys.length !== 1 || (verb !== 'index' && verb !== 'create') || !isObject(meta) || typeof meta['_index'] !== 'string') {
			problems.push(`line ${i + 1}: expected {"index":{"_index":…}} or {"create":{"_index":…}}, got ${lines[i]!.slice(0, 100)}`);
			continue;
		}

		const index = meta['_index'];
		if (index === '' || indexForbidden.test(index) || /^[-_+]/.test(index) || Buffer.byteLength(index) > 255) {
			problems.push(`line ${i + 1}: invalid index name ${JSON.stringify(index)}`);
		}

		if (!isObject(doc)) {
			problems.push(`line ${i + 2}: the document is not an object`);
			continue;
		}

		if (typeof doc['@timestamp'] !== 'string' || Number.isNaN(Date.parse(doc['@timestamp']))) {
			problems.push(`line ${i + 2}: no @timestamp`);
		}

		out.push({action: verb, index, doc});
	}

	return out;
}

/** NDJSON: one JSON object per line. */
export function checkNdjson(text: string, problems: string[]): Array<Record<string, unknown>> {
	if (!text.endsWith('\n')) {
		problems.push('the body does not end with a newline');
	}

	const out: Array<Record<string, unknown>> = [];
	for (const [i, line] of text.split('\n').entries()) {
		if (line === '') {
			continue;
		}

		try {
			const v: unknown = JSON.parse(line);
			if (isObject(v)) {
				out.push(v);
			} else {
				problems.push(`line ${i + 1}: not an object`);
			}
		} catch (error) {
			problems.push(`line ${i + 1}: not JSON: ${(error as Error).message}`);
		}
	}

	return out;
}

export class HttpReceiver {
	readonly requests: Request[] = [];
	/** What was stored (answered 2xx), in arrival order. */
	readonly loki: LokiEntry[] = [];
	readonly bulk: BulkDoc[] = [];
	readonly ndjson: Array<Record<string, unknown>> = [];
	readonly script: Reply[] = [];
	/** Bodies over this many bytes (as sent) are answered 413 and not stored, before the script is asked: Elasticsearch's http.max_content_length, Loki's message size limit. */
	maxBody = Number.POSITIVE_INFINITY;
	private server: http.Server | undefined;
	private readonly hanging = new Set<http.ServerResponse>();
	port = 0;

	/** With `tls` (a certificate and its key), it speaks https. */
	constructor(script: Reply[] = [], private readonly tls?: {cert: Buffer; key: Buffer}) {
		this.script.push(...script);
	}

	/** Listen on `port` (0: any free one; again the same one after `stop()`). */
	async listen(port = this.port): Promise<this> {
		const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
			const parts: Buffer[] = [];
			req.on('data', (d: Buffer) => parts.push(d));
			req.on('end', () => {
				this.take(req, Buffer.concat(parts), res);
			});
		};

		const server = this.tls ? https.createServer(this.tls, handle) : http.createServer(handle);
		// Node's default; a forwarder's agent must cope with the server closing idle sockets.
		server.keepAliveTimeout = 5000;
		await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve));
		this.server = server;
		this.port = (server.address() as net.AddressInfo).port;
		return this;
	}

	url(path = '/loki/api/v1/push'): string {
		return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}${path}`;
	}

	/** Problems found in every body so far. */
	problems(): string[] {
		return this.requests.flatMap(r => r.problems.map(p => `${r.path}: ${p}`));
	}

	/** The lines stored: Loki lines, or the `message` of documents. */
	lines(): string[] {
		return [...this.loki.map(e => e.line), ...this.bulk.map(d => String(d.doc['message'])), ...this.ndjson.map(d => String(d['message']))];
	}

	private take(req: http.IncomingMessage, wire: Buffer, res: http.ServerResponse): void {
		const path = req.url ?? '';
		const shape = shapeOf(path);
		const problems: string[] = [];
		const gzip = req.headers['content-encoding'] === 'gzip';
		let body = wire;
		if (Number(req.headers['content-length']) !== wire.length) {
			problems.push(`content-length ${req.headers['content-length']} but ${wire.length} bytes`);
		}

		if (gzip) {
			try {
				body = gunzipSync(wire);
			} catch (error) {
				problems.push(`content-encoding gzip, but: ${(error as Error).message}`);
			}
		} else if (wire[0] === 0x1F && wire[1] === 0x8B) {
			problems.push('a gzip body without content-encoding: gzip');
		}

		const text = body.toString('utf8');
		const type = req.headers['content-type'] ?? '';
		const expected = shape === 'loki' ? 'application/json' : 'application/x-ndjson';
		if (!type.startsWith(expected)) {
			problems.push(`content-type ${type}, expected ${expected}`);
		}

		const loki = shape === 'loki' ? checkLoki(text, problems) : [];
		const bulk = shape === 'bulk' ? checkBulk(text, problems) : [];
		const ndjson = shape === 'ndjson' ? checkNdjson(text, problems) : [];
		const request: Request = {shape, path, headers: req.headers, bytes: wire.length, gzip, text, problems, status: 0};
		this.requests.push(request);
		if (wire.length > this.maxBody) {
			request.status = 413;
			res.writeHead(413, {'content-type': 'text/plain'});
			res.end(`request body of ${wire.length} bytes is over the limit of ${this.maxBody}`);
			return;
		}

		if (problems.length > 0) {
			request.status = 400;
			res.writeHead(400, {'content-type': 'text/plain'});
			res.end(`bad ${shape} body: ${problems.slice(0, 3).join('; ')}`);
			return;
		}

		const reply = this.script.shift() ?? 200;
		if (reply === 'hang' || reply === 'store-and-hang') {
			if (reply === 'store-and-hang') {
				this.loki.push(...loki);
				this.bulk.push(...bulk);
				this.ndjson.push(...ndjson);
			}

			this.hanging.add(res);
			return;
		}

		if (reply === 'reset') {
			res.socket?.resetAndDestroy();
			return;
		}

		if (typeof reply === 'object' && 'items' in reply) {
			request.status = 200;
			this.bulkAnswer(bulk, reply.items, res);
			return;
		}

		const r = typeof reply === 'number' ? {status: reply} : reply;
		request.status = r.status;
		if (r.status >= 200 && r.status < 300) {
			this.loki.push(...loki);
			this.bulk.push(...bulk);
			this.ndjson.push(...ndjson);
		}

		const ok = shape === 'bulk' ? JSON.stringify({took: 1, errors: false, items: bulk.map(d => ({[d.action]: {_index: d.index, status: 201, result: 'created'}}))}) : (shape === 'loki' ? '' : 'ok');
		const okStatus = shape === 'loki' && r.status === 200 ? 204 : r.status;
		res.writeHead(okStatus, {'content-type': shape === 'bulk' && r.status < 300 ? 'application/json' : 'text/plain', ...r.headers});
		res.end(r.body ?? (r.status < 300 ? ok : `error ${r.status}`));
	}

	/** Elasticsearch's answer to a `_bulk` whose items went differently: 200, errors true, a status per item. */
	private bulkAnswer(docs: BulkDoc[], statuses: ItemStatuses, res: http.ServerResponse): void {
		const items = docs.map((d, i) => {
			const status = statuses(d.doc, i) ?? 201;
			if (status < 300) {
				this.bulk.push(d);
				return {[d.action]: {_index: d.index, status, result: 'created'}};
			}

			const type = status === 429 ? 'es_rejected_execution_exception' : (status >= 500 ? 'unavailable_shards_exception' : 'document_parsing_exception');
			return {[d.action]: {_index: d.index, status, error: {type, reason: `item ${i}: failed with ${status}`}}};
		});
		res.writeHead(200, {'content-type': 'application/json'});
		res.end(JSON.stringify({took: 1, errors: items.some(it => Object.values(it)[0]!.status >= 300), items}));
	}

	/** Stop listening and drop every connection (the destination is down). */
	async stop(): Promise<void> {
		for (const res of this.hanging) {
			res.socket?.destroy();
		}

		this.hanging.clear();
		const server = this.server;
		this.server = undefined;
		if (server) {
			await new Promise<void>(resolve => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
		}
	}
}
