import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, describe, expect, test} from 'vitest';
import {LogstreamTestServer} from '../source/testing/logstream-server.js';
import {brokers, skipKafka, stateHome, tool, unique} from './support/kafka.js';
import {Running} from './support/kafka-logmon.js';
import {collect, run, start, until, waitFor} from './support/logmon.js';
import {caseLine, nearMisses, secretCases} from './support/redact-corpus.js';

// Redaction with real peers on the other side: what a logio subscriber of the fan-out receives,
// and what comes out of Kafka and logstream sources. Secrets must be gone everywhere; near-misses
// must come through as they were sent.

const stops: Array<() => void> = [];
afterEach(() => {
	for (const stop of stops.splice(0)) {
		stop();
	}
});

const dir = mkdtempSync(path.join(tmpdir(), 'logmon-redact-sources-'));
afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

const textLines = [...secretCases.flatMap(c => [caseLine(c, 'plain'), caseLine(c, 'logfmt')]), ...nearMisses.map(n => n.line)];

function expectClean(output: string, what: string): void {
	for (const c of secretCases) {
		expect(output, `${what}: ${c.rule}`).not.toContain(c.secret);
	}

	for (const n of nearMisses) {
		expect(output, `${what}: ${n.what}`).toContain(n.keep);
	}
}

test('the logio fan-out serves its subscribers the redacted lines', async () => {
	const server = start(['--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0', '--serve-subscribers', '127.0.0.1:0']);
	stops.push(() => server.kill('SIGKILL'));
	let serverOut = '';
	let serverErr = '';
	server.stdout!.on('data', (d: Buffer) => {
		serverOut += d.toString();
	});
	server.stderr!.on('data', (d: Buffer) => {
		serverErr += d.toString();
	});
	await until(() => /listening on 127\.0\.0\.1:\d+/.test(serverErr) && /serving logio subscribers on \S+/.test(serverErr), 'both ports on stderr');
	const listenPort = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(serverErr)![1]);
	const fanoutUrl = /serving logio subscribers on (\S+)/.exec(serverErr)![1]!;

	// A plain HTTP subscriber, as `curl -N` would be.
	let received = '';
	const request = http.get(`${fanoutUrl}?app=shop`, res => {
		res.on('data', (d: Buffer) => {
			received += d.toString();
		});
	});
	request.on('error', () => undefined);
	stops.push(() => request.destroy());

	const to = `logio://127.0.0.1:${listenPort}?app=shop&proc=web`;
	for (let tries = 0; !received.includes('probe'); tries++) {
		expect(tries).toBeLessThan(30);
		await run(['publish', '--to', to], {input: 'probe\n'});
		await until(() => received.includes('probe'), 'a probe line at the subscriber', 1000).catch(() => undefined);
	}

	const published = await run(['publish', '--to', to], {input: textLines.join('\n') + '\n'});
	expect(published.code).toBe(0);
	const last = nearMisses.at(-1)!.line;
	await until(() => received.includes(last) && serverOut.includes(last), 'the last line at the subscriber and on stdout', 30_000);
	expectClean(received, 'subscriber');
	expectClean(serverOut, 'stdout');
	expect(received).toContain('shop[web]');
	expect(received).toContain('[REDACTED:aws-key]');
});

test('logstream lines are redacted', async () => {
	const server = await LogstreamTestServer.start({backends: [{name: 'web-1', types: ['php-error']}]});
	stops.push(() => void server.stop());
	const config = path.join(dir, 'logstream.json');
	writeFileSync(config, JSON.stringify({sources: [{type: 'logstream', url: server.url, auth: server.auth()}]}));
	chmodSync(config, 0o600);
	const child = start(['--config', config, '--no-ui', '-o', 'raw']);
	stops.push(() => child.kill('SIGKILL'));
	const result = collect(child, 60_000);
	await until(() => server.liveClients.at(-1)?.enabled.has('web-1 php-error'), 'the pair enabled');
	for (const text of textLines) {
		server.line({server: 'web-1', type: 'php-error', text});
	}

	await waitFor(child.stdout!, nearMisses.at(-1)!.line);
	child.kill('SIGTERM');
	const {stdout} = await result;
	expectClean(stdout, 'logstream');
	expect(stdout.trim().split('\n')).toHaveLength(textLines.length);
});

describe.skipIf(skipKafka())('kafka', () => {
	test('JSON records and plain values from a real broker are redacted in -o json, record and metadata included', async () => {
		const address = await brokers();
		const kafka = tool(address);
		try {
			const topic = unique('redact');
			await kafka.createTopics([{topic}]);
			await kafka.produce(topic, [
				...secretCases.map(c => ({key: 'AKIAIOSFODNN7EXAMPLE', value: caseLine(c, 'json')})),
				...textLines.map(value => ({value})),
			]);
			const m = new Running(['--kafka', address, '--topic', topic, '-G', unique('g'), '--from-beginning', '--exit-at-end', '-o', 'json'], {XDG_STATE_HOME: stateHome()});
			stops.push(() => void m.stop('SIGKILL'));
			await m.until(() => m.lines.length === secretCases.length + textLines.length, 'every record');
			const output = m.lines.join('\n');
			expectClean(output, 'kafka');
			const events = m.json();
			expect(events.filter(e => e['record']['key'] !== null).map(e => e['record']['key'])).toEqual(secretCases.map(() => '[REDACTED:aws-key]'));
			const card = events.find(e => e['record']['value']?.['pan'] !== undefined);
			expect(card?.['record']['value']['pan']).toBe('[REDACTED:card]');
		} finally {
			await kafka.disconnect();
		}
	});
});
