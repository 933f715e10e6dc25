import {readdirSync, readFileSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {logioListenConfig} from '../source/config/logio.js';
import {startFanout} from '../source/sinks/logio-fanout.js';
import {LogioListenSource} from '../source/sources/logio-listen.js';
import {goMatches} from './support/go-regexp.js';
import {collectingBus, deps, until} from './support/logio-peers.js';
import {corpus} from './support/logmon.js';

// The drop-in logio server speaks the original's regex dialect: Go's regexp (RE2) decides what
// each subscriber gets. Real publishers over TCP, real subscribers over HTTP, Go as the judge.

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
	for (const s of stops.splice(0).reverse()) {
		await s();
	}
});

async function setup() {
	const {bus} = collectingBus();
	const source = new LogioListenSource('logio-listen', logioListenConfig.parse({type: 'logio-listen', listen: '127.0.0.1:0'}), deps);
	await source.start(bus.addSource(source.id, source.kind));
	const fanout = await startFanout(bus, '127.0.0.1:0', {hostname: 'logmon-host'});
	stops.push(async () => fanout.close(), async () => source.stop());
	return {port: source.address!.port, fanout};
}

type Subscription = {status: number | undefined; body: string; lines: () => string[]};

function subscribe(port: number, query: string): Subscription {
	const s: Subscription = {status: undefined, body: '', lines: () => s.body.split('\n').filter(Boolean).map(l => l.slice(l.indexOf(': ') + 2))};
	const req = http.get({host: '127.0.0.1', port, path: `/?${query}`}, res => {
		s.status = res.statusCode;
		res.setEncoding('utf8').on('data', (d: string) => {
			s.body += d;
		});
	});
	req.on('error', () => undefined);
	stops.push(() => {
		req.destroy();
	});
	return s;
}

function publish(port: number, app: string, raws: string[]): void {
	const socket = net.connect(port, '127.0.0.1');
	socket.end(JSON.stringify({app, proc: 'p', host: 'h'}) + raws.map(raw => JSON.stringify({time: '2024-01-02T03:04:05Z', raw})).join(''));
}

const patterns = [
	'ERROR', '(?i)error', 'error|warn', '.*foo.*bar', String.raw`\d+\.\d+\.\d+\.\d+`, '[[:digit:]]{4}', '[[:^alpha:]]{3}',
	String.raw`\pL+ \pL+`, String.raw`\p{Greek}`, String.raw`\Q[error]\E`, String.raw`\Aroot`, String.raw`done\z`, '(?i:ssh)d',
	'(?U)a.+b', '^$', '(?m)^x$', String.raw`\x{41}`, '(?i)k', '(?P<w>user)', String.raw`\bkernel\b`,
	'foo(?=bar)', String.raw`(a)\1`, 'a++', 'x{1001}', String.raw`\Z`, '(',
];

const special = ['root login', 'all done', 'ssHd', 'Kelvin \u212A', 'Ωμέγα', 'ÉCOLE école', '😀 a😀b', 'A', 'foo then bar', '[error] x', 'tab\there', 'x'];

function lines(): string[] {
	const out = [...special];
	for (const file of readdirSync(corpus).filter(f => f.endsWith('.log')).sort()) {
		out.push(...readFileSync(path.join(corpus, file), 'utf8').split(/\r?\n/).filter(Boolean).slice(0, 60));
	}

	return out;
}

describe('logio subscriber regexes against Go', () => {
	test('each subscription gets exactly the lines Go\'s regexp matches; patterns Go refuses get a 400', async () => {
		const {port, fanout} = await setup();
		const all = subscribe(fanout.address.port, '');
		const subs = patterns.map(p => subscribe(fanout.address.port, `log=${encodeURIComponent(p)}`));
		const input = lines();
		// As the protocol has it, a published raw ends with its newline, and `log` is matched against
		// it as published: so `done\z` does not match "all done\n" there, nor here.
		const go = goMatches(patterns, input.map(l => l + '\n'));
		await until(() => subs.every((s, i) => go.errors[i] !== '' ? s.status === 400 : true) && fanout.subscribers().length === 1 + go.errors.filter(e => e === '').length, 'subscribers in place');
		for (const [i, s] of subs.entries()) {
			if (go.errors[i] !== '') {
				expect(s.body, patterns[i]).toMatch(/invalid regular expression/);
			}
		}

		publish(port, 'app', input.map(l => l + '\n'));
		await until(() => all.lines().length === input.length, 'every line at the match-all subscriber');
		const expected = patterns.map((_, i) => go.results[i] ? input.filter((_, j) => go.results[i]![j]) : []);
		// Written in the same turns as the match-all subscriber's; wait until each has them all.
		await until(() => subs.every((s, i) => go.errors[i] !== '' || s.lines().length >= expected[i]!.length), 'every subscriber has its lines').catch(() => {
			throw new Error(subs.map((s, i) => `${patterns[i]}: got ${s.lines().length}, Go ${expected[i]!.length}`).join('\n'));
		});
		for (const [i, s] of subs.entries()) {
			if (go.errors[i] === '') {
				expect(s.lines(), patterns[i]).toEqual(expected[i]);
			}
		}
	});

	test('a ?log=.*foo.*bar subscription over 900 KB lines stalls nothing: publishers and other subscribers keep flowing', async () => {
		const {port, fanout} = await setup();
		const slow = subscribe(fanout.address.port, `log=${encodeURIComponent('.*foo.*bar')}`);
		const all = subscribe(fanout.address.port, 'app=app');
		await until(() => fanout.subscribers().length === 2, 'two subscribers');
		const long = 'x foo y '.repeat(115_000);
		publish(port, 'app', [long, 'first', long, long, 'foo then bar', long, 'last']);
		await until(() => all.lines().at(-1) === 'last', 'every line at the other subscriber', 30_000);
		await until(() => slow.lines().length === 1, 'the one match', 30_000);
		expect(slow.lines()).toEqual(['foo then bar']);
	});
});
