import {execFileSync, type ChildProcess} from 'node:child_process';
import {closeSync, constants, openSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {gunzipSync} from 'node:zlib';
import {afterAll, describe, expect, it, onTestFinished} from 'vitest';
import {collect, run, start, waitFor} from '../support/logmon.js';

// The file destination and the delivery loop through the built binary: rotation by size and
// time, an external mv while writing, a full disk, a destination that hangs, and the spool
// across kill -9. Events are stdin lines; counts, never times, tell what happened.

const root = mkdtempSync(path.join(tmpdir(), 'logmon-forward-file-'));
afterAll(() => {
	rmSync(root, {recursive: true, force: true});
});

let n = 0;
function dir(): string {
	const d = path.join(root, `t${++n}`);
	mkdirSync(d);
	return d;
}

function numbered(count: number, from = 0): string {
	return Array.from({length: count}, (_, i) => `event ${String(from + i).padStart(6, '0')}\n`).join('');
}

/** Every line of the file and its rotated siblings (gunzipped), oldest file first. */
function allLines(file: string): string[] {
	const base = path.basename(file);
	const rotated = readdirSync(path.dirname(file))
		.filter(f => f.startsWith(base + '.'))
		.map(f => ({f, n: Number(f.slice(base.length + 1).replace(/\.gz$/, ''))}))
		.filter(r => Number.isInteger(r.n))
		.sort((a, b) => b.n - a.n)
		.map(r => r.f);
	const read = (f: string): string => {
		const data = readFileSync(path.join(path.dirname(file), f));
		return (f.endsWith('.gz') ? gunzipSync(data) : data).toString('utf8');
	};

	return [...rotated.map(read), existsSync(file) ? read(base) : ''].join('').split('\n').filter(Boolean);
}

function lineCount(file: string): number {
	return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

async function poll<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await check();
		if (v) {
			return v;
		}

		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 50));
	}
}

type Health = {forward: Array<Record<string, unknown> & {name: string; state: string; reason?: string}>; sources: Array<{id: string; events: number}>};

/** `logmon serve --stdin --http 127.0.0.1:0 …`, its API's address once it serves. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{child: ChildProcess; url: string; stderr: () => string}> {
	const child = start(['serve', '--stdin', '--no-history', '--http', '127.0.0.1:0', ...args], {env});
	let err = '';
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		err += d;
	});
	const seen = await waitFor(child.stderr!, /serving (http:\/\/[\d.:]+)\/api\/v1\//);
	const url = /serving (http:\/\/[\d.:]+)\/api\/v1\//.exec(seen)![1]!;
	return {child, url, stderr: () => err};
}

async function health(url: string): Promise<Health> {
	const response = await fetch(`${url}/api/v1/health`);
	return await response.json() as Health;
}

function config(d: string, body: unknown): string {
	const file = path.join(d, 'config.json');
	writeFileSync(file, JSON.stringify(body));
	return file;
}

describe('file destination', () => {
	it('rotates by size, cutting between lines, keeps `keep` gzipped files, and loses nothing in a clean run', async () => {
		const d = dir();
		const out = path.join(d, 'out.txt');
		const r = await run(['--no-ui', '--forward', `file://${out}?format=raw&maxSize=20KB&keep=100&gzip=true`], {input: numbered(5000)});
		expect(r.code).toBe(0);
		expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(5000);
		const files = readdirSync(d).filter(f => f.startsWith('out.txt.'));
		expect(files.length).toBeGreaterThanOrEqual(3);
		expect(files.every(f => f.endsWith('.gz'))).toBe(true);
		for (const f of [...files.map(f => gunzipSync(readFileSync(path.join(d, f)))), readFileSync(out)]) {
			expect(f.length).toBeLessThanOrEqual(20_000);
			expect(f.at(-1)).toBe(0x0A); // whole lines only
		}

		expect(allLines(out)).toEqual(numbered(5000).trim().split('\n'));

		// keep=2: the oldest go.
		const d2 = dir();
		const out2 = path.join(d2, 'out.ndjson');
		await run(['--no-ui', '--forward', `file://${out2}?maxSize=20KB&keep=2`], {input: numbered(3000)});
		expect(readdirSync(d2).sort()).toEqual(['out.ndjson', 'out.ndjson.1', 'out.ndjson.2']);
		const kept = allLines(out2).map(l => (JSON.parse(l) as {message: string}).message);
		expect(kept.at(-1)).toBe('event 002999');
		expect(kept.length).toBeLessThan(3000);
	});

	it('rotates by time', async () => {
		const d = dir();
		const out = path.join(d, 'out.ndjson');
		const child = start(['--no-ui', '--forward', `file://${out}?rotateEvery=1s&keep=50`]);
		const done = collect(child);
		let sent = 0;
		await poll(async () => {
			child.stdin!.write(numbered(10, sent));
			sent += 10;
			await new Promise(resolve => setTimeout(resolve, 100));
			return existsSync(`${out}.2`);
		}, 'two rotations');
		child.stdin!.end();
		const r = await done;
		expect(r.code).toBe(0);
		const messages = allLines(out).map(l => (JSON.parse(l) as {message: string}).message);
		expect(messages).toEqual(numbered(sent).trim().split('\n'));
	});

	it('an external mv while writing (logrotate): the rest goes to a new file, nothing lost', async () => {
		const d = dir();
		const out = path.join(d, 'out.ndjson');
		const {child, url} = await serve(['--forward', `file://${out}`]);
		child.stdin!.write(numbered(1000));
		await poll(() => lineCount(out) === 1000, '1000 lines written');
		renameSync(out, `${out}.moved`);
		let sent = 1000;
		// Lines written before logmon notices (it checks every second) still land in the moved file.
		await poll(async () => {
			child.stdin!.write(numbered(100, sent));
			sent += 100;
			await new Promise(resolve => setTimeout(resolve, 100));
			return existsSync(out);
		}, 'a new file');
		await poll(async () => (await health(url)).forward[0]!['sent'] === sent, 'all sent');
		const h = await health(url);
		expect((h.forward[0]!['destinationDetails'] as Record<string, number>)['reopened']).toBe(1);
		child.kill('SIGTERM');
		await collect(child);
		const both = [...readFileSync(`${out}.moved`, 'utf8').split('\n'), ...readFileSync(out, 'utf8').split('\n')].filter(Boolean);
		expect(both.map(l => (JSON.parse(l) as {message: string}).message)).toEqual(numbered(sent).trim().split('\n'));
		expect(lineCount(out)).toBeGreaterThan(0);
	});

	it('a full disk is a retryable failure shown in health and on stderr; logmon keeps running and catches up once there is room', async () => {
		const d = dir();
		const mount = path.join(d, 'tiny');
		mkdirSync(mount);
		// As root: a 256 KiB tmpfs, filled to the brim. Otherwise /dev/full, whose writes all fail with ENOSPC.
		let out = '/dev/full';
		let filler: string | undefined;
		try {
			execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount], {stdio: 'ignore'});
			out = path.join(mount, 'out.ndjson');
			filler = path.join(mount, 'filler');
			writeFileSync(filler, Buffer.alloc(250 * 1024));
		} catch {
			// not root: /dev/full
		}

		try {
			const {child, url, stderr} = await serve(['--config', config(d, {forward: [{type: 'file', path: out, name: 'tiny', retry: {maxDelay: '300ms'}}]})]);
			child.stdin!.write(numbered(200));
			const failing = await poll(async () => {
				const h = await health(url);
				return h.forward[0]!.state === 'retrying' ? h : undefined;
			}, 'retrying');
			expect(failing.forward[0]!.reason).toMatch(/disk full \(ENOSPC\)/);
			expect(stderr()).toMatch(/logmon: forward:tiny: retrying in \d+ s \(.*disk full \(ENOSPC\)\)/);
			// Still reading: more events come in and are counted.
			child.stdin!.write(numbered(100, 200));
			await poll(async () => (await health(url)).sources.find(s => s.id === 'stdin')?.events === 300, 'all 300 read');
			if (filler) {
				rmSync(filler);
				await poll(async () => (await health(url)).forward[0]!['sent'] === 300, 'all 300 sent once there is room');
				expect((await health(url)).forward[0]!.state).toBe('live');
				// A failed write is cut back: every event once, whole lines.
				expect(allLines(out).map(l => (JSON.parse(l) as {message: string}).message)).toEqual(numbered(300).trim().split('\n'));
			}

			child.kill('SIGTERM');
			const r = await collect(child);
			expect(r.code).toBe(0);
		} finally {
			if (filler !== undefined) {
				execFileSync('umount', ['-l', mount], {stdio: 'ignore'});
			}
		}
	});

	it('half a line left at the end by a writer killed mid-write is cut on open, so every line stays whole', async () => {
		// The kernel stops a large write between pages on kill -9; the batch was never acknowledged
		// and goes again, so the half line is cut rather than glued to the next event.
		const d = dir();
		const out = path.join(d, 'out.ndjson');
		const whole = '{"message":"event 000000"}\n';
		writeFileSync(out, whole + '{"message":"event 0000' + 'x'.repeat(70_000)); // past one 64 KiB read back
		const r = await run(['--no-ui', '-o', 'raw', '--forward', `file://${out}`], {input: numbered(3, 1)});
		expect(r.code).toBe(0);
		expect(r.stderr).toMatch(/ended in half a line \(70022 bytes, from a write cut short\); cut/);
		const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
		expect(lines.map(l => (JSON.parse(l) as {message: string}).message)).toEqual(['event 000000', 'event 000001', 'event 000002', 'event 000003']);

		// A file that is all one half line is emptied; one that ends whole is left as it is.
		writeFileSync(out, 'no newline at all');
		expect((await run(['--no-ui', '-o', 'raw', '--forward', `file://${out}?format=raw`], {input: 'next\n'})).code).toBe(0);
		expect(readFileSync(out, 'utf8')).toBe('next\n');
		expect((await run(['--no-ui', '-o', 'raw', '--forward', `file://${out}?format=raw`], {input: 'again\n'})).stderr).not.toMatch(/half a line/);
		expect(readFileSync(out, 'utf8')).toBe('next\nagain\n');
	});

	it('a forwarder whose destination stalls slows neither the pipe nor another forwarder', async () => {
		const d = dir();
		// A FIFO whose reader never reads: it takes 64 KiB, then nothing, ever.
		const fifo = path.join(d, 'never-read');
		execFileSync('mkfifo', [fifo]);
		const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
		onTestFinished(() => {
			closeSync(reader);
		});
		const other = path.join(d, 'other.ndjson');
		const count = 20_000;
		const r = await run(['--no-ui', '-o', 'raw', '--config', config(d, {forward: [
			{type: 'file', name: 'hung', path: fifo, queue: 5000},
			{type: 'file', name: 'other', path: other},
		]})], {input: numbered(count)});
		expect(r.code).toBe(0);
		expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(count);
		expect(lineCount(other)).toBe(count);
		// The hung one held what its bounds allow and counted the rest as dropped.
		const summary = /logmon: forward hung: 0 sent, (?:(\d+) dropped, )?(\d+) unsent at exit/.exec(r.stderr);
		expect(summary, r.stderr).not.toBeNull();
		expect(Number(summary![1] ?? 0) + Number(summary![2])).toBe(count);
		expect(Number(summary![1])).toBeGreaterThan(0);
	});
});

describe('the spool', () => {
	it('100,000 events while the destination is down survive kill -9, and another kill -9 mid-delivery: every one delivered at least once', async () => {
		const d = dir();
		const state = path.join(d, 'state');
		const blocker = path.join(d, 'blocked');
		// The destination's directory is a file for now: every write fails (EEXIST/ENOTDIR), retryably, even as root.
		writeFileSync(blocker, '');
		const out = path.join(blocker, 'out.ndjson');
		const file = config(d, {forward: [{type: 'file', name: 'archive', path: out, spool: true, retry: {maxDelay: '500ms'}}]});
		const count = 100_000;
		const first = await serve(['--config', file], {XDG_STATE_HOME: state});
		first.child.stdin!.write(numbered(count));
		await poll(async () => (await health(first.url)).forward[0]!['spooled'] === count, `${count} spooled`, 60_000);
		const spoolDir = path.join(state, 'logmon', 'spool', 'archive');
		expect(statSync(spoolDir).mode & 0o777).toBe(0o700);
		expect((await health(first.url)).forward[0]!.state).toBe('retrying');
		// Wait until the disk has them all, then kill -9.
		await poll(() => readdirSync(spoolDir).filter(f => f.endsWith('.spool')).reduce((sum, f) => sum + lineCount(path.join(spoolDir, f)), 0) === count, 'all on disk', 60_000);
		first.child.kill('SIGKILL');
		await collect(first.child);

		rmSync(blocker);
		// Back, and killed again mid-delivery: what was acknowledged is not lost, what was not goes again.
		const second = await serve(['--config', file], {XDG_STATE_HOME: state});
		await poll(async () => Number((await health(second.url)).forward[0]!['sent']) > 0, 'delivery under way', 60_000);
		second.child.kill('SIGKILL');
		await collect(second.child);
		const third = await serve(['--config', file], {XDG_STATE_HOME: state});
		await poll(async () => {
			const f = (await health(third.url)).forward[0]!;
			return f['spooled'] === 0 && f['queued'] === 0;
		}, 'all delivered', 60_000);
		third.child.kill('SIGTERM');
		expect((await collect(third.child)).code).toBe(0);
		const messages = allLines(out).map(l => (JSON.parse(l) as {message: string}).message);
		const distinct = new Set(messages);
		expect(distinct.size).toBe(count); // none lost
		const duplicates = messages.length - distinct.size;
		console.log(`spool across two kill -9: ${count} events, ${messages.length} delivered, ${duplicates} duplicates`);
		// Each segment keeps how many of its first events were acknowledged (spool-acks.ts): only the
		// batch in flight at the kill goes again (a file destination's batch: 10,000 events at most),
		// not the rest of the segment (a 4 MiB segment holds some 22,000 of these events).
		expect(duplicates).toBeLessThanOrEqual(10_000);
		expect(readdirSync(spoolDir).filter(f => f.endsWith('.spool'))).toEqual([]);
	});
});
