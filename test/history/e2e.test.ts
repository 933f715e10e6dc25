import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {hostname, tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, test} from 'vitest';
import {openHistory} from '../../source/history/open.js';
import {type LogEvent} from '../../source/core/event.js';
import {bin, start, until, waitFor} from '../support/logmon.js';

// The history through the built logmon: real processes, real files, a real logio publisher.
// The seal runs in the worker thread here (the built seal-worker.js).

let dir: string;
const children: ChildProcess[] = [];
const sockets: net.Socket[] = [];

beforeEach(() => {
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-history-e2e-'));
});

afterEach(() => {
	for (const s of sockets.splice(0)) {
		s.destroy();
	}

	for (const c of children.splice(0)) {
		c.kill('SIGKILL');
	}

	try {
		execFileSync('chattr', ['-R', '-i', dir], {stdio: 'ignore'});
	} catch {}

	rmSync(dir, {recursive: true, force: true});
});

type Running = {child: ChildProcess; port: number; out: {text: string; lines: number}; err: {text: string}};

/** logmon with a logio listener on a free port, writing raw lines to stdout. */
async function logmon(args: string[] = [], wrap?: (argv: string[]) => string[]): Promise<Running> {
	const argv = ['--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0', '--history-dir', dir, ...args];
	const child = wrap
		? spawn('bash', ['-c', wrap([process.execPath, bin, ...argv].map(a => `'${a}'`)).join(' ')], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, XDG_CONFIG_HOME: path.join(dir, 'no-config')}})
		: start(argv, {stdin: 'ignore'});
	children.push(child);
	const out = {text: '', lines: 0};
	const err = {text: ''};
	child.stdout!.setEncoding('utf8').on('data', (d: string) => {
		out.lines += d.split('\n').length - 1;
		out.text = (out.text + d).slice(-100_000);
	});
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		err.text += d;
	});
	const seen = await waitFor(child.stderr!, /listening on 127\.0\.0\.1:(\d+)/);
	const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(seen)![1]);
	return {child, port, out, err};
}

/** A logio publisher: a topic, then {"raw"} values. */
async function publisher(port: number, app = 'shop'): Promise<(lines: string[]) => Promise<void>> {
	const socket = net.connect(port, '127.0.0.1');
	sockets.push(socket);
	// A logmon killed with -9 while lines are on their way resets the connection: expected here.
	socket.on('error', () => undefined);
	await new Promise(resolve => socket.once('connect', resolve));
	socket.write(JSON.stringify({app, proc: 'web', host: 'h1'}));
	return async lines => {
		if (!socket.write(lines.map(raw => JSON.stringify({raw: raw + '\n'})).join(''))) {
			await new Promise(resolve => {
				socket.once('drain', resolve);
				socket.once('close', resolve);
			});
		}
	};
}

async function readAll(): Promise<LogEvent[]> {
	const h = await openHistory(dir, {readOnly: true});
	const out: LogEvent[] = [];
	for await (const e of h.reader.scan({})) {
		out.push(e);
	}

	return out;
}

/** Poll an async check until it gives something truthy. */
async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
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

/** The counters of `n=<i>` lines, in the order read. */
function counters(events: LogEvent[]): number[] {
	return events.filter(e => !e.marker).map(e => Number(/n=(\d+)/.exec(e.raw)?.[1]));
}

function files(sub: string): string[] {
	try {
		return readdirSync(path.join(dir, sub)).sort();
	} catch {
		return [];
	}
}

async function stop(r: Running): Promise<void> {
	const closed = new Promise(resolve => r.child.once('close', resolve));
	r.child.kill('SIGTERM');
	await closed;
}

const lines = (from: number, count: number, text = 'GET /cart user=u42') => Array.from({length: count}, (_, i) => `${text} n=${from + i}`);

describe('history e2e', () => {
	test('a logio listener writes every event, modes 0700/0600, readable while it runs and after', async () => {
		const r = await logmon();
		const send = await publisher(r.port);
		await send(lines(1, 500));
		await until(() => r.out.lines >= 500, 'stdout');
		// Another process's view (a reader here) sees them once flushed, while logmon runs.
		const events = await eventually(async () => {
			const read = await readAll();
			return read.length >= 500 && read;
		}, 'history on disk');
		expect(counters(events)).toEqual(lines(1, 500).map((_, i) => i + 1));
		expect(events[0]).toMatchObject({service: 'shop', proc: 'web', host: 'h1', sourceKind: 'logio-listen', raw: 'GET /cart user=u42 n=1'});
		expect(statSync(path.join(dir, 'all')).mode & 0o777).toBe(0o700);
		for (const f of files('all')) {
			expect(statSync(path.join(dir, 'all', f)).mode & 0o777).toBe(0o600);
		}

		expect(statSync(path.join(dir, 'writer.lock')).mode & 0o777).toBe(0o600);
		await stop(r);
		expect(files('.')).not.toContain('writer.lock');
		expect(counters(await readAll())).toHaveLength(500);
	});

	test('kill -9 mid-burst: after a restart every event flushed before the kill is there exactly once', async () => {
		const r = await logmon();
		const send = await publisher(r.port);
		let next = 1;
		let sending = true;
		const burst = (async () => {
			while (sending) {
				await send(lines(next, 200));
				next += 200;
				await new Promise(resolve => setTimeout(resolve, 5));
			}
		})();
		await until(() => r.out.lines >= 20_000, 'a burst under way', 60_000);
		// What is on disk now was flushed before the kill.
		const flushed = await eventually(async () => {
			const read = counters(await readAll());
			return read.length > 0 && read;
		}, 'a flush');
		r.child.kill('SIGKILL');
		sending = false;
		await burst.catch(() => undefined);
		await new Promise(resolve => r.child.once('close', resolve));

		const again = await logmon();
		// The last run's segment is sealed (its torn end cut off) by the new run.
		await until(() => !files('all').some(f => f.endsWith('.ndjson')) || undefined, 'seal of the killed run\'s segment');
		const after = counters(await readAll());
		expect(new Set(after).size).toBe(after.length); // no duplicate
		expect(after).toEqual(after.map((_, i) => i + 1)); // no hole: lines are written in order
		expect(after.length).toBeGreaterThanOrEqual(flushed.length);
		expect(after.slice(0, flushed.length)).toEqual(flushed);
		await stop(again);
	});

	test('--demo writes its history to a temporary directory, removed at exit (and those of killed demos)', async () => {
		// What a demo killed with SIGKILL leaves behind: its lock names a process that is gone.
		const killed = path.join(dir, 'logmon-demo-history-killed');
		mkdirSync(path.join(killed, 'all'), {recursive: true});
		writeFileSync(path.join(killed, 'writer.lock'), JSON.stringify({pid: 2 ** 22 + 4321, host: hostname(), startedAt: 0}));
		const child = start(['--demo', '--no-ui', '--demo-rate', '400', '-o', 'raw', '--no-stdin'], {env: {TMPDIR: dir}});
		children.push(child);
		const demoDir = (): string | undefined => readdirSync(dir).find(f => f.startsWith('logmon-demo-history-') && f !== 'logmon-demo-history-killed');
		await until(() => demoDir() && files(path.join(demoDir()!, 'all')).some(f => f.endsWith('.ndjson')), 'a demo history on disk');
		expect(statSync(path.join(dir, demoDir()!)).mode & 0o777).toBe(0o700);
		const closed = new Promise(resolve => child.once('close', resolve));
		child.kill('SIGTERM');
		await closed;
		expect(readdirSync(dir)).toEqual([]);
	});

	test('a directory from a newer logmon: the history is off, saying why and naming it; logmon runs on', async () => {
		writeFileSync(path.join(dir, 'FORMAT'), '{"format":"logmon-history","version":99}\n');
		const r = await logmon();
		await until(() => r.err.text.includes('history: off') || undefined, 'the notice');
		expect(r.err.text).toContain(`logmon: history: off: it was written by a newer logmon (history format 99; this logmon reads 1) (${dir})`);
		const send = await publisher(r.port);
		await send(lines(1, 10));
		await until(() => r.out.lines >= 10, 'stdout');
		expect(files('.')).toEqual(['FORMAT']);
		await stop(r);
	});

	test('two logmon on one directory: the second is read-only and says so, and still runs', async () => {
		const first = await logmon();
		const second = await logmon();
		await until(() => second.err.text.includes('history: read-only') || undefined, 'the read-only notice');
		expect(second.err.text).toContain(`history: read-only: another logmon (pid ${first.child.pid}) writes it (${dir})`);
		const send = await publisher(second.port);
		await send(lines(1, 10));
		await until(() => second.out.lines >= 10, 'the second streams');
		await stop(second);
		expect(files('.')).toContain('writer.lock'); // still the first's
		await stop(first);
	});

	// As root, an immutable directory and files stand in for a read-only mount (EPERM on write and create).
	const canChattr = process.getuid?.() === 0 && (() => {
		const probe = mkdtempSync(path.join(tmpdir(), 'logmon-chattr-'));
		try {
			execFileSync('chattr', ['+i', probe], {stdio: 'ignore'});
			execFileSync('chattr', ['-i', probe], {stdio: 'ignore'});
			return true;
		} catch {
			return false;
		} finally {
			rmSync(probe, {recursive: true, force: true});
		}
	})();

	test.skipIf(!canChattr)('a directory made immutable: failed: read-only, logmon streams on, writing resumes', async () => {
		const r = await logmon();
		const send = await publisher(r.port);
		await send(lines(1, 100));
		await eventually(async () => counters(await readAll()).length === 100, 'first lines on disk');
		// Nothing can be written or created in the segment directories now (as a read-only mount).
		execFileSync('chattr', ['-R', '+i', path.join(dir, 'all'), path.join(dir, 'errors')]);
		await send(lines(101, 100));
		await until(() => r.err.text.includes('history: failed: read-only') || undefined, 'the failure on stderr');
		expect(r.err.text).toMatch(/history: failed: read-only(, \d+ dropped)? \(/);
		await until(() => r.out.lines >= 200, 'stdout goes on');
		execFileSync('chattr', ['-R', '-i', path.join(dir, 'all'), path.join(dir, 'errors')]);
		// The retry takes events again; the next flush that lands says so.
		let more = 1001;
		await eventually(async () => {
			await send(lines(more++, 1));
			return /history: writing, \d+ dropped/.test(r.err.text);
		}, 'writing again');
		await send(lines(2001, 50));
		await eventually(async () => counters(await readAll()).filter(n => n > 2000).length === 50, 'new lines on disk after the failure');
		expect(counters(await readAll()).slice(0, 100)).toEqual(lines(1, 100).map((_, i) => i + 1));
		await stop(r);
		// What the history lost is said again at exit, beside pipe mode's own accounting.
		expect(r.err.text).toMatch(new RegExp(`logmon: \\d+ events not kept in the history \\(it fell behind or could not write; ${dir}\\)`));
	});

	test('a file size limit (ulimit -f): failed with the reason, stdout goes on, writing resumes in a new segment', async () => {
		const r = await logmon([], argv => ['ulimit -f 64;', 'exec', ...argv]);
		const send = await publisher(r.port);
		// About 1 MB: past the 64 KiB limit many times over.
		for (let i = 0; i < 10; i++) {
			await send(lines((i * 1000) + 1, 1000, 'x'.repeat(60)));
			await new Promise(resolve => setTimeout(resolve, 300));
		}

		await until(() => r.out.lines >= 10_000, 'stdout has every line');
		await until(() => r.err.text.includes('history: failed: file size limit') || undefined, 'the failure on stderr');
		let more = 20_001;
		await eventually(async () => {
			await send(lines(more, 10));
			more += 10;
			return /failed: file size limit[^]*history: writing/.test(r.err.text);
		}, 'writing again');
		expect(files('all').filter(f => f.endsWith('.ndjson') || f.endsWith('.gz')).length).toBeGreaterThan(1);
		const read = counters(await readAll());
		expect(new Set(read).size).toBe(read.length);
		expect(read.length).toBeGreaterThan(0);
		await stop(r);
	});
});
