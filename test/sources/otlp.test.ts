import {type ChildProcess} from 'node:child_process';
import net from 'node:net';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterEach, describe, expect, test} from 'vitest';
import {collect, start, until, waitFor} from '../support/logmon.js';
import {type Encoding, SeverityNumber, captureDiag, otelSender, spanContext} from '../support/otlp.js';

// The OTLP/HTTP receiver of the built logmon, fed by the official OpenTelemetry JS exporters
// (protobuf and JSON, with and without gzip), and by hand-made bad requests for the status codes.

const children: ChildProcess[] = [];
afterEach(() => {
	for (const c of children.splice(0)) {
		c.kill('SIGKILL');
	}
});

/** Start logmon with an OTLP source on a free port; resolves with the port it listens on. */
async function logmon(args: string[]): Promise<{child: ChildProcess; port: number; stderr: () => string}> {
	const child = start(['--no-ui', '-o', 'json', '--no-history', ...args]);
	children.push(child);
	let stderr = '';
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
	});
	const seen = await waitFor(child.stderr!, /listening on http:\/\/[^/\s]+:\d+\/v1\/logs/);
	const port = Number(/listening on http:\/\/[^/\s]+:(\d+)/.exec(seen)![1]);
	return {child, port, stderr: () => stderr};
}

type Line = {service: string; host: string; proc: string; type: string; level: string; message: string; time: string; kind: string; record: Record<string, any>};

function lines(stdout: string): Line[] {
	return stdout.split('\n').filter(Boolean).map(l => JSON.parse(l) as Line);
}

const traceId = '5b8efff798038103d269b633813fc60c';
const spanId = 'eee19b7ec3c1b174';

describe('OTLP receiver with the official exporters', () => {
	test.each<[Encoding, boolean]>([['proto', false], ['proto', true], ['json', false], ['json', true]])('%s, gzip %s: every record arrives with its fields', async (encoding, gzip) => {
		const {child, port} = await logmon(['--otlp', '127.0.0.1:0']);
		const output = collect(child);
		const {provider, logger} = otelSender({url: `http://127.0.0.1:${port}/v1/logs`, encoding, gzip});
		const n = 2000;
		const t0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
		for (let i = 0; i < n; i++) {
			switch (i % 4) {
				case 0: {
					logger.emit({body: `order ${i} failed`, severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', timestamp: t0 + i, attributes: {'order.id': i, retried: true, tags: ['a', 'b']}});
					break;
				}

				case 1: {
					logger.emit({body: {event: 'paid', order: i, items: [{sku: 'x', qty: 2}]}, severityNumber: SeverityNumber.INFO, timestamp: t0 + i, context: spanContext(traceId, spanId)});
					break;
				}

				case 2: {
					// No number: the text decides.
					logger.emit({body: `slow order ${i}`, severityText: 'WARNING', timestamp: t0 + i});
					break;
				}

				default: {
					logger.emit({body: `debug order ${i}`, severityNumber: SeverityNumber.DEBUG2, timestamp: t0 + i, eventName: 'order.debug'});
				}
			}
		}

		await provider.shutdown();
		child.kill('SIGTERM');
		const result = await output;
		const got = lines(result.stdout);
		expect(got).toHaveLength(n);
		expect(new Set(got.map(l => /order (\d+)|"order":(\d+)/.exec(l.message)!.slice(1).find(Boolean))).size).toBe(n);
		for (const l of got) {
			expect(l).toMatchObject({kind: 'otlp', service: 'shop', host: 'web1', proc: 'checkout'});
		}

		const byNumber = (i: number) => got.find(l => l.message.includes(`order ${i} `) || l.message.includes(`"order":${i},`) || l.message.endsWith(`order ${i}`))!;
		expect(byNumber(0)).toMatchObject({level: 'ERROR', message: 'order 0 failed', time: new Date(t0).toISOString()});
		expect(byNumber(0).record).toMatchObject({severityNumber: 17, severityText: 'ERROR', attributes: {'order.id': 0, retried: true, tags: ['a', 'b']}, resource: {'deployment.environment': 'prod'}, scopeVersion: '1.2.3'});
		// What the event's own fields hold is not repeated in the record.
		expect(byNumber(0).record).not.toHaveProperty('body');
		expect(byNumber(0).record['resource']).not.toHaveProperty('service.name');
		expect(byNumber(1)).toMatchObject({level: 'INFO', message: '{"event":"paid","order":1,"items":[{"sku":"x","qty":2}]}'});
		expect(byNumber(1).record).toMatchObject({traceId, spanId, flags: 1, body: {event: 'paid', order: 1, items: [{sku: 'x', qty: 2}]}});
		expect(byNumber(2)).toMatchObject({level: 'WARN', message: 'slow order 2'});
		expect(byNumber(3)).toMatchObject({level: 'DEBUG', message: 'debug order 3'});
		expect(byNumber(3)).toMatchObject({type: 'order.debug'});
		expect(result.stderr).not.toMatch(/refused|parse errors/);
	});

	test.each<[Encoding, boolean]>([['proto', true], ['json', false]])('back-pressure (%s, gzip %s): a reader that stops gets 429 with Retry-After, and the exporter\'s retries deliver everything', async (encoding, gzip) => {
		const {child, port, stderr} = await logmon(['--otlp', '127.0.0.1:0']);
		// Nobody reads logmon's stdout yet: its queue fills and the source pauses.
		const diagnostics = captureDiag();
		try {
			const {provider, logger} = otelSender({url: `http://127.0.0.1:${port}/v1/logs`, encoding, gzip});
			const n = 30_000;
			for (let i = 0; i < n; i++) {
				logger.emit({body: `record ${i} ${'x'.repeat(100)}`, severityNumber: SeverityNumber.INFO});
			}

			const flushed = provider.shutdown();
			await until(() => /answered \d+ request\(s\) 429/.test(stderr()), 'logmon to answer 429', 30_000);
			const result = collect(child, 120_000);
			await flushed;
			child.kill('SIGTERM');
			const {stdout} = await result;
			const got = lines(stdout).map(l => Number(/^record (\d+)/.exec(l.message)![1]));
			expect(got).toHaveLength(n);
			expect(new Set(got).size).toBe(n);
			// Exactly the Retry-After of logmon's 429 (the exporter's own backoff has jitter).
			expect(diagnostics.lines.join('\n'), diagnostics.lines.join('\n')).toMatch(/Scheduling export retry in 1000ms/);
			expect(diagnostics.lines.join('\n')).not.toMatch(/Export failed/);
		} finally {
			diagnostics.stop();
		}
	});
});

/** google.rpc.Status {1 code, 2 message} from protobuf: small enough to read by hand here. */
function readStatus(bytes: Uint8Array): {code: number; message: string} {
	let i = 0;
	let code = 0;
	let message = '';
	while (i < bytes.length) {
		const tag = bytes[i++]!;
		const n = bytes[i++]!;
		if (tag === 0x08) {
			code = n;
		} else if (tag === 0x12) {
			const length = n < 0x80 ? n : (n & 0x7F) + (bytes[i++]! << 7);
			message = Buffer.from(bytes.subarray(i, i + length)).toString('utf8');
			i += length;
		}
	}

	return {code, message};
}

describe('OTLP receiver status codes', () => {
	test('bad data 400, media types 415, oversized bodies 413, in the request\'s content type; then it still takes good requests', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-otlp-'));
		const config = path.join(dir, 'config.json');
		const maxBodyBytes = 1024 * 1024;
		writeFileSync(config, JSON.stringify({sources: [{type: 'otlp', listen: '127.0.0.1:0', maxBodyBytes}]}));
		const {child, port} = await logmon(['--config', config]);
		const output = collect(child);
		const url = `http://127.0.0.1:${port}/v1/logs`;
		const post = async (body: Uint8Array | string, headers: Record<string, string>) => {
			const response = await fetch(url, {method: 'POST', body, headers});
			return {status: response.status, type: response.headers.get('content-type'), retryAfter: response.headers.get('retry-after'), body: new Uint8Array(await response.arrayBuffer())};
		};

		const json = 'application/json';
		const proto = 'application/x-protobuf';

		// Not protobuf: a length past the end, a varint that never ends, a group.
		for (const bytes of [[0x0A, 0x7F, 0x01], [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x0B]]) {
			const r = await post(new Uint8Array(bytes), {'content-type': proto});
			expect(r.status).toBe(400);
			expect(r.type).toBe(proto);
			expect(readStatus(r.body)).toMatchObject({code: 3, message: expect.stringMatching(/protobuf body cannot be read/)});
		}

		for (const body of ['{"resourceLogs": \u001B]52;c;Y2xpcA==\u0007', '{"resourceLogs": [', '[1,2]', '{"resourceLogs": {"a": 1}}', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[5]}]}]}']) {
			const r = await post(body, {'content-type': 'application/json; charset=utf-8'});
			expect(r.status).toBe(400);
			expect(r.type).toBe(json);
			expect(JSON.parse(Buffer.from(r.body).toString())).toMatchObject({code: 3, message: expect.stringMatching(/JSON body cannot be read/)});
		}

		// A gzip header on a body that is not gzip.
		expect((await post('{}', {'content-type': json, 'content-encoding': 'gzip'})).status).toBe(400);

		const unsupported: Array<Record<string, string>> = [{'content-type': 'text/plain'}, {'content-type': 'application/grpc'}, {'content-type': json, 'content-encoding': 'br'}];
		for (const headers of unsupported) {
			const r = await post('{}', headers);
			expect(r.status).toBe(415);
		}

		// Over the limit as sent, and only once gunzipped (a small body that inflates past it).
		const big = JSON.stringify({resourceLogs: [], pad: 'x'.repeat(maxBodyBytes)});
		const tooBig = await post(big, {'content-type': json});
		expect(tooBig.status).toBe(413);
		expect(JSON.parse(Buffer.from(tooBig.body).toString())).toMatchObject({message: expect.stringMatching(/over the limit of 1048576 bytes/)});
		const bomb = gzipSync(Buffer.alloc(50 * maxBodyBytes, 0x20));
		expect(bomb.length).toBeLessThan(maxBodyBytes);
		const inflated = await post(bomb, {'content-type': proto, 'content-encoding': 'gzip'});
		expect(inflated.status).toBe(413);
		expect(inflated.type).toBe(proto);
		expect(readStatus(inflated.body).message).toMatch(/once gunzipped is over the limit/);

		expect((await fetch(url)).status).toBe(405);
		expect((await fetch(`http://127.0.0.1:${port}/v1/traces`, {method: 'POST', body: '{}', headers: {'content-type': json}})).status).toBe(404);

		// Still alive, and an empty request is a success in either encoding.
		const empty = await post('{}', {'content-type': json});
		expect(empty).toMatchObject({status: 200, type: json});
		expect(Buffer.from(empty.body).toString()).toBe('{}');
		const emptyProto = await post(new Uint8Array(0), {'content-type': proto});
		expect(emptyProto).toMatchObject({status: 200, type: proto});
		expect(emptyProto.body.length).toBe(0);
		const good = await post(gzipSync(JSON.stringify({resourceLogs: [{scopeLogs: [{logRecords: [{body: {stringValue: 'still here'}, severityText: 'warn'}]}]}]})), {'content-type': json, 'content-encoding': 'gzip'});
		expect(good.status).toBe(200);
		child.kill('SIGTERM');
		const result = await output;
		expect(lines(result.stdout)).toMatchObject([{message: 'still here', level: 'WARN', service: 'otlp'}]);
		expect(result.stderr).toMatch(/OTLP request refused \(400\)/);
		// Each refusal is counted as bad input; the first few are told on stderr.
		expect(result.stderr).toMatch(/parse errors: 5\)/);
		// The parser quoted the body with its escape sequence: shown neutralised, never raw.
		expect(result.stderr).toContain('not valid JSON');
		expect(result.stderr).not.toMatch(/[\u0000-\u0008\u000B-\u001F]/);
	});
});

describe('OTLP listener', () => {
	test('an address in use fails the source with a message naming it; logmon exits 1', async () => {
		const taken = net.createServer();
		await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve));
		const {port} = taken.address() as net.AddressInfo;
		try {
			const result = await collect(start(['--no-ui', '--no-history', '--otlp', `127.0.0.1:${port}`]));
			expect(result.code).toBe(1);
			expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port} for OTLP: address already in use`);
		} finally {
			taken.close();
		}
	});

	test('an address other than loopback is used when given, with a warning', async () => {
		const {child, port, stderr} = await logmon(['--otlp', '0.0.0.0:0']);
		await until(() => stderr().includes('reachable from other machines'), 'the warning');
		expect(port).toBeGreaterThan(0);
		expect(stderr()).toMatch(/reachable from other machines and OTLP\/HTTP has no authentication/);
		child.kill('SIGTERM');
	});
});
