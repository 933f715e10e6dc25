import http from 'node:http';
import {type AddressInfo} from 'node:net';
import {afterEach, describe, expect, test} from 'vitest';
import {forwardConfig} from '../../source/config/forward.js';
import {type HttpForwardConfig, httpForwardConfig, httpForwardFromUrl} from '../../source/config/forward-http.js';
import {interpolate} from '../../source/config/load.js';
import {Diagnostics} from '../../source/core/diagnostics.js';
import {type LogEvent} from '../../source/core/event.js';
import {type Destination} from '../../source/sinks/forward/destination.js';
import {createDestination} from '../../source/sinks/forward/http.js';
import {tlsFiles} from '../support/alert-peers.js';
import {event} from '../support/events.js';
import {until} from '../support/logmon.js';
import {HttpReceiver, type Reply} from '../support/http-receiver.js';

// The http destination on its own: createDestination(), then send() against a real HTTP
// server that reads each body as Loki or Elasticsearch would and answers from a script.

const open: Array<{close(): Promise<void>}> = [];

afterEach(async () => {
	for (const o of open.splice(0)) {
		await o.close();
	}
});

async function receiver(script: Reply[] = []): Promise<HttpReceiver> {
	const r = await new HttpReceiver(script).listen();
	open.push({close: async () => r.stop()});
	return r;
}

async function destination(raw: Record<string, unknown>, diagnostics = new Diagnostics()): Promise<Destination> {
	// Through the forward list's schema, as a config file is read: the common fields (timeout…) included.
	const config = forwardConfig.parse(raw) as HttpForwardConfig & {timeout: number};
	const d = await createDestination(config, {name: 'http', diagnostics});
	open.push(d);
	return d;
}

const t0 = Date.UTC(2026, 11, 2, 8, 0, 0);

/** An event's Loki time: its millisecond, then the last digits of its sequence number. */
function ns(e: LogEvent): string {
	return `${e.time}000${String(e.seq % 1000).padStart(3, '0')}`;
}

function events(count: number, fields: Partial<LogEvent> = {}): LogEvent[] {
	return Array.from({length: count}, (_, i) => event({time: t0 + i, message: `line ${i}`, raw: `raw line ${i}`, ...fields}));
}

describe('http destination: shapes', () => {
	test('ndjson: one -o json object per line', async () => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url('/ingest')});
		expect(d.target).toBe(r.url('/ingest'));
		expect(await d.send(events(3))).toEqual({ok: true});
		expect(r.problems()).toEqual([]);
		expect(r.ndjson.map(o => o['message'])).toEqual(['line 0', 'line 1', 'line 2']);
		expect(Object.keys(r.ndjson[0]!)).toEqual(expect.arrayContaining(['seq', 'time', 'service', 'host', 'level', 'message', 'raw']));
		expect(r.requests[0]!.headers['content-type']).toBe('application/x-ndjson');
	});

	test('loki: one stream per label set, each in time order, lines as they came', async () => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url()});
		const batch = [
			event({service: 'api', level: 'ERROR', time: t0 + 5, raw: 'late\r', message: 'late'}),
			event({service: 'db', time: t0 + 1, raw: 'db one'}),
			event({service: 'api', level: 'ERROR', time: t0 + 2, raw: 'early'}),
			event({service: 'api', level: 'ERROR', time: t0 + 2, raw: 'early too'}),
		];
		expect(await d.send(batch)).toEqual({ok: true});
		// The receiver checks each stream's order; two entries of one millisecond go by their nanoseconds.
		expect(r.problems()).toEqual([]);
		expect(r.loki.slice(0, 2).map(e => e.line).sort()).toEqual(['early', 'early too']);
		expect(r.loki.slice().sort((a, b) => a.line.localeCompare(b.line))).toEqual([
			{labels: {host: 'web-1', level: 'INFO', service: 'db', source: 'test'}, ns: ns(batch[1]!), line: 'db one'},
			{labels: {host: 'web-1', level: 'ERROR', service: 'api', source: 'test'}, ns: ns(batch[2]!), line: 'early'},
			{labels: {host: 'web-1', level: 'ERROR', service: 'api', source: 'test'}, ns: ns(batch[3]!), line: 'early too'},
			{labels: {host: 'web-1', level: 'ERROR', service: 'api', source: 'test'}, ns: ns(batch[0]!), line: 'late'},
		]);
	});

	test('loki: labels and line from the config', async () => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url(), labels: {app: '{service}', team: '{record.team}'}, line: 'message'});
		await d.send([event({service: 'api', message: 'hi', record: {team: 'core'}}), event({service: 'api', message: 'no team'})]);
		expect(r.problems()).toEqual([]);
		expect(r.loki.map(e => [e.labels, e.line])).toEqual([[{app: 'api', team: 'core'}, 'hi'], [{app: 'api'}, 'no team']]);
	});

	test('bulk: an action line per document, the index from a template with the date', async () => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url('/_bulk')});
		const batch = [event({service: 'API Gateway', time: t0, message: 'a'}), event({service: 'db', time: t0 + 86_400_000, message: 'b'})];
		expect(await d.send(batch)).toEqual({ok: true});
		expect(r.problems()).toEqual([]);
		expect(r.bulk.map(b => [b.action, b.index, b.doc['message'], b.doc['@timestamp']])).toEqual([
			['index', 'logs-api_gateway-2026-12-02', 'a', '2026-12-02T08:00:00.000Z'],
			['index', 'logs-db-2026-12-03', 'b', '2026-12-03T08:00:00.000Z'],
		]);
	});

	test('bulk: create actions and an index of its own', async () => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url('/_bulk'), action: 'create', index: 'logs-{level}'});
		await d.send(events(2));
		expect(r.bulk.map(b => [b.action, b.index])).toEqual([['create', 'logs-info'], ['create', 'logs-info']]);
	});

	test.each(['/ingest', '/loki/api/v1/push', '/_bulk'])('gzip bodies (%s)', async path => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url(path), gzip: true});
		const batch = events(500, {message: 'the same words again and again', raw: 'the same words again and again'});
		expect(await d.send(batch)).toEqual({ok: true});
		expect(r.problems()).toEqual([]);
		const [request] = r.requests;
		expect(request!.gzip).toBe(true);
		expect(request!.bytes).toBeLessThan(Buffer.byteLength(request!.text) / 5);
		expect(r.lines()).toHaveLength(500);
	});

	test('measure counts an event\'s bytes in the body, so a batch within maxBytes makes a body within it', async () => {
		for (const path of ['/ingest', '/loki/api/v1/push', '/_bulk']) {
			const r = await receiver();
			const d = await destination({type: 'http', url: r.url(path)});
			const batch = events(50, {service: 'sérvice'});
			const measured = batch.reduce((sum, e) => sum + d.measure(e), 0);
			await d.send(batch);
			expect(Buffer.byteLength(r.requests[0]!.text)).toBeLessThanOrEqual(measured);
			// Loki: each event counts its stream's labels as if it were alone in it, a bound.
			if (!path.includes('loki')) {
				expect(measured).toBeLessThan(Buffer.byteLength(r.requests[0]!.text) * 1.1);
			}
		}
	});

	test('limits by shape, and the batch overrides', async () => {
		const r = await receiver();
		expect((await destination({type: 'http', url: r.url('/_bulk')})).limits).toEqual({maxEvents: 5000, maxBytes: 5 * 1024 * 1024, delayMs: 1000});
		expect((await destination({type: 'http', url: r.url(), batch: {events: 100, bytes: '256KiB', delay: '250ms'}})).limits).toEqual({maxEvents: 100, maxBytes: 256 * 1024, delayMs: 250});
	});
});

describe('http destination: headers and secrets', () => {
	test('headers with ${ENV} values are sent, and their values never reach a message', async () => {
		const r = await receiver([{status: 401, body: 'bad token s3cr3t-t0ken for tenant'}]);
		const raw = interpolate({type: 'http', url: r.url(), headers: {Authorization: 'Bearer ${LOKI_TOKEN}', 'X-Scope-OrgID': 'tenant-1'}}, {LOKI_TOKEN: 's3cr3t-t0ken'});
		const diagnostics = new Diagnostics();
		const d = await destination(raw as Record<string, unknown>, diagnostics);
		const outcome = await d.send(events(1));
		expect(r.requests[0]!.headers['authorization']).toBe('Bearer s3cr3t-t0ken');
		expect(r.requests[0]!.headers['x-scope-orgid']).toBe('tenant-1');
		expect(outcome).toMatchObject({ok: false, retry: false});
		const reason = outcome.ok ? '' : outcome.reason;
		expect(reason).toContain('s3cr3t-t0ken');
		expect(diagnostics.secrets.redact(reason)).toBe('HTTP 401: bad token [redacted] for tenant');
	});

	test('user:password in the URL is Basic authentication, left out of the target', async () => {
		const r = await receiver();
		const diagnostics = new Diagnostics();
		const d = await destination({type: 'http', url: `http://logmon:pa55word@127.0.0.1:${r.port}/_bulk`}, diagnostics);
		expect(d.target).toBe(`http://127.0.0.1:${r.port}/_bulk`);
		await d.send(events(1));
		expect(r.requests[0]!.headers['authorization']).toBe(`Basic ${Buffer.from('logmon:pa55word').toString('base64')}`);
		expect(diagnostics.secrets.redact('pa55word')).toBe('[redacted]');
	});
});

describe('http destination: https', () => {
	test('a server with a private CA: refused without `ca`, trusted with it', async () => {
		const {cert, key, certPath} = tlsFiles();
		const r = await new HttpReceiver([], {cert, key}).listen();
		open.push({close: async () => r.stop()});
		const untrusted = await destination({type: 'http', url: r.url('/_bulk')});
		const refused = await untrusted.send(events(1));
		expect(refused).toMatchObject({ok: false, retry: true});
		const trusted = await destination({type: 'http', url: r.url('/_bulk'), ca: certPath});
		expect(await trusted.send(events(2))).toEqual({ok: true});
		expect(r.bulk).toHaveLength(2);
		await expect(destination({type: 'http', url: r.url(), ca: '/nonexistent/ca.pem'})).rejects.toThrow(/forward http: ca \/nonexistent\/ca.pem/);
	});
});

describe('http destination: answers', () => {
	test('500 is worth another try, with the answer\'s text', async () => {
		const r = await receiver([{status: 500, body: 'ingester unavailable'}]);
		const d = await destination({type: 'http', url: r.url()});
		expect(await d.send(events(2))).toEqual({ok: false, retry: true, reason: 'HTTP 500: ingester unavailable', retryAfterMs: undefined});
		expect(await d.send(events(2))).toEqual({ok: true});
		expect(r.loki).toHaveLength(2);
	});

	test('429 honours Retry-After (seconds or a date); 408 and 503 retry too', async () => {
		const r = await receiver([
			{status: 429, body: 'rate limited', headers: {'retry-after': '3'}},
			{status: 429, headers: {'retry-after': new Date(Date.now() + 60_000).toUTCString()}},
			408,
			503,
		]);
		const d = await destination({type: 'http', url: r.url('/_bulk')});
		expect(await d.send(events(1))).toEqual({ok: false, retry: true, reason: 'HTTP 429: rate limited', retryAfterMs: 3000});
		const dated = await d.send(events(1));
		expect(dated.ok ? 0 : dated.retryAfterMs).toBeGreaterThan(50_000);
		expect(await d.send(events(1))).toMatchObject({ok: false, retry: true, reason: 'HTTP 408: error 408'});
		expect(await d.send(events(1))).toMatchObject({ok: false, retry: true, reason: 'HTTP 503: error 503'});
	});

	test('an answer without end (or of gigabytes) is read up to the cap, and the connection closed: no wait, no memory', async () => {
		let closedEarly = false;
		const server = http.createServer((req, res) => {
			req.resume();
			req.once('end', () => {
				res.writeHead(200, {'content-type': 'application/json'});
				const chunk = Buffer.alloc(64 * 1024, 0x20);
				const more = (): void => {
					while (res.write(chunk)) {
						// Until the socket pushes back; then on at its pace, for ever.
					}

					res.once('drain', more);
				};

				res.once('close', () => {
					closedEarly = true;
				});
				more();
			});
		});
		await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
		open.push({close: async () => new Promise<void>(resolve => {
			server.closeAllConnections();
			server.close(() => resolve());
		})});
		const {port} = server.address() as AddressInfo;
		const d = await destination({type: 'http', url: `http://127.0.0.1:${port}/ingest`, timeout: '20s'});
		expect(await d.send(events(2))).toEqual({ok: true});
		await until(() => closedEarly, 'the endless answer cut off');
	});

	test('400 refuses the batch for good, with the first 500 characters of the answer on one line', async () => {
		const text = 'entry out of order\n' + 'x'.repeat(1000);
		const r = await receiver([{status: 400, body: text}]);
		const d = await destination({type: 'http', url: r.url()});
		const outcome = await d.send(events(1));
		expect(outcome).toMatchObject({ok: false, retry: false});
		expect(outcome.ok ? '' : outcome.reason).toBe(`HTTP 400: ${('entry out of order ' + 'x'.repeat(1000)).slice(0, 500)}…`);
	});

	test('network errors are worth another try: refused, reset, no answer in time', async () => {
		const r = await receiver(['reset', 'hang']);
		const d = await destination({type: 'http', url: r.url(), timeout: '300ms'});
		expect(await d.send(events(1))).toMatchObject({ok: false, retry: true, reason: 'connection reset'});
		expect(await d.send(events(1))).toMatchObject({ok: false, retry: true, reason: 'no answer within 0.3s'});
		await r.stop();
		expect(await d.send(events(1))).toMatchObject({ok: false, retry: true, reason: 'connection refused'});
		await r.listen();
		expect(await d.send(events(1))).toEqual({ok: true});
		expect(r.loki).toHaveLength(1);
	});

	test('a keep-alive socket the server closed while idle is not a lost batch', async () => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url()});
		expect(await d.send(events(1))).toEqual({ok: true});
		await r.stop();
		await r.listen();
		const outcome = await d.send(events(1));
		// Either it went through, or it is retried: never refused.
		expect(outcome.ok || outcome.retry).toBe(true);
	});

	test('_bulk items failing with 429 or 5xx: the batch is retried, without the items already stored', async () => {
		const r = await receiver([{items: (_doc, i) => (i % 3 === 0 ? 429 : (i === 4 ? 503 : undefined))}]);
		const d = await destination({type: 'http', url: r.url('/_bulk')});
		const batch = events(10);
		const first = await d.send(batch);
		expect(first).toMatchObject({ok: false, retry: true});
		expect(first.ok ? '' : first.reason).toBe('_bulk: 5 of 10 documents not stored, to send again (first: 429 es_rejected_execution_exception: item 0: failed with 429)');
		expect(await d.send(batch)).toEqual({ok: true});
		expect(r.requests.map(q => q.text.split('\n').length - 1)).toEqual([20, 10]);
		expect(r.lines().sort()).toEqual(batch.map(e => e.message).sort());
		expect(d.details?.()).toMatchObject({bulkItemsRetried: 5, requests: 2});
	});

	test('_bulk items refused with 4xx: those events are refused for good, the others are stored', async () => {
		const r = await receiver([{items: (doc) => (doc['message'] === 'line 2' ? 400 : undefined)}]);
		const d = await destination({type: 'http', url: r.url('/_bulk')});
		const batch = events(4);
		const outcome = await d.send(batch);
		expect(outcome).toMatchObject({ok: false, retry: false, reason: '_bulk: 1 of 4 documents refused (first: 400 document_parsing_exception: item 2: failed with 400)'});
		expect(outcome.ok ? [] : outcome.refused).toEqual([batch[2]]);
		expect(r.lines()).toEqual(['line 0', 'line 1', 'line 3']);
	});

	test('_bulk: 429 items first, then a 4xx one: retried until only the refused one is left', async () => {
		const r = await receiver([
			{items: (doc, i) => (doc['message'] === 'line 1' ? 400 : (i === 2 ? 429 : undefined))},
			{items: doc => (doc['message'] === 'line 1' ? 400 : undefined)},
		]);
		const d = await destination({type: 'http', url: r.url('/_bulk')});
		const batch = events(3);
		expect(await d.send(batch)).toMatchObject({ok: false, retry: true});
		const second = await d.send(batch);
		expect(second).toMatchObject({ok: false, retry: false});
		expect(second.ok ? [] : second.refused).toEqual([batch[1]]);
		expect(r.lines().sort()).toEqual(['line 0', 'line 2']);
	});
});

describe('http destination: 413, a body over the server\'s limit', () => {
	test('the batch is split in halves until each part fits; every event stored once, in order', async () => {
		for (const url of ['/loki/api/v1/push', '/_bulk', '/ingest']) {
			const r = await receiver();
			const d = await destination({type: 'http', url: r.url(url)});
			const batch = events(20);
			// Room for about five events a request, whatever the shape's bytes per event.
			r.maxBody = Math.ceil(d.measure(batch[0]!) * 5.5);
			expect(await d.send(batch)).toEqual({ok: true});
			expect(r.problems()).toEqual([]);
			expect(r.lines()).toEqual(batch.map(e => url === '/loki/api/v1/push' ? e.raw : e.message));
			expect(r.requests.filter(q => q.status === 413).length).toBeGreaterThan(0);
			expect(r.requests.filter(q => q.status !== 413).every(q => q.bytes <= r.maxBody)).toBe(true);
			expect(d.details?.()['splits']).toBeGreaterThan(0);
		}
	});

	test('one event over the limit alone is refused for good; the others are stored', async () => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url('/ingest')});
		const batch = events(6);
		batch[3] = event({time: t0 + 3, message: 'x'.repeat(4000), raw: 'huge'});
		r.maxBody = 1500;
		const outcome = await d.send(batch);
		expect(outcome).toMatchObject({ok: false, retry: false, reason: expect.stringMatching(/^HTTP 413: request body of \d+ bytes is over the limit of 1500$/) as string});
		expect(outcome.ok ? [] : outcome.refused).toEqual([batch[3]]);
		expect(r.lines()).toEqual(['line 0', 'line 1', 'line 2', 'line 4', 'line 5']);
	});

	test('a half that fails to be retried: the retry sends only what was not stored', async () => {
		const r = await receiver([413, 200, 503]);
		const d = await destination({type: 'http', url: r.url('/ingest')});
		const batch = events(4);
		expect(await d.send(batch)).toMatchObject({ok: false, retry: true, reason: 'HTTP 503: error 503'});
		expect(await d.send(batch)).toEqual({ok: true});
		expect(r.lines()).toEqual(['line 0', 'line 1', 'line 2', 'line 3']);
		expect(r.requests.map(q => q.text.trim().split('\n').length)).toEqual([4, 2, 2, 2]);
	});
});

describe('http destination: odd answers', () => {
	test('a 2xx to a _bulk that is no _bulk reply is taken as stored, and said once', async () => {
		const r = await receiver([{status: 200, body: '<html>proxy</html>'}, {status: 200, body: '<html>proxy</html>'}]);
		const diagnostics = new Diagnostics();
		const d = await destination({type: 'http', url: r.url('/_bulk')}, diagnostics);
		expect(await d.send(events(1))).toEqual({ok: true});
		expect(await d.send(events(1))).toEqual({ok: true});
		expect(diagnostics.recent(10).map(x => x.text)).toEqual([`${r.url('/_bulk')}: a 2xx answer that is not a _bulk reply; batches are taken as stored: <html>proxy</html>`]);
	});

	test('loki with line "json": the -o json object is the line', async () => {
		const r = await receiver();
		const d = await destination({type: 'http', url: r.url(), line: 'json'});
		await d.send([event({message: 'hello', service: 'api'})]);
		expect(JSON.parse(r.loki[0]!.line)).toMatchObject({message: 'hello', service: 'api', level: 'INFO'});
	});
});

describe('http destination: config', () => {
	test('--forward URLs: the shape from ?shape= or the path; logmon\'s parameters are taken off', () => {
		expect(httpForwardFromUrl(new URL('http://loki:3100/loki/api/v1/push'))).toEqual({type: 'http', url: 'http://loki:3100/loki/api/v1/push', shape: 'loki'});
		expect(httpForwardFromUrl(new URL('https://es:9200/_bulk?gzip=1'))).toEqual({type: 'http', url: 'https://es:9200/_bulk', shape: 'bulk', gzip: true});
		expect(httpForwardFromUrl(new URL('https://logs.example.com/in?shape=loki&tenant=a'))).toEqual({type: 'http', url: 'https://logs.example.com/in?tenant=a', shape: 'loki'});
		expect(httpForwardFromUrl(new URL('http://127.0.0.1:8080/ingest'))).toEqual({type: 'http', url: 'http://127.0.0.1:8080/ingest', shape: 'ndjson'});
		const bad = httpForwardConfig.safeParse(httpForwardFromUrl(new URL('http://h/x?shape=splunk')));
		expect(bad.success).toBe(false);
	});

	test('a bad template or label name is a config error that says why', () => {
		const index = httpForwardConfig.safeParse({type: 'http', url: 'http://es/_bulk', index: 'logs-{servce}'});
		expect(index.error?.issues[0]?.message).toMatch(/unknown placeholder \{servce\}/);
		const label = httpForwardConfig.safeParse({type: 'http', url: 'http://loki/loki/api/v1/push', labels: {'1bad': '{service}'}});
		expect(label.error?.issues[0]?.message).toMatch(/Loki label name/);
		const header = httpForwardConfig.safeParse({type: 'http', url: 'http://x/', headers: {'Bad Header': 'v'}});
		expect(header.error?.issues[0]).toMatchObject({path: ['headers', 'Bad Header'], message: '"Bad Header" is not an HTTP header name'});
		expect(httpForwardConfig.safeParse({type: 'http', url: 'ftp://x/'}).success).toBe(false);
	});
});
