import {type ChildProcess, spawn} from 'node:child_process';
import {copyFileSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {StrictCloudwatch} from './cloudwatch-strict.js';
import {brokers, skipKafka, tool, unique} from './kafka.js';
import {collect, corpus, freePort, type Result, root, until, waitFor} from './logmon.js';
import {prepare as prepareTmux, shellQuote, Tmux} from './tmux.js';

// logmon as users get it, never the clone: the npm package packed, then installed from its
// tarball into a temporary global prefix (test/e2e/package.test.ts), and the single
// executable (test/e2e/executable.test.ts). Each runs in a temporary folder outside the
// clone, with an environment of its own that inherits nothing, through the same checks.
//
// These tests pack, install and build, so .ci/run runs them on one of its two Node passes:
// LOGMON_DIST_TESTS=skip skips them, loudly.

export type Launcher = {
	/** The command users run: the installed bin, or the executable. */
	command: string;
	/** Its whole environment. */
	env: Record<string, string>;
	/** A folder outside the clone to run in. */
	cwd: string;
};

/** True (after a loud warning) when this run leaves the packaging tests to another pass. */
export function skipDist(): boolean {
	if (process.env['LOGMON_DIST_TESTS'] === 'skip') {
		console.warn('\n!!! logmon: package and executable tests SKIPPED (LOGMON_DIST_TESTS=skip: another pass of .ci/run runs them)\n');
		return true;
	}

	return false;
}

/** A temporary folder, removed when the test file ends. */
export function scratch(prefix: string): string {
	const dir = mkdtempSync(path.join(tmpdir(), `logmon-${prefix}-`));
	afterAll(() => {
		rmSync(dir, {recursive: true, force: true});
	});
	return dir;
}

export const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {version: string}).version;

type Io = {input?: string; stdinFile?: string};

export function launch(l: Launcher, args: string[], io: Io = {}): ChildProcess {
	const fd = io.stdinFile === undefined ? undefined : openSync(io.stdinFile, 'r');
	const child = spawn(l.command, args, {cwd: l.cwd, env: l.env, stdio: [fd ?? 'pipe', 'pipe', 'pipe']});
	if (fd === undefined) {
		child.stdin!.end(io.input ?? '');
	} else {
		closeSync(fd);
	}

	return child;
}

export async function run(l: Launcher, args: string[], io: Io = {}, timeoutMs = 30_000): Promise<Result> {
	return collect(launch(l, args, io), timeoutMs);
}

type Event = {source: string; service: string; level: string; message: string};

const lines = (file: string): string[] => readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean);

const events = (text: string): Event[] => text.trim().split('\n').filter(Boolean).map(l => JSON.parse(l) as Event);

/** A pane command: `env -i` with only `env` set, then the exit code and the terminal's modes once it exits. */
function paneCommand(l: Launcher, args: string): string {
	const vars = Object.entries({...l.env, TERM: process.env['TERM'] ?? 'xterm-256color'}).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
	const report = 'echo "EXIT=$?"; echo "MODES=$(stty -a | tr " ;" "\\n\\n" | grep -E "^-?(icanon|echo|isig)$" | tr "\\n" " ")"; echo DONE; sleep 600';
	return `sh -c ${shellQuote(`cd ${shellQuote(l.cwd)} && env -i ${vars} ${shellQuote(l.command)} ${args}; ${report}`)}`;
}

/**
 * The checks every way of installing logmon passes: --version, --help, pipe mode on a fixture,
 * the demo stopped by SIGTERM, logio and Kafka round trips (every source and sink), forwarding to
 * CloudWatch (the AWS SDK inside), the UI in tmux.
 */
export function distChecks(launcher: () => Launcher): void {
	const fixture = (name: string): string => {
		const l = launcher();
		const file = path.join(l.cwd, name);
		copyFileSync(path.join(corpus, name), file);
		return file;
	};

	const running: ChildProcess[] = [];
	afterEach(() => {
		for (const child of running.splice(0)) {
			child.kill('SIGKILL');
		}
	});

	test('--version and --help', async () => {
		const v = await run(launcher(), ['--version']);
		expect(v.stdout.trim()).toBe(version);
		expect(v.code).toBe(0);
		const h = await run(launcher(), ['--help']);
		expect(h.stdout).toContain('Usage');
		expect(h.stdout).toContain('logmon --demo');
		expect(h.code).toBe(0);
	});

	test('pipe mode on fixtures: -o raw gives the lines back, -o json --level error the [error] lines, a --grep that only re2js runs its lines', async () => {
		const file = fixture('OpenSSH_2k.log');
		const raw = await run(launcher(), ['-o', 'raw'], {stdinFile: file});
		expect(raw.code).toBe(0);
		expect(raw.stdout).toBe(lines(file).join('\n') + '\n'); // the fixture's CRLF ends lines as LF does
		const apache = fixture('Apache_2k.log');
		const json = await run(launcher(), ['-o', 'json', '--level', 'error'], {stdinFile: apache});
		expect(json.code).toBe(0);
		const got = events(json.stdout);
		expect(got.map(e => e.message)).toEqual(lines(apache).filter(l => l.includes('[error]')));
		expect(new Set(got.map(e => e.level))).toEqual(new Set(['ERROR']));
		// A pattern only re2js runs: re2js loads the first time one needs it, from inside logmon.
		const pattern = String.raw`(?:Accepted|Failed) password for (\w+) from [\d.]+ port \d+ ssh2\s*$`;
		const re2 = await run(launcher(), ['-o', 'raw', '--grep', pattern], {stdinFile: file});
		expect(re2.code).toBe(0);
		expect(re2.stdout.split('\n').filter(Boolean)).toEqual(lines(file).filter(l => /(?:Accepted|Failed) password for \w+ from [\d.]+ port \d+ ssh2\s*$/.test(l)));
		expect(re2.stdout).not.toBe('');
	});

	test('--demo --no-ui replays the shipped logs and serves the dashboard it carries; SIGTERM ends it with 143 and the events written', async () => {
		const child = launch(launcher(), ['--demo', '--no-ui', '--no-stdin', '--demo-rate', '400', '-o', 'json']);
		running.push(child);
		const said = waitFor(child.stderr!, /dashboard: http:\/\/127\.0\.0\.1:\d+\/\n/, 30_000);
		const seen = await waitFor(child.stdout!, /"source":"logstream"[\s\S]*"source":"logio"|"source":"logio"[\s\S]*"source":"logstream"/, 30_000);
		// The page and its script come from inside logmon (the bundle or the executable), no file beside it.
		const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(await said)![1]!;
		const page = await fetch(url);
		expect(page.headers.get('content-security-policy')).toContain('script-src \'self\'');
		expect(await page.text()).toContain('/assets/dashboard.js');
		expect(await (await fetch(`${url}assets/dashboard.js`)).text()).toContain('logmon.token');
		child.kill('SIGTERM');
		const r = await collect(child);
		expect(r.code).toBe(143);
		const got = events(seen + r.stdout);
		// Services of the logio apps replaying the fixtures, and the apache-error type replaying Apache_2k.log.
		expect(got.some(e => /^(zookeeper|hadoop|spark|openstack|hdfs|sshd)$/.test(e.service))).toBe(true);
		const summary = /SIGTERM: (\d+) events read, (\d+) written/.exec(r.stderr);
		expect(summary, r.stderr).not.toBeNull();
		expect(Number(summary![2])).toBeGreaterThan(0);
		expect(r.stderr).not.toMatch(/internal error|ENOENT/);
	});

	test('logio: publish to a listener that serves subscribers, and a second logmon subscribed to it', async () => {
		const [listen, serve] = [await freePort(), await freePort()];
		const server = launch(launcher(), ['--no-ui', '--no-stdin', '--listen', `127.0.0.1:${listen}`, '--serve-subscribers', `127.0.0.1:${serve}`, '-o', 'json']);
		running.push(server);
		await waitFor(server.stderr!, 'listening');
		const subscriber = launch(launcher(), ['--no-ui', '--no-stdin', '--logio', `http://127.0.0.1:${serve}/?app=shop`, '-o', 'json']);
		running.push(subscriber);
		let subscribed = '';
		subscriber.stdout!.setEncoding('utf8').on('data', (d: string) => {
			subscribed += d;
		});
		let served = '';
		server.stdout!.setEncoding('utf8').on('data', (d: string) => {
			served += d;
		});
		// logio keeps no history: publish a probe until the subscriber has it, then the real lines.
		const publisher = spawn(launcher().command, ['publish', '--to', `logio://127.0.0.1:${listen}?app=shop&proc=web`], {cwd: launcher().cwd, env: launcher().env, stdio: ['pipe', 'ignore', 'pipe']});
		running.push(publisher);
		const probe = setInterval(() => publisher.stdin!.write('probe\n'), 200);
		try {
			await until(() => subscribed.includes('"message":"probe"'), 'the subscriber to see a probe');
		} finally {
			clearInterval(probe);
		}

		publisher.stdin!.end('the last line ERROR of the round trip\n');
		const published = await collect(publisher);
		expect(published.code).toBe(0);
		await until(() => subscribed.includes('the last line ERROR') && served.includes('the last line ERROR'), 'the line at both');
		const last = events(subscribed).find(e => e.message.includes('the last line ERROR'))!;
		expect([last.source, last.service, last.level]).toEqual(['logio', 'shop', 'ERROR']);
		const ends = [collect(server), collect(subscriber)];
		server.kill('SIGTERM');
		subscriber.kill('SIGTERM');
		expect((await Promise.all(ends)).map(r => r.code)).toEqual([143, 143]);
	});

	describe.skipIf(skipKafka())('Kafka', () => {
		test('publish --to kafka:// and consume it back: the bundled (patched) kafkajs, both ways', async () => {
			const address = await brokers();
			const topic = unique('dist');
			const kafka = tool(address);
			await kafka.createTopics([{topic}, {topic: `${topic}-errors`}]);
			await kafka.disconnect();
			const sent = lines(fixture('Linux_2k.log')).slice(0, 300);
			const published = await run(launcher(), ['publish', '--to', `kafka://${address}/${topic}`, '--service', 'auth'], {input: sent.join('\n') + '\n'}, 60_000);
			expect(published.stderr).toContain(`${sent.length} records to ${topic}`);
			expect(published.code).toBe(0);
			const consumed = await run(launcher(), ['--no-ui', '--no-stdin', '--kafka', address, '--topic', topic, '--ephemeral', '--from-beginning', '--exit-at-end', '-o', 'json'], {}, 90_000);
			expect(consumed.code, consumed.stderr).toBe(0);
			const got = events(consumed.stdout);
			expect(got.map(e => e.message)).toEqual(sent);
			expect(new Set(got.map(e => e.service))).toEqual(new Set(['auth']));
		});
	});

	describe('the UI in a real terminal (tmux)', () => {
		let tmux: Tmux | undefined;
		beforeAll(() => {
			prepareTmux();
		}, 300_000);
		afterEach(() => {
			tmux?.kill();
			tmux = undefined;
		});

		test('--demo draws every pane with both sources live (DEV=true too); q quits and leaves the terminal clean', async () => {
			// DEV=true made a bundled Ink read a package.json beside the bundle, and logmon end with ENOENT.
			const l = launcher();
			tmux = new Tmux(paneCommand({...l, env: {...l.env, DEV: 'true'}}, '--demo'), 100, 30);
			// At 100 columns the demo's live sources fold into a count so the rate and drops stay in sight;
			// a source that is not live yet would still show by name.
			const screen = await tmux.waitFor(s => /\d sources: live/.test(s) && !s.includes('logstream: ') && !s.includes('logio: ') && /zookeeper|hadoop|spark|openstack|hdfs|sshd/.test(s), 30_000);
			for (const title of ['Tail', 'Errors', 'Services', 'Toggles', 'drops']) {
				expect(screen).toContain(title);
			}

			expect(tmux.format('#{alternate_on}')).toBe('1');
			tmux.keys(['q']);
			const after = await tmux.waitFor('DONE');
			expect(/EXIT=(\d+)/.exec(after)?.[1]).toBe('0');
			expect((/MODES=(.*)/.exec(after)?.[1] ?? '').split(' ')).toEqual(expect.arrayContaining(['icanon', 'echo', 'isig']));
			expect(tmux.format('#{cursor_flag}')).toBe('1');
			expect(tmux.format('#{alternate_on}')).toBe('0');
		});
	});

	test('cloudwatch: --forward cloudwatch:// loads the AWS SDK from inside logmon and puts every line, quietly', async () => {
		const server = await new StrictCloudwatch().listen();
		try {
			const l = launcher();
			const sent = lines(fixture('OpenSSH_2k.log')).slice(0, 500);
			const env = {...l.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true'};
			const child = spawn(l.command, ['-o', 'raw', '--forward', `cloudwatch://us-east-1?endpoint=${server.endpoint}&group=dist&stream=sshd&delay=0.5`], {cwd: l.cwd, env, stdio: ['pipe', 'pipe', 'pipe']});
			running.push(child);
			const result = collect(child, 60_000);
			// stdin stays open until the server has every line: the exit leaves a busy machine 2 s only.
			child.stdin!.write(sent.join('\n') + '\n');
			await until(() => server.events('dist', 'sshd').length >= sent.length, 'every line at the strict CloudWatch server', 30_000);
			child.stdin!.end();
			const r = await result;
			expect(r.code, r.stderr).toBe(0);
			expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|internal error|ENOENT/);
			expect(server.events('dist', 'sshd').map(e => e.message)).toEqual(sent);
		} finally {
			await server.close();
		}
	});

	test('history: a pipe run keeps its events with --history, logmon query reads them back', async () => {
		const l = launcher();
		const file = fixture('Apache_2k.log');
		const dir = path.join(l.cwd, 'history');
		const kept = await run(l, ['-o', 'raw', '--history', '--history-dir', dir], {stdinFile: file});
		expect(kept.code).toBe(0);
		const count = await run(l, ['query', '--history-dir', dir, '--count']);
		expect(count.stdout.trim()).toBe(String(lines(file).length));
		const errors = await run(l, ['query', '--history-dir', dir, '--level', 'error', '-o', 'raw']);
		expect(errors.code).toBe(0);
		expect(errors.stdout).toBe(lines(file).filter(l => l.includes('[error]')).join('\n') + '\n');
	});
}

export function makeDir(dir: string): string {
	mkdirSync(dir, {recursive: true});
	return dir;
}
