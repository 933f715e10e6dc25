import {describe, expect, it} from 'vitest';
import {eventually, request, serve, stop} from '../support/http.js';

// The buffer in memory is bounded in text as well as in events: without it, the default 50,000
// events of 1 MiB lines (--max-line) would be 50 GB. The slow-reader side of the same bound (the
// stdout queue) is in test/e2e/pipe.test.ts, a slow SSE client's in test/http/stream.test.ts. An
// answer of the API is bounded the same way.

describe('the buffer in memory', () => {
	it('holds at most 128 Mi characters of text: 300 lines of 1 MiB leave the newest 128, the rest evicted and counted', async () => {
		const s = await serve(['--no-history']);
		const mib = 'x'.repeat(1024 * 1024 - 16);
		for (let i = 0; i < 300; i++) {
			if (!s.child.stdin!.write(`${String(i).padStart(8, '0')} ${mib}\n`)) {
				await new Promise(resolve => s.child.stdin!.once('drain', resolve)); // eslint-disable-line no-await-in-loop
			}
		}

		const health = await eventually(async () => {
			const r = await request(`${s.base}/api/v1/health`);
			return r.json?.sources?.[0]?.events === 300 ? r.json : undefined;
		}, 'the 300 lines read', 60_000);
		const memory = health.memory as {events: number; capacity: number; evicted: number; chars: number; maxChars: number};
		expect(memory.capacity).toBe(50_000);
		expect(memory.maxChars).toBe(128 * 1024 * 1024);
		expect(memory.chars).toBeLessThanOrEqual(memory.maxChars);
		expect(memory.events).toBe(128);
		expect(memory.evicted).toBe(172);
		// What is held is the newest.
		const logs = await request(`${s.base}/api/v1/logs/events?limit=1`);
		expect((logs.json.events[0] as {message: string}).message.slice(0, 8)).toBe('00000299');
		// An answer holds at most 64 Mi characters of events: it ends early (65 lines of 1 MiB less
		// 7 characters), and `next` goes on from there.
		const page = await request(`${s.base}/api/v1/logs/events?limit=200`);
		const messages = (page.json.events as Array<{message: string}>).map(e => e.message.slice(0, 8));
		expect(messages).toEqual(Array.from({length: 65}, (_, i) => String(299 - i).padStart(8, '0')));
		expect(page.json.next).not.toBeNull();
		const after = await request(`${s.base}/api/v1/logs/events?limit=1&cursor=${page.json.next as string}`);
		expect((after.json.events[0] as {message: string}).message.slice(0, 8)).toBe('00000234');
		await stop(s);
	});
});
