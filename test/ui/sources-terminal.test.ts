import {appendFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {freePort} from '../support/logmon.js';
import {paneCommand, prepare, shellQuote, Tmux} from '../support/tmux.js';

// The new sources in the terminal UI, in a real terminal: a followed file and an OTLP listener
// fed by a real HTTP POST show their events side by side; the sources toggles (o, then the row's
// digit) hide one source's events and show them again; a stack trace joined in the file shows as
// its first line and its lines as indented rows.

let dir: string;
let tmux: Tmux | undefined;

beforeAll(() => {
	prepare();
	dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-tmux-sources-'));
}, 300_000);

afterEach(() => {
	tmux?.kill();
	tmux = undefined;
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

/** An OTLP/HTTP JSON request of one record per message, from service `checkout`. */
function otlpBody(messages: string[]): string {
	const now = Date.now();
	return JSON.stringify({resourceLogs: [{
		resource: {attributes: [{key: 'service.name', value: {stringValue: 'checkout'}}, {key: 'host.name', value: {stringValue: 'co-1'}}]},
		scopeLogs: [{scope: {name: 'shop.checkout'}, logRecords: messages.map((m, i) => ({
			timeUnixNano: `${now + i}000000`,
			severityNumber: 13,
			severityText: 'WARN',
			body: {stringValue: m},
			traceId: '5b8efff798038103d269b633813fc60c',
			spanId: 'eee19b7ec3c1b174',
		}))}],
	}]});
}

describe('a followed file and an OTLP listener in the terminal UI', () => {
	test('both sources\' events show; o and the row\'s digit hide one source and show it again; a trace shows as rows', async () => {
		const file = path.join(dir, 'orders.log');
		writeFileSync(file, '');
		const port = await freePort();
		tmux = new Tmux(paneCommand(`--otlp 127.0.0.1:${port} ${shellQuote(file)}`), 200, 50);
		// Both live: the file is opened (at its end) and the listener bound.
		await tmux.waitFor(s => s.includes('file: live') && s.includes('otlp: live'), 30_000);

		// The file is followed from its end: lines written now, with a Java trace under an error.
		appendFileSync(file, [
			'2026-05-01 10:00:00,001 INFO [main] com.shop.Orders - file-line-one started',
			'2026-05-01 10:00:01,114 ERROR [http-1] com.shop.Orders - file-line-two order 4711 failed',
			'java.lang.IllegalStateException: payment gateway answered 502',
			'\tat com.shop.payment.Gateway.charge(Gateway.java:88)',
			'\tat com.shop.OrderService.place(OrderService.java:41)',
			'2026-05-01 10:00:02,000 INFO [main] com.shop.Orders - file-line-three still serving',
			'',
		].join('\n'));
		// A real POST to the listener, until it is up and takes it.
		let status = 0;
		for (let tries = 0; status !== 200 && tries < 100; tries++) {
			status = await fetch(`http://127.0.0.1:${port}/v1/logs`, {method: 'POST', headers: {'content-type': 'application/json'}, body: otlpBody(['otlp-record-one cart abandoned', 'otlp-record-two slow payment'])}).then(r => r.status, () => 0); // eslint-disable-line no-await-in-loop
			if (status !== 200) {
				await new Promise(resolve => setTimeout(resolve, 100)); // eslint-disable-line no-await-in-loop
			}
		}

		expect(status).toBe(200);
		const all = ['file-line-one', 'file-line-two', 'file-line-three', 'otlp-record-one', 'otlp-record-two'];
		let screen = await tmux.waitFor(s => all.every(w => s.includes(w)), 30_000);
		expect(screen).toMatch(/checkout\[shop\.checkout\].*WARN.*otlp-record-one cart abandoned/);

		// The trace: its first line, then its lines as indented rows under it, no ⏎ joints.
		const rows = screen.split('\n');
		const first = rows.findIndex(r => r.includes('file-line-two order 4711 failed'));
		expect(rows[first + 1]).toMatch(/^\s{6,}java\.lang\.IllegalStateException: payment gateway answered 502/);
		expect(rows[first + 2]).toMatch(/^\s{6,}at com\.shop\.payment\.Gateway\.charge\(Gateway\.java:88\)/);
		expect(rows[first + 3]).toMatch(/^\s{6,}at com\.shop\.OrderService\.place/);
		expect(rows[first + 4]).toMatch(/^ \d\d:\d\d:\d\d /); // the next event (the file's next line, or an OTLP record that came meanwhile)
		expect(rows[first]).not.toContain('⏎');

		// The sources toggles: one row per source.
		tmux.keys(['o']);
		screen = await tmux.waitFor(s => /\d ● file/.test(s) && /\d ● otlp/.test(s));
		const fileRow = /(\d) ● file/.exec(screen)![1]!;
		tmux.keys([fileRow]);
		screen = await tmux.waitFor(s => new RegExp(`${fileRow} ○ file`).test(s) && !s.includes('file-line-one'));
		expect(screen).toContain('otlp-record-one');
		expect(screen).not.toContain('payment gateway answered 502');
		tmux.keys([fileRow]);
		screen = await tmux.waitFor(s => new RegExp(`${fileRow} ● file`).test(s) && all.every(w => s.includes(w)));
		expect(screen).toContain('payment gateway answered 502');

		// And the other way round: OTLP off, the file's events stay.
		const otlpRow = /(\d) ● otlp/.exec(screen)![1]!;
		tmux.keys([otlpRow]);
		screen = await tmux.waitFor(s => !s.includes('otlp-record-one') && s.includes('file-line-one'));
		tmux.keys([otlpRow]);
		await tmux.waitFor(s => all.every(w => s.includes(w)));

		tmux.keys(['q']);
		const end = await tmux.waitFor('DONE');
		expect(end).toContain('EXIT=0');
	}, 120_000);
});
