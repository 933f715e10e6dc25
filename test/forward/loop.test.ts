import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {Bus} from '../../source/core/bus.js';
import {type EventInit, type LogEvent} from '../../source/core/event.js';
import {compileFilter, parseFilterExpression} from '../../source/core/filter.js';
import {DeadLetter} from '../../source/sinks/forward/dead-letter.js';
import {type BatchLimits, type Destination, type SendOutcome} from '../../source/sinks/forward/destination.js';
import {type Feed, MemoryFeed} from '../../source/sinks/forward/feed.js';
import {Forwarder} from '../../source/sinks/forward/forwarder.js';
import {openSpool} from '../../source/sinks/forward/spool.js';
import {AckMark, readAcked} from '../../source/sinks/forward/spool-acks.js';
import {until} from '../support/logmon.js';

// The delivery loop and the spool in-process, with a destination of the test's own that
// answers as scripted (the contract of sinks/forward/destination.ts), over a real bus.

type Reply = SendOutcome | 'hang';

class ScriptedDestination implements Destination {
	readonly kind = 'file' as const;
	readonly target = 'scripted';
	readonly batches: string[][] = [];
	readonly attempts: string[][] = [];
	replies: Reply[] = [];
	/** While set, every send gets this answer (after any scripted replies). */
	down: SendOutcome | undefined;
	partition: ((e: LogEvent) => string) | undefined;
	closed = false;

	constructor(readonly limits: BatchLimits) {}

	measure(event: LogEvent): number {
		return event.message.length;
	}

	async send(events: readonly LogEvent[]): Promise<SendOutcome> {
		const messages = events.map(e => e.message);
		this.attempts.push(messages);
		const reply = this.replies.shift() ?? this.down ?? {ok: true};
		if (reply === 'hang') {
			return new Promise(() => undefined);
		}

		if (reply.ok) {
			this.batches.push(messages);
		}

		return reply;
	}

	async close(): Promise<void> {
		this.closed = true;
	}

	get delivered(): string[] {
		return this.batches.flat();
	}
}

const dirs: string[] = [];
function tempDir(): string {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-forward-test-'));
	dirs.push(dir);
	return dir;
}

afterEach(() => {
	for (const dir of dirs.splice(0)) {
		rmSync(dir, {recursive: true, force: true});
	}
});

function lines(n: number, from = 0, over: Partial<EventInit> = {}): EventInit[] {
	return Array.from({length: n}, (_, i) => ({time: 1000 + i, receivedAt: 1000 + i, sourceId: 'test', sourceKind: 'stdin', service: 'api', host: 'h', proc: '', type: '', level: 'INFO', message: `m${from + i}`, raw: `m${from + i}`, ...over}));
}

type Setup = {bus: Bus; destination: ScriptedDestination; forwarder: Forwarder; deadLetter: DeadLetter; feed: Feed};

function setup(options: {limits?: Partial<BatchLimits>; feed?: Feed; filter?: string; maxAttempts?: number; timeoutMs?: number; capacity?: number; holdChars?: number} = {}): Setup {
	const bus = new Bus();
	const destination = new ScriptedDestination({maxEvents: 10, maxBytes: 1000, delayMs: 0, ...options.limits});
	const deadLetter = new DeadLetter(path.join(tempDir(), 'dead-letter.ndjson'), 'test');
	const feed = options.feed ?? new MemoryFeed(options.capacity ?? 1000);
	const forwarder = new Forwarder({
		name: 'test',
		destination,
		feed,
		filter: options.filter ? compileFilter(parseFilterExpression(options.filter)) : undefined,
		handle: bus.addSource('forward:test', 'forward'),
		deadLetter,
		retry: {initialMs: 10, maxMs: 20, maxAttempts: options.maxAttempts ?? 0},
		timeoutMs: options.timeoutMs ?? 30_000,
		holdMax: options.capacity ?? 1000,
		holdChars: options.holdChars,
		redact: text => bus.diagnostics.secrets.redact(text),
	});
	forwarder.start(bus);
	return {bus, destination, forwarder, deadLetter, feed};
}

describe('the delivery loop', () => {
	it('delivers every event once, in order, in batches within the limits; its filter and markers kept out', async () => {
		const {bus, destination, forwarder} = setup({filter: '!skip'});
		const source = bus.addSource('test', 'stdin');
		source.publish(lines(25));
		source.publish(lines(3, 0, {message: 'skip me'}));
		source.gap(0, 1);
		await until(() => destination.delivered.length === 25, '25 delivered');
		expect(destination.delivered).toEqual(Array.from({length: 25}, (_, i) => `m${i}`));
		expect(destination.batches.every(b => b.length <= 10)).toBe(true);
		expect(forwarder.counters()).toMatchObject({sent: 25, filtered: 3, dropped: 0, queued: 0});
		await forwarder.stop(1000);
		expect(destination.closed).toBe(true);
	});

	it('retries a batch on a retryable failure, waiting what the peer asked, and shows why', async () => {
		const {bus, destination, forwarder} = setup();
		destination.replies = [{ok: false, retry: true, reason: 'HTTP 429 slow down', retryAfterMs: 300}];
		bus.addSource('test', 'stdin').publish(lines(3));
		const handle = bus.source('forward:test')!;
		await until(() => handle.health.state === 'retrying', 'retrying');
		expect(handle.health.reason).toBe('HTTP 429 slow down');
		expect(handle.health.retryAt! - Date.now()).toBeGreaterThan(100); // the peer's 300 ms, not the 10 ms backoff
		await until(() => destination.delivered.length === 3, 'delivered after the retry');
		expect(destination.attempts).toEqual([['m0', 'm1', 'm2'], ['m0', 'm1', 'm2']]);
		expect(handle.health.state).toBe('live');
		expect(forwarder.counters().failedAttempts).toBe(1);
		await forwarder.stop(1000);
	});

	it('a Retry-After of years (past what a timer holds) waits an hour, not a millisecond', async () => {
		const {bus, destination, forwarder} = setup();
		destination.replies = [{ok: false, retry: true, reason: 'HTTP 429 come back in 3 years', retryAfterMs: 99_999_999_999}];
		bus.addSource('test', 'stdin').publish(lines(2));
		const handle = bus.source('forward:test')!;
		await until(() => handle.health.state === 'retrying', 'retrying');
		const wait = handle.health.retryAt! - Date.now();
		expect(wait).toBeGreaterThan(3_500_000);
		expect(wait).toBeLessThanOrEqual(3_600_000);
		// A timer past 2^31 ms would run at once, again and again.
		await new Promise(resolve => setTimeout(resolve, 300));
		expect(destination.attempts).toHaveLength(1);
		await forwarder.stop(100);
	});

	it('sets a refused batch aside in the dead-letter file with the reason, and goes on with the rest', async () => {
		const {bus, destination, forwarder, deadLetter} = setup({limits: {maxEvents: 2}});
		destination.replies = [{ok: false, retry: false, reason: 'HTTP 400 mapper_parsing_exception'}];
		bus.addSource('test', 'stdin').publish(lines(5));
		await until(() => destination.delivered.length === 3, 'the rest delivered');
		expect(destination.delivered).toEqual(['m2', 'm3', 'm4']);
		await forwarder.stop(1000);
		const dead = readFileSync(deadLetter.file, 'utf8').trim().split('\n').map(l => JSON.parse(l) as {reason: string; forwarder: string; event: {message: string}});
		expect(dead.map(d => d.event.message)).toEqual(['m0', 'm1']);
		expect(dead[0]).toMatchObject({reason: 'HTTP 400 mapper_parsing_exception', forwarder: 'test'});
		expect(forwarder.counters()).toMatchObject({deadLettered: 2, sent: 3});
	});

	it('half a line left in the dead-letter file by a logmon killed mid-write stays a line of its own', async () => {
		const {bus, destination, forwarder, deadLetter} = setup();
		writeFileSync(deadLetter.file, '{"at":"2026-12-05T00:00:00.000Z","forwarder":"test","reason":"HTTP 400","event":{"mess');
		destination.replies = [{ok: false, retry: false, reason: 'HTTP 400'}];
		bus.addSource('test', 'stdin').publish(lines(1));
		await until(() => forwarder.counters().deadLettered === 1, 'dead-lettered');
		await forwarder.stop(1000);
		const written = readFileSync(deadLetter.file, 'utf8').split('\n');
		expect(written).toHaveLength(3);
		expect((JSON.parse(written[1]!) as {event: {message: string}}).event.message).toBe('m0');
	});

	it('gives up after maxAttempts when asked to, into the dead-letter file', async () => {
		const {bus, destination, forwarder, deadLetter} = setup({maxAttempts: 2});
		destination.replies = [{ok: false, retry: true, reason: 'HTTP 503'}, {ok: false, retry: true, reason: 'HTTP 503'}];
		bus.addSource('test', 'stdin').publish(lines(1));
		await until(() => forwarder.counters().deadLettered === 1, 'dead-lettered');
		await forwarder.stop(1000);
		expect(readFileSync(deadLetter.file, 'utf8')).toContain('gave up after 2 attempts: HTTP 503');
	});

	it('a send that never settles counts as a failed attempt after the timeout, and is tried again', async () => {
		const {bus, destination, forwarder} = setup({timeoutMs: 50});
		destination.replies = ['hang'];
		bus.addSource('test', 'stdin').publish(lines(2));
		await until(() => destination.delivered.length === 2, 'delivered after the hang');
		expect(forwarder.lastError).toMatch(/no answer/);
		await forwarder.stop(1000);
	});

	it('one batch in flight per partition: a stuck partition does not hold the others', async () => {
		const {bus, destination, forwarder} = setup({timeoutMs: 60_000});
		destination.partition = e => e.service;
		destination.replies = ['hang'];
		const source = bus.addSource('test', 'stdin');
		source.publish(lines(1, 0, {service: 'stuck'}));
		await until(() => destination.attempts.length === 1, 'the stuck batch sent');
		source.publish(lines(30, 100, {service: 'fine'}));
		await until(() => destination.delivered.length === 30, 'the other partition delivered');
		expect(forwarder.counters().queued).toBe(1);
		await forwarder.stop(50);
		expect(forwarder.unsent).toBe(1);
	});

	it('its batches hold 64 Mi characters at most: past that, long lines wait in the feed (or are dropped by it), not in batches', async () => {
		const {bus, destination, forwarder} = setup({timeoutMs: 60_000});
		destination.down = {ok: false, retry: true, reason: 'HTTP 503'};
		const source = bus.addSource('test', 'stdin');
		const line = 'x'.repeat(1024 * 1024); // one string: the test itself holds 1 MiB, the forwarder counts 200
		let most = 0;
		for (let i = 0; i < 20; i++) {
			source.publish(lines(10, i * 10, {raw: line}));
			most = Math.max(most, forwarder.counters().batchChars);
		}

		await until(() => destination.attempts.length >= 3, 'retrying');
		const c = forwarder.counters();
		const eventChars = line.length + 'm199'.length;
		// Batches (in flight included) and the memory feed each hold 64 Mi characters at most; the rest was dropped.
		expect(c.queued + c.dropped).toBe(200);
		expect(c.queued).toBeLessThanOrEqual(2 * 64);
		expect(most).toBeLessThanOrEqual(64 * 1024 * 1024);
		expect(most).toBeGreaterThan(64 * 1024 * 1024 - 10 * eventChars);
		expect(source.health.paused).toBe(false);

		destination.down = undefined;
		await until(() => destination.delivered.length === c.queued, 'what was held delivered');
		// Each once and in order; the ones dropped were the newest.
		expect(destination.delivered).toEqual(Array.from({length: c.queued}, (_, i) => `m${i}`));
		expect(forwarder.counters()).toMatchObject({queued: 0, batchChars: 0, sent: c.queued});
		await forwarder.stop(1000);
	});

	it('one event longer than the text bound still goes, alone', async () => {
		const bus = new Bus();
		const destination = new ScriptedDestination({maxEvents: 10, maxBytes: 1000, delayMs: 0});
		const forwarder = new Forwarder({
			name: 'test',
			destination,
			feed: new MemoryFeed(1000, 1000),
			filter: undefined,
			handle: bus.addSource('forward:test', 'forward'),
			deadLetter: new DeadLetter(path.join(tempDir(), 'dead-letter.ndjson'), 'test'),
			retry: {initialMs: 10, maxMs: 20, maxAttempts: 0},
			timeoutMs: 30_000,
			holdMax: 1000,
			holdChars: 100,
			redact: text => text,
		});
		forwarder.start(bus);
		const source = bus.addSource('test', 'stdin');
		source.publish(lines(1, 0, {raw: 'y'.repeat(900)}));
		source.publish(lines(4, 1, {raw: 'z'.repeat(40)}));
		await until(() => destination.delivered.length === 5, 'all five delivered');
		expect(destination.delivered).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
		// The long one went alone; the short ones in batches of at most 100 characters (two of 40 and their m1, m2).
		expect(destination.batches.map(b => b.length)).toEqual([1, 2, 2]);
		expect(forwarder.counters().batchChars).toBe(0);
		await forwarder.stop(1000);
	});

	it('a full memory queue drops new events and counts them; the bus never waits', async () => {
		const {bus, destination, forwarder} = setup({capacity: 100, timeoutMs: 60_000});
		destination.replies = ['hang'];
		const source = bus.addSource('test', 'stdin');
		source.publish(lines(1000));
		const c = forwarder.counters();
		// Held: one batch in flight, 100 in batches, 100 in the queue; the rest dropped, all accounted for.
		expect(c.queued + c.dropped).toBe(1000);
		expect(c.dropped).toBeGreaterThan(700);
		expect(source.health.paused).toBe(false);
		await forwarder.stop(10);
	});
});

describe('the disk spool', () => {
	it('keeps what the destination did not take across a restart, and sends it first', async () => {
		const dir = tempDir();
		const log = (): void => undefined;
		const first = setup({feed: await openSpool(dir, {capacity: 50, maxBytes: 1024 ** 2, log}), capacity: 50, timeoutMs: 60_000});
		first.destination.replies = ['hang'];
		first.bus.addSource('test', 'stdin').publish(lines(500));
		await until(() => first.feed.counters().spooled === 500 && readdirSync(dir).some(f => f.endsWith('.spool')), '500 spooled');
		expect(first.forwarder.counters().dropped).toBe(0);
		await first.forwarder.stop(10);

		const second = setup({feed: await openSpool(dir, {capacity: 50, maxBytes: 1024 ** 2, log}), capacity: 50});
		second.bus.addSource('test', 'stdin').publish(lines(10, 500));
		await until(() => second.destination.delivered.length === 510, 'all 510 delivered');
		expect(second.destination.delivered).toEqual(Array.from({length: 510}, (_, i) => `m${i}`));
		await until(() => second.feed.counters().spooled === 0, 'spool emptied');
		await second.forwarder.stop(1000);
		expect(readdirSync(dir).filter(f => f.endsWith('.spool'))).toEqual([]);
	});

	it('sends again after a restart only what was not acknowledged: the batch in flight, not the whole segment', async () => {
		const dir = tempDir();
		const logs: string[] = [];
		const log = (_level: string, text: string): void => {
			logs.push(text);
		};

		const first = setup({feed: await openSpool(dir, {capacity: 50, maxBytes: 1024 ** 2, segmentBytes: 1024 ** 2, log}), capacity: 50, timeoutMs: 60_000});
		// Twenty batches of ten taken, the twenty-first held with no answer.
		first.destination.replies = [...Array.from({length: 20}, () => ({ok: true as const})), 'hang'];
		first.bus.addSource('test', 'stdin').publish(lines(500));
		await until(() => first.destination.delivered.length === 200 && first.destination.attempts.length === 21, '200 delivered, a batch in flight');
		await until(() => readdirSync(dir).some(f => f.endsWith('.spool.acked')) && readAcked(path.join(dir, readdirSync(dir).find(f => f.endsWith('.spool'))!)) === 200, 'the count kept');
		await first.forwarder.stop(10);
		expect(readdirSync(dir).filter(f => f.endsWith('.spool'))).toHaveLength(1);

		const second = setup({feed: await openSpool(dir, {capacity: 50, maxBytes: 1024 ** 2, log}), capacity: 50});
		expect(logs.join('\n')).toMatch(/300 events from an earlier run to send again \(200 acknowledged before are not\)/);
		await until(() => second.destination.delivered.length === 300, 'the other 300 delivered');
		expect(second.destination.delivered).toEqual(Array.from({length: 300}, (_, i) => `m${200 + i}`));
		await until(() => second.feed.counters().spooled === 0, 'spool emptied');
		await second.forwarder.stop(1000);
		expect(readdirSync(dir).filter(f => f.includes('.spool'))).toEqual([]);
	});

	it('counts acknowledgements that come out of order only over a run with no gap; a stale or wrong count skips nothing', async () => {
		const dir = tempDir();
		const segment = path.join(dir, '000000000003.spool');
		const mark = new AckMark(segment);
		mark.ack(1);
		mark.ack(2);
		expect(mark.count).toBe(0);
		mark.ack(0);
		expect(mark.count).toBe(3);
		mark.ack(2);
		mark.save();
		mark.close();
		expect(readAcked(segment)).toBe(3);

		// A count with no segment (a crash between the two removals) goes at start; a count past
		// the records of its segment skips nothing.
		const good = (m: string): string => JSON.stringify({time: 1, message: m, level: 'INFO'}) + '\n';
		writeFileSync(path.join(dir, '000000000001.spool'), good('a') + good('b'));
		writeFileSync(path.join(dir, '000000000001.spool.acked'), '000000000000009\n');
		const feed = await openSpool(dir, {capacity: 50, maxBytes: 1024 ** 2, log() {/* nothing */}});
		expect(readdirSync(dir).filter(f => f.includes('.spool')).sort()).toEqual(['000000000001.spool', '000000000001.spool.acked']);
		const {destination, forwarder} = setup({feed});
		await until(() => destination.delivered.length === 2, 'both delivered');
		expect(destination.delivered).toEqual(['a', 'b']);
		await forwarder.stop(1000);
	});

	it('cuts a torn last record on start and counts it; damaged lines are skipped and counted', async () => {
		const dir = tempDir();
		const good = (m: string): string => JSON.stringify({time: 1, message: m, level: 'INFO'}) + '\n';
		writeFileSync(path.join(dir, '000000000001.spool'), good('a') + 'not json\n' + good('b'));
		writeFileSync(path.join(dir, '000000000002.spool'), good('c') + '{"time":1,"mess');
		const logs: string[] = [];
		const feed = await openSpool(dir, {capacity: 50, maxBytes: 1024 ** 2, log: (_level, text) => logs.push(text)});
		expect(logs.join('\n')).toMatch(/4 events from an earlier run to send again; 1 torn record cut/);
		const {destination, forwarder} = setup({feed});
		await until(() => destination.delivered.length === 3, 'three delivered');
		expect(destination.delivered).toEqual(['a', 'b', 'c']);
		expect(forwarder.counters().damaged).toBe(2);
		await forwarder.stop(1000);
	});

	it('past its cap drops the oldest segment and counts what was in it', async () => {
		const dir = tempDir();
		const warnings: string[] = [];
		const feed = await openSpool(dir, {capacity: 10, maxBytes: 40_000, segmentBytes: 10_000, log: (_level, text) => warnings.push(text)});
		const {bus, destination, forwarder} = setup({feed, capacity: 10, timeoutMs: 60_000});
		destination.replies = ['hang'];
		bus.addSource('test', 'stdin').publish(lines(2000, 0, {message: 'x'.repeat(100)}));
		await until(() => feed.counters().spoolBytes <= 40_000 && feed.counters().dropped > 0, 'drops');
		const c = forwarder.counters();
		// Each warning names what it dropped, never "the oldest 0"; together they make the count.
		const counts = warnings.map(w => Number(/past its cap .*: the oldest ([1-9]\d*) spooled events? (?:was|were) dropped/.exec(w)?.[1]));
		expect(counts.length).toBeGreaterThan(0);
		expect(counts.every(n => n > 0)).toBe(true);
		expect(counts.reduce((a, b) => a + b, 0)).toBe(c.dropped);
		expect(c.spoolBytes).toBeLessThanOrEqual(40_000);
		// What stays plus what went adds up to what came, but for the events of dropped segments
		// already read into memory (the batch in flight, the queue: 10 + 10 at most), still to be sent.
		expect(c.spooled + c.dropped).toBeLessThanOrEqual(2000);
		expect(c.spooled + c.dropped).toBeGreaterThanOrEqual(2000 - 20);
		await forwarder.stop(10);
	});

	it('holds its text bound in memory at most: long lines past it wait on disk, and all go, in order, once the destination is back', async () => {
		// The bounds of 64 Mi characters scaled down 16 times, with lines of 64 KiB rather than 1 MiB.
		const bound = 4 * 1024 * 1024;
		const dir = tempDir();
		const feed = await openSpool(dir, {capacity: 1000, maxChars: bound, maxBytes: 1024 ** 3, log() {/* nothing */}});
		const {bus, destination, forwarder} = setup({feed, holdChars: bound, timeoutMs: 60_000});
		destination.down = {ok: false, retry: true, reason: 'HTTP 503'};
		const source = bus.addSource('test', 'stdin');
		const line = 'x'.repeat(64 * 1024);
		let most = {queued: 0, feedChars: 0, batchChars: 0};
		const sample = (): void => {
			const c = forwarder.counters();
			most = {queued: Math.max(most.queued, feed.counters().queued), feedChars: Math.max(most.feedChars, c.feedChars), batchChars: Math.max(most.batchChars, c.batchChars)};
		};

		const onDisk = (): number => readdirSync(dir).filter(f => f.endsWith('.spool')).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
		const sampler = setInterval(sample, 2);
		for (let i = 0; i < 20; i++) {
			source.publish(lines(10, i * 10, {raw: line}));
			sample();
			await until(() => onDisk() === feed.counters().spoolBytes, 'written');
		}

		await until(() => destination.attempts.length >= 3, 'the first batch retried');
		sample();
		const c = forwarder.counters();
		const eventChars = line.length + 'm199'.length;
		// 64 events in the batches, as many in the spool's memory; the rest on disk only.
		expect(most.queued).toBeLessThanOrEqual(64);
		expect(most.feedChars).toBeLessThanOrEqual(bound);
		expect(most.feedChars).toBeGreaterThan(bound - 2 * eventChars);
		expect(most.batchChars).toBeLessThanOrEqual(bound);
		expect(c.queued).toBeLessThan(200);
		expect(c.spooled).toBe(200);
		expect(c.dropped).toBe(0);

		destination.down = undefined;
		await until(() => destination.delivered.length >= 200 && feed.counters().spooled === 0, 'all 200 delivered');
		clearInterval(sampler);
		sample();
		// Read back from disk as room freed up: the bounds held all along, and nothing went twice.
		expect(most.queued).toBeLessThanOrEqual(64);
		expect(most.feedChars).toBeLessThanOrEqual(bound);
		expect(most.batchChars).toBeLessThanOrEqual(bound);
		expect(destination.delivered).toEqual(Array.from({length: 200}, (_, i) => `m${i}`));
		expect(forwarder.counters()).toMatchObject({queued: 0, feedChars: 0, batchChars: 0, sent: 200, dropped: 0});
		await forwarder.stop(1000);
		expect(readdirSync(dir).filter(f => f.endsWith('.spool'))).toEqual([]);
	});

	it('creates its directory 0700 and its files 0600', async () => {
		const dir = path.join(tempDir(), 'spool', 'x');
		const feed = await openSpool(dir, {capacity: 10, maxBytes: 1024 ** 2, log() {/* nothing */}});
		const {bus, forwarder} = setup({feed, timeoutMs: 60_000});
		bus.addSource('test', 'stdin').publish(lines(3));
		await until(() => readdirSync(dir).some(f => f.endsWith('.spool')), 'a segment');
		expect(statSync(dir).mode & 0o777).toBe(0o700);
		for (const f of readdirSync(dir)) {
			expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
		}

		await forwarder.stop(1000);
	});
});
