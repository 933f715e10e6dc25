import {type ChildProcess} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {collect, corpus, freePort, root, run, start, until, waitFor} from '../support/logmon.js';

// `logmon query` against a history written by a real logmon (a logio listener) in another
// process, read while that logmon keeps writing. The history holds a sealed segment (from a first
// run, sealed when the second starts) and the second run's active segment.

const hour = 3_600_000;
const now = Date.now();
const apache = readFileSync(path.join(corpus, 'Apache_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
const ssh = readFileSync(path.join(corpus, 'OpenSSH_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
/** A word that is in one event only, in the sealed segment. */
const rare = 'zx81qv7token';

type Sent = {time: number; raw: string};

const topic = (app: string): string => JSON.stringify({app, proc: 'web', host: `${app}-1`});
const record = (r: Sent): string => JSON.stringify({time: new Date(r.time).toISOString(), raw: r.raw + '\n'});

/** A logio publisher on one connection, so its records keep their order. */
async function publisher(port: number, app: string): Promise<{send(records: Sent[]): Promise<void>; end(): Promise<void>}> {
	const socket = net.connect(port, '127.0.0.1');
	await new Promise(resolve => socket.once('connect', resolve));
	socket.write(topic(app));
	return {
		async send(records) {
			if (!socket.write(records.map(r => record(r)).join(''))) {
				await new Promise(resolve => socket.once('drain', resolve));
			}
		},
		async end() {
			await new Promise<void>(resolve => {
				socket.end(() => resolve());
			});
		},
	};
}

async function publish(port: number, app: string, records: Sent[]): Promise<void> {
	const p = await publisher(port, app);
	await p.send(records);
	await p.end();
}

/** Poll an async check until it holds. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!await check()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 100));
	}
}

type Writer = {child: ChildProcess; port: number; stop(): Promise<void>};

async function writer(dir: string): Promise<Writer> {
	const child = start(['--no-ui', '-o', 'raw', '--listen', '127.0.0.1:0', '--history-dir', dir], {stdin: 'ignore'});
	child.stdout!.resume();
	const seen = await waitFor(child.stderr!, /listening on 127\.0\.0\.1:(\d+)/);
	const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(seen)![1]);
	return {
		child,
		port,
		async stop() {
			const done = collect(child);
			child.kill('SIGTERM');
			await done;
		},
	};
}

let dir: string;
let live: Writer;

const query = async (...args: string[]) => run(['query', '--history-dir', dir, ...args]);
const lines = (text: string): string[] => text.split('\n').filter(Boolean);

/** Apache lines as checkout, 3 hours ago; OpenSSH lines as auth, now; one far-off event. */
const checkout: Sent[] = apache.map((raw, i) => ({time: now - 3 * hour + i, raw}));
const auth: Sent[] = ssh.map((raw, i) => ({time: now - 10 * 60_000 + i, raw: i === 500 ? `${raw} ${rare}` : raw}));
/** Received now, but from a source whose clock says two days ago. */
const late: Sent = {time: now - 48 * hour, raw: 'late delivery from a skewed clock'};
const total = checkout.length + auth.length + 1;

beforeAll(async () => {
	dir = mkdtempSync(path.join(tmpdir(), 'logmon-query-'));
	// First run: checkout and auth, then stop: the next run seals this segment (gzip and sidecar).
	const first = await writer(dir);
	await publish(first.port, 'checkout', checkout);
	await publish(first.port, 'auth', auth);
	await eventually(async () => Number((await query('--count')).stdout) === total - 1, 'the first run\'s events on disk');
	await first.stop();
	live = await writer(dir);
	await publish(live.port, 'late', [late]);
	await eventually(async () => Number((await query('--count')).stdout) === total, 'every event on disk');
}, 120_000);

afterAll(async () => {
	await live?.stop();
	rmSync(dir, {recursive: true, force: true});
});

describe('logmon query', () => {
	test('the same filters as pipe mode, compiled by the same code', async () => {
		const input = apache.join('\n') + '\n';
		for (const filter of [['--level', 'error'], ['--grep', 'mod_jk|workerEnv'], ['--grep', 'error state', '--exclude', '6$'], ['--grep', String.raw`\bchild\b \d+`]]) {
			const piped = await run(['-o', 'raw', ...filter], {input});
			const stored = await query('-o', 'raw', '--service', 'checkout', ...filter);
			expect(stored.code, filter.join(' ')).toBe(0);
			expect(lines(stored.stdout), filter.join(' ')).toEqual(lines(piped.stdout));
			expect(lines(stored.stdout).length).toBeGreaterThan(0);
		}

		const hosts = await query('-o', 'template', '--template', '{service} {host} {level}', '--host', 'auth-1');
		expect(new Set(lines(hosts.stdout).map(l => l.split(' ').slice(0, 2).join(' ')))).toEqual(new Set(['auth auth-1']));
		const sources = await query('--source', 'nope', '--count');
		expect(sources.stdout).toBe('0\n');
	});

	test('--since and --until by event time; a far-off source time is found by its own time', async () => {
		const twoHours = await query('--since', '2h', '-o', 'template', '--template', '{service}');
		expect(new Set(lines(twoHours.stdout))).toEqual(new Set(['auth']));
		const window = await query('--since', new Date(now - 4 * hour).toISOString(), '--until', new Date(now - 2 * hour).toISOString(), '--count');
		expect(Number(window.stdout)).toBe(checkout.length);
		const lateOnes = await query('--since', '3d', '--until', '1d', '-o', 'raw');
		expect(lines(lateOnes.stdout)).toEqual([late.raw]);
		expect(Number((await query('--since', '1h', '--grep', 'skewed', '--count')).stdout)).toBe(0);
		const bad = await query('--since', 'yesterday');
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/--since: expected a duration/);
		const backwards = await query('--since', '1h', '--until', '2h');
		expect(backwards.code).toBe(2);
		expect(backwards.stderr).toMatch(/--since 1h is after --until 2h/);
	});

	test('--limit (newest N, oldest first), --reverse, --count', async () => {
		const all = lines((await query('-o', 'raw', '--service', 'auth')).stdout);
		expect(all).toHaveLength(auth.length);
		expect(lines((await query('-o', 'raw', '--service', 'auth', '--limit', '5')).stdout)).toEqual(all.slice(-5));
		expect(lines((await query('-o', 'raw', '--service', 'auth', '--reverse')).stdout)).toEqual([...all].reverse());
		expect(lines((await query('-o', 'raw', '--service', 'auth', '--reverse', '--limit', '3')).stdout)).toEqual(all.slice(-3).reverse());
		expect((await query('--count', '--service', 'auth')).stdout).toBe(`${auth.length}\n`);
		expect(JSON.parse((await query('--count', '-o', 'json', '--service', 'nothing')).stdout)).toEqual({count: 0});
		for (const args of [['--limit', '0'], ['--limit', 'x'], ['--count', '--stats'], ['--count', '--limit', '3'], ['--stats', '--grep', 'x']]) {
			const bad = await query(...args);
			expect(bad.code, args.join(' ')).toBe(2);
			expect(bad.stderr, args.join(' ')).toMatch(new RegExp(args.find(a => a.startsWith('--') && a !== '--count') ?? '--count'));
		}
	});

	test('a word from --grep finds the one event that holds it (the sealed segment\'s index is asked)', async () => {
		const found = await query('-o', 'raw', '--grep', String.raw`\b${rare}\b`);
		expect(lines(found.stdout)).toEqual([auth[500]!.raw]);
		expect((await query('--count', '--grep', String.raw`\bzx81qv7\b`)).stdout).toBe('0\n');
		// A bare word may sit inside a longer one: no index shortcut, and it is still found.
		expect((await query('--count', '--grep', 'qv7tok')).stdout).toBe('1\n');
	});

	test('--stats: events per service and level, as text and as JSON', async () => {
		const json = lines((await query('--stats', '-o', 'json')).stdout).map(l => JSON.parse(l) as {service: string; total: number; errors: number; levels: Record<string, number>});
		expect(json.map(r => r.service).sort()).toEqual(['auth', 'checkout', 'late']);
		for (const r of json) {
			expect(r.total).toBe(Number((await query('--count', '--service', r.service)).stdout));
			expect(r.errors).toBe(Number((await query('--count', '--service', r.service, '--level', 'error')).stdout));
		}

		const text = lines((await query('--stats', '--service', 'checkout')).stdout);
		expect(text[0]).toMatch(/^SERVICE\s+EVENTS\s+ERRORS\s+ERR%/);
		expect(text[1]).toMatch(new RegExp(`^checkout\\s+${checkout.length}\\s`));
		const errorsOnly = lines((await query('--stats', '--level', 'error', '-o', 'json')).stdout).map(l => JSON.parse(l) as {total: number; errors: number});
		expect(errorsOnly.every(r => r.total === r.errors)).toBe(true);
	});

	test('output formats and colour, as pipe mode has them', async () => {
		const json = lines((await query('-o', 'json', '--service', 'late')).stdout).map(l => JSON.parse(l) as Record<string, unknown>);
		expect(json).toHaveLength(1);
		expect(json[0]).toMatchObject({service: 'late', host: 'late-1', proc: 'web', kind: 'logio-listen', message: late.raw, time: new Date(late.time).toISOString()});
		const coloured = await query('--color', 'always', '--service', 'late');
		expect(coloured.stdout).toContain('\u001B[');
		const plain = await run(['query', '--history-dir', dir, '--service', 'late'], {env: {FORCE_COLOR: '1', NO_COLOR: '1'}});
		expect(plain.stdout).not.toContain('\u001B[');
		expect(plain.stdout).toMatch(/^\S+Z late\[web\] late-1 INFO: late delivery/);
		const bad = await query('-o', 'template', '--template', '{nope}');
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/--template: unknown field/);
	});

	test('a query loads neither React and Ink nor the sources; --help shows it with an example', async () => {
		const log = path.join(mkdtempSync(path.join(tmpdir(), 'logmon-query-imports-')), 'imports.txt');
		const r = await run(['query', '--history-dir', dir, '--count'], {
			env: {LOGMON_IMPORT_LOG: log},
			nodeArgs: ['--import', path.join(root, 'test', 'support', 'record-imports.mjs')],
		});
		expect(r.code).toBe(0);
		const urls = readFileSync(log, 'utf8');
		rmSync(path.dirname(log), {recursive: true, force: true});
		expect(urls).toMatch(/\/dist\/bundle\/chunks\/query-\w+\.js/);
		expect(urls).not.toMatch(/query-follow|kafka|logstream|node_modules\/(ink|react|react-reconciler)\//);
		// Nor, inside the bundle's shared chunks, the redaction rules (no redaction is configured) or a source.
		const loaded = urls.match(/\/dist\/bundle\/\S+\.js/g)!.map(p => readFileSync(path.join(root, p.slice(p.indexOf('/dist/') + 1)), 'utf8')).join('\n');
		expect(loaded).toContain('// dist/query-scan.js');
		expect(loaded).not.toMatch(/^\/\/ dist\/(core\/redact-rules|sources\/\S+)\.js$/m);
		// Ink is bundled (scripts/bundle.mjs): its modules would show in the chunks by their headers.
		expect(loaded).not.toMatch(/^\/\/ node_modules\/(ink|react-reconciler|yoga-layout)\//m);
		const help = await run(['--help']);
		expect(help.stdout).toMatch(/logmon query --since 2h --level error --service checkout/);
		expect(help.stdout).toMatch(/--until 30m\|RFC3339/);
		const elsewhere = await run(['--no-ui', '--count'], {input: ''});
		expect(elsewhere.code).toBe(2);
		expect(elsewhere.stderr).toMatch(/--count: only for logmon query/);
	});

	test('a directory from a newer logmon, or none at all', async () => {
		const newer = mkdtempSync(path.join(tmpdir(), 'logmon-query-newer-'));
		writeFileSync(path.join(newer, 'FORMAT'), JSON.stringify({format: 'logmon-history', version: 99}));
		const refused = await run(['query', '--history-dir', newer]);
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain(newer);
		expect(refused.stderr).toMatch(/newer logmon/);
		rmSync(newer, {recursive: true});
		const missing = await run(['query', '--history-dir', path.join(newer, 'gone')]);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/--history-dir: no history at .*gone/);
		const fresh = await run(['query', '--count'], {env: {XDG_STATE_HOME: path.join(newer, 'state')}});
		expect(fresh.code).toBe(0);
		expect(fresh.stdout).toBe('0\n');
		expect(fresh.stderr).toMatch(/no history in .* yet/);
	});
});

describe('logmon query --follow', () => {
	const counterLine = (n: number): string => `burst ${n} ${ssh[n % ssh.length]!}`;
	const counters = (text: string): number[] => lines(text).map(l => Number(/^burst (\d+) /.exec(l)?.[1] ?? Number.NaN));

	test('while another logmon writes: history, then the live burst across a segment roll, every counter once', async () => {
		// Counters 0..999 stored; the follower starts while 1000..19999 are being sent; then the
		// writer restarts (a new segment; the old one is sealed under the follower) and 20000..29999 follow.
		const burst = (from: number, to: number): Sent[] => Array.from({length: to - from}, (_, k) => ({time: Date.now(), raw: counterLine(from + k)}));
		const first = await publisher(live.port, 'burst');
		await first.send(burst(0, 1000));
		await eventually(async () => Number((await query('--count', '--service', 'burst')).stdout) === 1000, 'the first 1000 on disk');
		const sending = (async () => {
			for (let n = 1000; n < 20_000; n += 500) {
				await first.send(burst(n, n + 500));
				await new Promise(resolve => setTimeout(resolve, 20));
			}

			await first.end();
		})();
		const follower = start(['query', '--history-dir', dir, '-f', '-o', 'raw', '--service', 'burst'], {stdin: 'ignore'});
		let out = '';
		follower.stdout!.setEncoding('utf8').on('data', (d: string) => {
			out += d;
		});
		await sending;
		await until(() => counters(out).length >= 20_000 || undefined, 'the first burst followed', 30_000);
		await live.stop();
		live = await writer(dir);
		const second = await publisher(live.port, 'burst');
		for (let n = 20_000; n < 30_000; n += 500) {
			await second.send(burst(n, n + 500));
		}

		await second.end();

		await until(() => counters(out).length >= 30_000 || undefined, 'the second burst followed', 30_000);
		follower.kill('SIGINT');
		const result = await collect(follower);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(130);
		expect(counters(out)).toEqual(Array.from({length: 30_000}, (_, n) => n));
	});

	test('--limit N: the newest N stored, then the live events, every counter once', async () => {
		// After the test before: counters 0..29999 stored, a writer running.
		const follower = start(['query', '--history-dir', dir, '-f', '--limit', '5', '-o', 'raw', '--service', 'burst'], {stdin: 'ignore'});
		let out = '';
		follower.stdout!.setEncoding('utf8').on('data', (d: string) => {
			out += d;
		});
		await until(() => counters(out).length >= 5 || undefined, 'the newest 5');
		const p = await publisher(live.port, 'burst');
		await p.send(Array.from({length: 1000}, (_, k) => ({time: Date.now(), raw: counterLine(30_000 + k)})));
		await p.end();
		await until(() => counters(out).length >= 1005 || undefined, 'the live part', 30_000);
		follower.kill('SIGINT');
		const result = await collect(follower);
		expect(result.stderr).toBe('');
		expect(counters(out)).toEqual(Array.from({length: 1005}, (_, n) => 29_995 + n));
	});

	test('when nobody writes the directory: query becomes the writer, prints the history, then its sources\' events', async () => {
		const own = mkdtempSync(path.join(tmpdir(), 'logmon-query-own-'));
		const port = await freePort();
		const config = path.join(own, 'config.json');
		writeFileSync(config, JSON.stringify({sources: [{type: 'logio-listen', listen: `127.0.0.1:${port}`}]}));
		const history = path.join(own, 'history');
		// A history from an earlier run.
		const before = start(['--no-ui', '--listen', '127.0.0.1:0', '--history-dir', history], {stdin: 'ignore'});
		const seen = await waitFor(before.stderr!, /listening on 127\.0\.0\.1:(\d+)/);
		await publish(Number(/:(\d+)/.exec(seen.split('listening on')[1]!)![1]), 'burst', Array.from({length: 500}, (_, n) => ({time: Date.now(), raw: counterLine(n)})));
		await eventually(async () => Number((await run(['query', '--history-dir', history, '--count'])).stdout) === 500, 'the earlier run on disk');
		const stopped = collect(before);
		before.kill('SIGTERM');
		await stopped;

		const follower = start(['query', '--config', config, '--history-dir', history, '-f', '-o', 'raw'], {stdin: 'ignore'});
		let out = '';
		follower.stdout!.setEncoding('utf8').on('data', (d: string) => {
			out += d;
		});
		await waitFor(follower.stderr!, `listening on 127.0.0.1:${port}`);
		await until(() => counters(out).length >= 500 || undefined, 'the stored part');
		const p = await publisher(port, 'burst');
		for (let n = 500; n < 5000; n += 500) {
			await p.send(Array.from({length: 500}, (_, k) => ({time: Date.now(), raw: counterLine(n + k)})));
		}

		await p.end();

		await until(() => counters(out).length >= 5000 || undefined, 'the live part');
		// It writes the history too: another follower now follows its files.
		const second = await run(['query', '--history-dir', history, '--count']);
		expect(Number(second.stdout)).toBeGreaterThanOrEqual(500);
		follower.kill('SIGTERM');
		const result = await collect(follower);
		expect(result.code).toBe(143);
		expect(counters(out)).toEqual(Array.from({length: 5000}, (_, n) => n));
		expect(Number((await run(['query', '--history-dir', history, '--count'])).stdout)).toBe(5000);

		// With --limit 3: the newest 3 stored, then the live ones.
		const limited = start(['query', '--config', config, '--history-dir', history, '-f', '--limit', '3', '-o', 'raw'], {stdin: 'ignore'});
		let tail = '';
		limited.stdout!.setEncoding('utf8').on('data', (d: string) => {
			tail += d;
		});
		await waitFor(limited.stderr!, `listening on 127.0.0.1:${port}`);
		await publish(port, 'burst', Array.from({length: 100}, (_, k) => ({time: Date.now(), raw: counterLine(5000 + k)})));
		await until(() => counters(tail).length >= 103 || undefined, 'the newest 3, then the live part');
		limited.kill('SIGTERM');
		await collect(limited);
		expect(counters(tail)).toEqual(Array.from({length: 103}, (_, n) => 4997 + n));
		rmSync(own, {recursive: true, force: true});
	});
});
