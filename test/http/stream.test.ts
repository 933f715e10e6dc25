import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {eventually, jsonLine, openStream, request, serve, stop, type Served, type SseMessage} from '../support/http.js';

// GET /api/v1/stream over real HTTP: one SSE message per event, Last-Event-ID resume without a
// duplicate or a hole while events keep coming, a stalled client that is counted then dropped
// while another loses nothing, and the cap on clients.

const dirs: string[] = [];
function tempDir(prefix: string): string {
	const dir = mkdtempSync(path.join(tmpdir(), prefix));
	dirs.push(dir);
	return dir;
}

afterAll(() => {
	for (const d of dirs) {
		rmSync(d, {recursive: true, force: true});
	}
});

function config(http: Record<string, unknown>): string {
	const file = path.join(tempDir('logmon-http-config-'), 'config.json');
	writeFileSync(file, JSON.stringify({http}));
	return file;
}

const isEvent = (m: SseMessage): boolean => m.event === 'message';
const seqOf = (m: SseMessage): number => (JSON.parse(m.data) as {seq: number}).seq;

/** Write `count` numbered lines, `per` at a time, a turn of the event loop apart: a burst that goes on while the test acts. */
async function burst(s: Served, from: number, count: number, per = 50, pad = ''): Promise<void> {
	for (let i = from; i < from + count; i += per) {
		let chunk = '';
		for (let j = i; j < Math.min(from + count, i + per); j++) {
			chunk += jsonLine({level: j % 10 === 0 ? 'error' : 'info', message: `event ${j}${pad}`});
		}

		if (!s.child.stdin!.write(chunk)) {
			await new Promise(resolve => s.child.stdin!.once('drain', resolve));
		}

		await new Promise(resolve => setTimeout(resolve, 2));
	}
}

describe('the SSE stream', () => {
	it('sends each event as one message in the -o json shape, its id as the SSE id; filters apply', async () => {
		const s = await serve(['--no-history']);
		const all = await openStream(`${s.base}/api/v1/stream`);
		const errors = await openStream(`${s.base}/api/v1/stream?q=${encodeURIComponent('level>=error !ignored')}`);
		expect(all.status).toBe(200);
		expect(all.headers['content-type']).toBe('text/event-stream; charset=utf-8');
		s.child.stdin!.write(jsonLine({level: 'info', message: 'hello'}) + jsonLine({level: 'error', service: 'billing', message: 'card declined'}) + jsonLine({level: 'error', message: 'ignored'}));
		const got = await all.waitFor(isEvent, 3);
		const first = JSON.parse(got[0]!.data) as Record<string, unknown>;
		expect(first).toMatchObject({id: got[0]!.id, seq: 1, source: 'stdin', kind: 'stdin', service: 'web', host: 'h1', level: 'INFO', message: 'hello', record: {message: 'hello'}});
		expect(got[0]!.id).toMatch(/^\d+-1$/);
		const filtered = await errors.waitFor(isEvent, 1);
		expect(JSON.parse(filtered[0]!.data)).toMatchObject({seq: 2, message: 'card declined'});
		all.close();
		errors.close();
		await stop(s);
	});

	it('Last-Event-ID: a client that comes back gets what it missed, then live, each event once (memory)', async () => {
		const s = await serve(['--no-history']);
		const total = 4000;
		const first = await openStream(`${s.base}/api/v1/stream`);
		const feeding = burst(s, 0, total);
		await first.waitFor(isEvent, 300);
		first.close();
		const seen = first.messages.filter(isEvent);
		const last = seen.at(-1)!.id!;
		// Away for a while; the burst goes on.
		await eventually(async () => (await request(`${s.base}/api/v1/health`)).json.sources[0].events > seen.length + 500, 'events missed');
		const second = await openStream(`${s.base}/api/v1/stream`, {'Last-Event-ID': last});
		await feeding;
		const rest = await second.waitFor(isEvent, total - seen.length);
		const seqs = [...seen, ...rest].map(m => seqOf(m));
		expect(new Set(seqs).size).toBe(seqs.length);
		expect(seqs).toEqual(Array.from({length: total}, (_, i) => i + 1));
		expect(second.messages.filter(m => m.event === 'loss')).toEqual([]);
		second.close();
		await stop(s);
	});

	it('Last-Event-ID over long lines: what is missed goes at the socket\'s pace, not queued at once, each event once', async () => {
		const s = await serve(['--no-history']);
		const first = await openStream(`${s.base}/api/v1/stream`);
		await burst(s, 0, 1);
		const [one] = await first.waitFor(isEvent, 1);
		first.close();
		// 40 lines of 512 KiB missed: 20 Mi characters, more than a resume queues at once.
		await burst(s, 1, 40, 1, ` ${'x'.repeat(512 * 1024)}`);
		await eventually(async () => (await request(`${s.base}/api/v1/health`)).json.sources[0].events === 41, 'the lines read');
		const second = await openStream(`${s.base}/api/v1/stream`, {'Last-Event-ID': one!.id!});
		const rest = await second.waitFor(isEvent, 40);
		await burst(s, 41, 1);
		const live = await second.waitFor(isEvent, 41);
		expect([...rest, live.at(-1)!].map(m => seqOf(m))).toEqual(Array.from({length: 41}, (_, i) => i + 2));
		expect(second.messages.filter(m => m.event === 'loss')).toEqual([]);
		second.close();
		await stop(s);
	});

	it('Last-Event-ID from the history: what the buffer lost comes from disk, across a restart too', async () => {
		const dir = tempDir('logmon-http-stream-history-');
		const args = ['--history', '--history-dir', dir, '--buffer', '100'];
		const s1 = await serve(args);
		const c1 = await openStream(`${s1.base}/api/v1/stream`);
		await burst(s1, 0, 1000);
		await c1.waitFor(isEvent, 1000);
		const kept = c1.messages.filter(isEvent).slice(0, 200);
		c1.close();
		await eventually(async () => (await request(`${s1.base}/api/v1/health`)).json.history.written >= 1000, 'the history written');
		expect(await stop(s1)).toBe(0);

		const s2 = await serve(args);
		await burst(s2, 1000, 1000);
		await eventually(async () => (await request(`${s2.base}/api/v1/health`)).json.history.written >= 1000, 'the new events written');
		// Resume while a burst goes on: 800 from the first run, 1000 from this one (most no longer in the buffer), then live.
		const c2 = await openStream(`${s2.base}/api/v1/stream`, {'Last-Event-ID': kept.at(-1)!.id!});
		const feeding = burst(s2, 2000, 1000);
		await feeding;
		const rest = await c2.waitFor(isEvent, 2800);
		const messages = [...kept, ...rest].map(m => (JSON.parse(m.data) as {message: string}).message);
		expect(new Set(messages).size).toBe(messages.length);
		expect(messages).toEqual(Array.from({length: 3000}, (_, i) => `event ${i}`));
		c2.close();
		await stop(s2);
	});

	it('Last-Event-ID older than everything held, with nothing of this run gone from the buffer: sent at once, not a flush interval later', async () => {
		// The history flushes once a minute here: the resume waited for a flush before it sent anything,
		// so a client that came back from before the oldest event got nothing for a minute.
		const dir = tempDir('logmon-http-stream-early-');
		const file = path.join(dir, 'config.json');
		writeFileSync(file, JSON.stringify({history: {enabled: true, dir: path.join(dir, 'history'), flushMs: 60_000}}));
		const s = await serve(['--config', file]);
		s.child.stdin!.write(jsonLine({message: 'one'}) + jsonLine({message: 'two', level: 'error'}) + jsonLine({message: 'three'}));
		await eventually(async () => (await request(`${s.base}/api/v1/health`)).json.memory.events >= 3, 'the events held');
		const live = await openStream(`${s.base}/api/v1/stream?lastEventId=1-1`);
		const got = await live.waitFor(isEvent, 3, 20_000);
		expect(got.map(m => (JSON.parse(m.data) as {message: string}).message)).toEqual(['one', 'two', 'three']);
		live.close();
		await stop(s);
	});

	it('a client that falls behind loses events, counted, with a notice in its own stream where they were', async () => {
		const file = config({streamQueue: 500, streamStuckMs: 60_000});
		const s = await serve(['--no-history', '--config', file]);
		const slow = await openStream(`${s.base}/api/v1/stream`);
		slow.pause();
		const total = 12_000;
		await burst(s, 0, total, 50, ` ${'x'.repeat(2000)}`);
		const lost = await eventually(async () => {
			const r = await request(`${s.base}/api/v1/health`);
			return r.json.sources[0].events === total && r.json.http.streamLost > 0 ? r.json.http.streamLost as number : undefined;
		}, 'events lost');
		slow.resume();
		// Once it has caught up (the last notice is out), it gets new events again.
		await slow.waitFor(m => m.event === 'loss' && (JSON.parse(m.data) as {totalLost: number}).totalLost === lost);
		await burst(s, total, 10);
		await slow.waitFor(m => isEvent(m) && seqOf(m) === total + 10);
		// Each notice stands where its events went missing: the next event is that many further on.
		let expected = 1;
		let sumLost = 0;
		for (const m of slow.messages) {
			if (m.event === 'loss') {
				const n = JSON.parse(m.data) as {lost: number; totalLost: number; message: string};
				expect(n.message).toBe(`${n.lost} events were not sent: this client read more slowly than they came`);
				sumLost += n.lost;
				expect(n.totalLost).toBe(sumLost);
				expected += n.lost;
			} else {
				expect(seqOf(m)).toBe(expected);
				expected++;
			}
		}

		expect(sumLost).toBe(lost);
		expect(expected).toBe(total + 11);
		slow.close();
		await stop(s);
	});

	it('a client that falls behind on long lines loses events past 32 MiB queued, however few they are', async () => {
		// The queue's count (100,000) is never reached: 1,500 events of 64 KiB are about 96 MiB.
		const file = config({streamQueue: 100_000, streamStuckMs: 60_000});
		const s = await serve(['--no-history', '--config', file]);
		const slow = await openStream(`${s.base}/api/v1/stream`);
		slow.pause();
		const total = 1500;
		await burst(s, 0, total, 10, ` ${'x'.repeat(64 * 1024)}`);
		const lost = await eventually(async () => {
			const r = await request(`${s.base}/api/v1/health`);
			return r.json.sources[0].events === total && r.json.http.streamLost > 0 ? r.json.http.streamLost as number : undefined;
		}, 'events lost');
		expect(lost).toBeGreaterThan(500);
		slow.resume();
		await slow.waitFor(m => m.event === 'loss' && (JSON.parse(m.data) as {totalLost: number}).totalLost === lost);
		const got = slow.messages.filter(m => isEvent(m)).length;
		expect(got + lost).toBe(total);
		slow.close();
		await stop(s);
	});

	it('a stalled client is counted then dropped; another client loses nothing', async () => {
		const file = config({streamQueue: 2000, streamStuckMs: 500});
		const s = await serve(['--no-history', '--config', file]);
		const stalled = await openStream(`${s.base}/api/v1/stream`);
		stalled.pause();
		const healthy = await openStream(`${s.base}/api/v1/stream`);
		const total = 12_000;
		// Some 2 KiB per event: 24 MB, more than the stalled socket's buffers hold.
		await burst(s, 0, total, 50, ` ${'x'.repeat(2000)}`);
		const got = await healthy.waitFor(isEvent, total, 60_000);
		expect(got.map(m => seqOf(m))).toEqual(Array.from({length: total}, (_, i) => i + 1));
		expect(healthy.messages.filter(m => m.event === 'loss')).toEqual([]);
		const health = await eventually(async () => {
			const r = await request(`${s.base}/api/v1/health`);
			return r.json.http.streamDropped === 1 ? r.json : undefined;
		}, 'the stalled client dropped');
		expect(health.http.streamLost).toBeGreaterThan(0);
		expect(health.http.streamClients).toBe(1);
		stalled.close();
		expect(s.stderr()).toMatch(/http: stream client 127\.0\.0\.1 disconnected: it read nothing for 0\.5 s \(\d+ events lost\)/);
		healthy.close();
		await stop(s);
	});

	it('the number of clients is capped: one more gets a 503 that says so', async () => {
		const file = config({maxStreamClients: 2});
		const s = await serve(['--no-history', '--config', file]);
		const a = await openStream(`${s.base}/api/v1/stream`);
		const b = await openStream(`${s.base}/api/v1/stream`);
		const refused = await request(`${s.base}/api/v1/stream`);
		expect(refused.status).toBe(503);
		expect(refused.headers['retry-after']).toBe('10');
		expect(refused.json.error).toMatch(/^stream: 2 clients are connected already/);
		a.close();
		await eventually(async () => (await request(`${s.base}/api/v1/health`)).json.http.streamClients === 1, 'a client gone');
		const c = await openStream(`${s.base}/api/v1/stream`);
		expect(c.status).toBe(200);
		b.close();
		c.close();
		const bad = await request(`${s.base}/api/v1/stream`, {headers: {'Last-Event-ID': 'yesterday'}});
		expect(bad.status).toBe(400);
		expect(bad.json.parameter).toBe('Last-Event-ID');
		// A HEAD gets a GET's headers and ends: it holds no slot.
		const head = await request(`${s.base}/api/v1/stream`, {method: 'HEAD'});
		expect(head.status).toBe(200);
		expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
		expect((await request(`${s.base}/api/v1/health`)).json.http.streamClients).toBe(0);
		await stop(s);
	});

	it('no false loss: a client whose last event came right before the buffer\'s oldest, earlier, lost nothing (memory)', async () => {
		const s = await serve(['--no-history', '--buffer', '100']);
		const watcher = await openStream(`${s.base}/api/v1/stream`);
		await burst(s, 0, 50);
		await watcher.waitFor(isEvent, 50);
		// Received some milliseconds later than event 50: the buffer's oldest once 50 is evicted.
		await new Promise(resolve => setTimeout(resolve, 20));
		await burst(s, 50, 100);
		await watcher.waitFor(isEvent, 150);
		const ids = watcher.messages.filter(isEvent).map(m => m.id!);
		watcher.close();
		const fifty = ids[49]!;
		expect(Number(fifty.split('-')[0])).toBeLessThan(Number(ids[50]!.split('-')[0]));
		const back = await openStream(`${s.base}/api/v1/stream`, {'Last-Event-ID': fifty});
		const rest = await back.waitFor(isEvent, 100);
		expect(rest.map(m => seqOf(m))).toEqual(Array.from({length: 100}, (_, i) => i + 51));
		expect(back.messages.filter(m => m.event === 'loss')).toEqual([]);
		back.close();
		// The same seq from before this run started (logmon restarted since): a loss, said.
		const stale = await openStream(`${s.base}/api/v1/stream`, {'Last-Event-ID': '1000000000000-50'});
		await stale.waitFor(m => m.event === 'loss');
		stale.close();
		await stop(s);
	});
});
