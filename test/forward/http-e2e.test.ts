import {type ChildProcess} from 'node:child_process';
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {eventually, jsonLine, request} from '../support/http.js';
import {HttpReceiver, type Reply} from '../support/http-receiver.js';
import {collect, freePort, start, until} from '../support/logmon.js';

// The built logmon forwarding its stdin with `--forward http://…` to a receiver that reads
// every Loki push and `_bulk` body line by line: every event arrives, a 500 is retried and
// loses nothing, a 400 sets its batch aside while the rest flows, and a spool survives kill -9.

type Running = {child: ChildProcess; state: string; httpPort: number; stderr: () => string; done: Promise<Awaited<ReturnType<typeof collect>>>};

const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
	for (const c of cleanup.splice(0).reverse()) {
		await c();
	}
});

async function receiver(script: Reply[] = [], port = 0): Promise<HttpReceiver> {
	const r = await new HttpReceiver(script).listen(port);
	cleanup.push(async () => r.stop());
	return r;
}

function stateDir(): string {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-fwdhttp-'));
	cleanup.push(() => rmSync(dir, {recursive: true, force: true}));
	return dir;
}

/** logmon in pipe mode on a stdin left open, forwarding to `url` (or as its config says), with the HTTP API for its health. */
async function forwarding(url: string | {config: string}, state = stateDir(), env: NodeJS.ProcessEnv = {}): Promise<Running> {
	const httpPort = await freePort();
	const how = typeof url === 'string' ? ['--forward', url] : ['--config', url.config];
	const child = start([...how, '--http', `127.0.0.1:${httpPort}`, '-o', 'raw'], {env: {XDG_STATE_HOME: state, ...env}});
	let err = '';
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		err += d;
	});
	const done = collect(child, 300_000);
	cleanup.push(async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGKILL');
			await done;
		}
	});
	await eventually(async () => request(`http://127.0.0.1:${httpPort}/api/v1/health`).then(a => a.status === 200, () => false), 'the health endpoint');
	return {child, state, httpPort, stderr: () => err, done};
}

type ForwardHealth = {name: string; state: string; reason?: string; sent: number; spooled: number; spoolBytes: number; deadLettered: number; failedAttempts: number};

async function health(run: Running): Promise<ForwardHealth> {
	const answer = await request(`http://127.0.0.1:${run.httpPort}/api/v1/health`);
	return (answer.json as {forward: ForwardHealth[]}).forward[0]!;
}

function lines(prefix: string, count: number, from = 0): string[] {
	return Array.from({length: count}, (_, i) => `${prefix}-${String(from + i).padStart(6, '0')} request served`);
}

/** Times each line arrived. */
function tally(received: readonly string[]): Map<string, number> {
	const seen = new Map<string, number>();
	for (const l of received) {
		seen.set(l, (seen.get(l) ?? 0) + 1);
	}

	return seen;
}

function files(dir: string, name: RegExp): string[] {
	return readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter(f => name.test(path.basename(f))).map(f => path.join(dir, f));
}

type DeadLetterLine = {reason: string; event: {raw: string; message: string}};

function deadLetters(state: string): DeadLetterLine[] {
	return files(state, /^dead-letter\.ndjson$/).flatMap(f => readFileSync(f, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as DeadLetterLine));
}

/** Resolves once `count` events are in the spool and on disk (nothing pending in memory): what kill -9 cannot take. */
async function allSpooled(run: Running, count: number): Promise<ForwardHealth> {
	return eventually(async () => {
		const h = await health(run);
		const onDisk = files(run.state, /^\d{12}\.spool$/).reduce((n, f) => n + statSync(f).size, 0);
		return h.spooled === count && onDisk === h.spoolBytes && h;
	}, `${count} events in the spool, on disk`, 120_000);
}

async function finish(run: Running): Promise<number | null> {
	run.child.stdin!.end();
	const {code} = await run.done;
	return code;
}

describe('--forward http: end to end through the built logmon', () => {
	test('a Loki push: every event delivered once, each stream in time order', async () => {
		const r = await receiver();
		const run = await forwarding(r.url('/loki/api/v1/push'));
		const sent = lines('loki', 3000);
		run.child.stdin!.write(sent.join('\n') + '\n');
		await until(() => r.loki.length >= sent.length, 'every line at the receiver');
		expect(r.problems()).toEqual([]);
		expect(r.loki.map(e => e.line).sort()).toEqual(sent);
		expect(r.loki[0]!.labels).toMatchObject({level: 'INFO', source: 'stdin'});
		expect(await finish(run)).toBe(0);
		expect(r.loki).toHaveLength(sent.length);
	});

	test('500 twice, then the server recovers: retried, nothing lost', async () => {
		const r = await receiver([{status: 500, body: 'ingester not ready'}, 503]);
		const run = await forwarding(r.url('/loki/api/v1/push'));
		const sent = lines('retry', 500);
		run.child.stdin!.write(sent.join('\n') + '\n');
		await until(() => r.loki.length >= sent.length, 'every line after the retries', 30_000);
		expect(r.requests.slice(0, 2).map(q => q.status)).toEqual([500, 503]);
		expect(r.problems()).toEqual([]);
		expect([...tally(r.loki.map(e => e.line)).keys()].sort()).toEqual(sent);
		// The receiver stores a body before it answers: logmon's count follows a moment later.
		const h = await eventually(async () => health(run).then(h => h.sent === sent.length && h), 'the sent count');
		expect(h).toMatchObject({state: 'live', sent: sent.length, deadLettered: 0});
		expect(h.failedAttempts).toBeGreaterThanOrEqual(2);
		expect(await finish(run)).toBe(0);
	});

	test('400: the batch is dead-lettered with the answer\'s text, and what comes after flows', async () => {
		const r = await receiver([{status: 400, body: 'entry for stream has timestamp too old'}]);
		const run = await forwarding(r.url('/loki/api/v1/push'));
		const first = lines('refused', 100);
		run.child.stdin!.write(first.join('\n') + '\n');
		await until(() => r.requests.length > 0, 'the first request');
		await until(() => deadLetters(run.state).length > 0, 'the dead-letter file');
		const after = lines('after', 100);
		run.child.stdin!.write(after.join('\n') + '\n');
		await until(() => after.every(l => r.loki.some(e => e.line === l)), 'the lines after the refusal');
		const dead = deadLetters(run.state);
		expect(dead[0]!.reason).toBe('HTTP 400: entry for stream has timestamp too old');
		// Each line of the refused run went once: set aside, or (in a later batch) delivered.
		const delivered = tally(r.loki.map(e => e.line));
		for (const l of first) {
			expect((delivered.get(l) ?? 0) + dead.filter(d => d.event.raw === l).length).toBe(1);
		}

		const h = await eventually(async () => health(run).then(h => h.state === 'live' && h), 'live again');
		expect(h.deadLettered).toBe(dead.length);
		expect(await finish(run)).toBe(0);
		expect(run.stderr()).toMatch(/forward http: .*dead-lettered/);
	});

	test('_bulk items failing with 429 are sent again without the stored ones; one refused item alone is dead-lettered', async () => {
		const r = await receiver([
			{items: (_doc, i) => (i % 2 === 1 ? 429 : undefined)},
			{items: doc => (doc['message'] === 'bulk-000007 request served' ? 400 : undefined)},
		]);
		const run = await forwarding(r.url('/_bulk'));
		const sent = lines('bulk', 200);
		run.child.stdin!.write(sent.join('\n') + '\n');
		await until(() => deadLetters(run.state).length > 0 && r.bulk.length >= sent.length - 1, 'the batch stored but one', 30_000);
		expect(r.problems()).toEqual([]);
		const stored = tally(r.bulk.map(d => String(d.doc['message'])));
		expect(Math.max(...stored.values())).toBe(1);
		const dead = deadLetters(run.state);
		expect(dead.map(d => d.event.raw)).toEqual(['bulk-000007 request served']);
		expect(dead[0]!.reason).toMatch(/^_bulk: 1 of \d+ documents refused \(first: 400 document_parsing_exception/);
		expect([...stored.keys(), ...dead.map(d => d.event.raw)].sort()).toEqual(sent);
		await eventually(async () => health(run).then(h => h.sent === sent.length - 1 && h.deadLettered === 1), 'sent and dead-lettered counts');
		expect(await finish(run)).toBe(0);
	});

	test('from the config: a filter, gzip, an index template and a header whose ${ENV} secret never shows', async () => {
		const token = 'tok-5f2c9a7e41';
		const r = await receiver([{status: 401, body: `unknown token ${token}`}]);
		const state = stateDir();
		const config = path.join(state, 'config.json');
		writeFileSync(config, JSON.stringify({forward: [{
			name: 'search',
			type: 'http',
			url: r.url('/_bulk'),
			headers: {Authorization: 'Bearer ${FWD_TOKEN}'},
			gzip: true,
			index: 'Logs-{service}-{level}',
			filter: 'level>=warn',
		}]}));
		const run = await forwarding({config}, state, {FWD_TOKEN: token});
		run.child.stdin!.write(jsonLine({level: 'error', service: 'Shop', message: 'refused at first'}));
		await until(() => deadLetters(state).length > 0, 'the refused batch set aside');
		run.child.stdin!.write(jsonLine({level: 'info', service: 'shop', message: 'not forwarded'}) + jsonLine({level: 'warn', service: 'Shop', message: 'forwarded'}));
		await until(() => r.bulk.length > 0, 'the warning at the receiver');
		expect(r.problems()).toEqual([]);
		expect(r.requests.map(q => [q.headers['authorization'], q.gzip])).toEqual([[`Bearer ${token}`, true], [`Bearer ${token}`, true]]);
		expect(r.bulk.map(d => [d.index, d.doc['message']])).toEqual([['logs-shop-warn', 'forwarded']]);
		expect(deadLetters(state)[0]!.reason).toBe('HTTP 401: unknown token [redacted]');
		expect(await finish(run)).toBe(0);
		expect(run.stderr()).not.toContain(token);
	});

	test('a destination that hangs holds back neither the pipe nor another forwarder', async () => {
		const hanging = await receiver(Array.from({length: 1000}, () => 'hang' as const));
		const healthy = await receiver();
		const state = stateDir();
		const config = path.join(state, 'config.json');
		writeFileSync(config, JSON.stringify({forward: [
			{name: 'stuck', type: 'http', url: hanging.url(), timeout: '2s'},
			{name: 'fine', type: 'http', url: healthy.url('/_bulk')},
		]}));
		const run = await forwarding({config}, state);
		let written = 0;
		run.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
			written += d.split('\n').length - 1;
		});
		const sent = lines('both', 20_000);
		run.child.stdin!.write(sent.join('\n') + '\n');
		await until(() => healthy.bulk.length >= sent.length && written >= sent.length, 'the pipe and the healthy forwarder to have every event', 60_000);
		expect(healthy.bulk).toHaveLength(sent.length);
		expect(hanging.loki).toHaveLength(0);
		const stuck = await eventually(async () => {
			const all = (await request(`http://127.0.0.1:${run.httpPort}/api/v1/health`)).json as {forward: ForwardHealth[]};
			const h = all.forward.find(f => f.name === 'stuck');
			return h?.state === 'retrying' && h;
		}, 'the hanging forwarder retrying');
		expect(stuck.reason).toMatch(/no answer/);
		expect(stuck.sent).toBe(0);
		run.child.kill('SIGKILL');
	});

	test('the spool: destination down, 100,000 events, kill -9, restart, destination back: every event at least once', async () => {
		const port = await freePort();
		const url = `http://127.0.0.1:${port}/loki/api/v1/push`;
		const state = stateDir();
		const first = await forwarding(url, state);
		const sent = lines('spool', 100_000);
		first.child.stdin!.write(sent.join('\n') + '\n');
		const spooled = await allSpooled(first, sent.length);
		expect(spooled.sent).toBe(0);
		first.child.kill('SIGKILL');
		expect((await first.done).signal).toBe('SIGKILL');

		const r = await receiver([], port);
		const second = await forwarding(url, state);
		await until(() => tally(r.loki.map(e => e.line)).size >= sent.length, 'every spooled event at the receiver', 120_000);
		const seen = tally(r.loki.map(e => e.line));
		expect([...seen.keys()].sort()).toEqual(sent);
		const duplicates = r.loki.length - seen.size;
		process.stderr.write(`forward http spool: ${sent.length} events, ${r.loki.length} received, ${duplicates} duplicates, ${r.requests.length} requests\n`);
		expect(r.problems()).toEqual([]);
		expect(await finish(second)).toBe(0);
	}, 300_000);

	test('killed after the server stored a batch but before it answered: that batch comes again, counted as duplicates', async () => {
		const r = await receiver(['store-and-hang']);
		const url = r.url('/loki/api/v1/push');
		const state = stateDir();
		const first = await forwarding(url, state);
		const sent = lines('again', 10_000);
		first.child.stdin!.write(sent.join('\n') + '\n');
		await until(() => r.loki.length > 0, 'the first batch stored, its answer held back');
		const storedFirst = r.loki.length;
		await allSpooled(first, sent.length);
		first.child.kill('SIGKILL');
		await first.done;

		const second = await forwarding(url, state);
		await until(() => tally(r.loki.map(e => e.line)).size >= sent.length, 'every event at the receiver', 60_000);
		const seen = tally(r.loki.map(e => e.line));
		expect([...seen.keys()].sort()).toEqual(sent);
		const duplicates = r.loki.length - seen.size;
		process.stderr.write(`forward http kill -9 mid-request: ${sent.length} events, ${r.loki.length} received, ${duplicates} duplicates (first batch ${storedFirst})\n`);
		expect(duplicates).toBe(storedFirst);
		// Each one came again as the same entry (time to the nanosecond, labels, line): Loki keeps one.
		expect(tally(r.loki.map(e => `${JSON.stringify(e.labels)} ${e.ns} ${e.line}`)).size).toBe(sent.length);
		expect(await finish(second)).toBe(0);
	}, 120_000);
});
