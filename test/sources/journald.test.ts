import {type ChildProcess, execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {collect, root, run, start, until} from '../support/logmon.js';
import {type Journal, startJournal, unavailable} from '../support/journald.js';

// journalctl -o json output read by logmon: a fixture captured from a real journal (through
// stdin), a systemd-journald of the test's own when the machine can run one (stdin and
// --journal, following live and resuming after journalctl dies), and the error where there is
// no journalctl.

const fixture = path.join(root, 'test', 'fixtures', 'journald', 'journalctl-json.ndjson');

type Line = {service: string; host: string; proc: string; level: string; message: string; raw: string; time: string; kind: string; record: Record<string, unknown>};

function lines(stdout: string): Line[] {
	return stdout.split('\n').filter(Boolean).map(l => JSON.parse(l) as Line);
}

describe('journalctl -o json on stdin', () => {
	test('the fields map, byte-array messages are decoded, escapes neutralised', async () => {
		const input = readFileSync(fixture);
		const entries = input.toString('utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>);
		const result = await run(['--no-ui', '-o', 'json'], {input});
		expect(result.code).toBe(0);
		const got = lines(result.stdout);
		expect(got).toHaveLength(entries.length);
		const by = (service: string) => got.find(l => l.service === service)!;
		const myapp = entries.find(e => e['SYSLOG_IDENTIFIER'] === 'myapp')!;
		expect(by('myapp')).toMatchObject({kind: 'stdin', host: 'vm', proc: myapp['_PID'], level: 'ERROR', message: 'hello error'});
		expect(Date.parse(by('myapp').time)).toBe(Math.floor(Number(myapp['__REALTIME_TIMESTAMP']) / 1000));
		// MESSAGE written as byte values: the bytes that are not UTF-8 become U+FFFD.
		expect(entries.find(e => e['SYSLOG_IDENTIFIER'] === 'binapp')!['MESSAGE']).toBeInstanceOf(Array);
		expect(by('binapp')).toMatchObject({level: 'WARN', message: 'bad \uFFFD\uFFFD bytes'});
		expect(by('app')).toMatchObject({level: 'WARN', message: 'esc red'});
		expect(by('kernel-ish').level).toBe('CRITICAL');
		expect(by('nginx').level).toBe('NOTICE');
		expect(by('cron').level).toBe('DEBUG');
		expect(by('sshd')).toMatchObject({level: 'INFO', message: 'ünïcödé ok ✓'});
		expect(by('systemd-journald').message).toBe('Journal started');
	});

	test('a JSON line that is not a journal entry is still an ordinary record', async () => {
		const result = await run(['--no-ui', '-o', 'json'], {input: '{"level":"error","message":"plain record","service":"api"}\n'});
		expect(lines(result.stdout)).toMatchObject([{service: 'api', level: 'ERROR', message: 'plain record'}]);
	});
});

describe('--journal', () => {
	test('where there is no journalctl, logmon says so and exits 1', async () => {
		const empty = mkdtempSync(path.join(tmpdir(), 'logmon-no-journalctl-'));
		const result = await run(['--no-ui', '--journal'], {env: {PATH: empty}});
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/journalctl not found: --journal runs systemd's journalctl/);
	});

	test('an entry longer than --max-line is cut once: journalctl run again goes on after it, not into it again', async () => {
		// A stand-in journalctl (a shell script writing what journalctl writes, cursor first): a real
		// journal cannot be made to stop right after a given entry. Its first run writes c1 and a
		// 5,000-byte c2, then exits; a run --after-cursor writes what follows that cursor.
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-journalctl-'));
		const journalctl = path.join(dir, 'journalctl');
		const entry = (cursor: string, message: string): string => JSON.stringify({__CURSOR: cursor, __REALTIME_TIMESTAMP: '1700000000000000', MESSAGE: message, PRIORITY: '6'});
		writeFileSync(journalctl, [
			'#!/bin/sh',
			`echo "$*" >> ${dir}/runs`,
			'case "$*" in',
			`*"--after-cursor c1"*) echo '${entry('c2', 'second ' + 'x'.repeat(5000))}'; echo '${entry('c3', 'third')}'; exec sleep 30;;`,
			`*"--after-cursor c2"*) echo '${entry('c3', 'third')}'; exec sleep 30;;`,
			`*) echo '${entry('c1', 'first')}'; echo '${entry('c2', 'second ' + 'x'.repeat(5000))}'; exit 1;;`,
			'esac',
			'',
		].join('\n'), {mode: 0o755});
		const config = path.join(dir, 'config.json');
		writeFileSync(config, JSON.stringify({sources: [{type: 'journald', journalctl}]}));
		const child = start(['--no-ui', '-o', 'json', '--max-line', '1024', '--config', config]);
		let stdout = '';
		child.stdout!.setEncoding('utf8').on('data', (d: string) => {
			stdout += d;
		});
		const output = collect(child);
		await until(() => stdout.includes('third'), 'the entry after the long one');
		child.kill('SIGTERM');
		// The cut entry is no longer JSON: it is shown as its text, marked, once.
		const messages = lines((await output).stdout).map(l => l.message.slice(0, 16));
		expect(messages).toEqual(['first', '{"__CURSOR":"c2"', 'third']);
		expect(readFileSync(path.join(dir, 'runs'), 'utf8')).toMatch(/--after-cursor c2/);
	});
});

const why = unavailable();
if (why) {
	console.warn(`SKIPPED: the journald tests with a real systemd-journald: ${why}`);
}

describe.skipIf(why !== undefined)('a real systemd-journald', () => {
	let journal: Journal | undefined;
	const children: ChildProcess[] = [];
	afterEach(async () => {
		for (const c of children.splice(0)) {
			c.kill('SIGKILL');
		}

		await journal?.stop();
		journal = undefined;
	});

	test('journalctl -o json | logmon, and --journal following live, resuming after journalctl dies', async () => {
		journal = await startJournal();
		await journal.send('billing', 'user.err', 'invoice 17 failed');
		await journal.send('billing', 'user.warning', Buffer.from([0x62, 0x69, 0x6E, 0xFF, 0x0A]));

		// What journalctl writes, piped in, once journald has stored both (logger only hands them to its socket).
		const journalctl = journal.journalctl;
		const written = await until(() => {
			const out = execFileSync(journalctl, ['-o', 'json']);
			return out.toString().split('\n').filter(l => l.includes('"SYSLOG_IDENTIFIER":"billing"')).length >= 2 ? out : undefined;
		}, 'journald to store both entries');
		const piped = lines((await run(['--no-ui', '-o', 'json'], {input: written})).stdout);
		expect(piped.filter(l => l.service === 'billing')).toMatchObject([
			{level: 'ERROR', message: 'invoice 17 failed'},
			{level: 'WARN', message: 'bin\uFFFD'},
		]);

		// The source runs journalctl itself (here, one that reads the test's namespace).
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-journal-config-'));
		const config = path.join(dir, 'config.json');
		writeFileSync(config, JSON.stringify({sources: [{type: 'journald', journalctl: journal.journalctl}]}));
		const child = start(['--no-ui', '-o', 'json', '--config', config]);
		children.push(child);
		let stdout = '';
		child.stdout!.setEncoding('utf8').on('data', (d: string) => {
			stdout += d;
		});
		const output = collect(child);
		await until(() => stdout.includes('invoice 17 failed'), 'the recent entries journalctl -f shows first');
		for (let i = 0; i < 20; i++) {
			await journal.send('live', 'user.info', `live ${i}`);
		}

		await until(() => lines(stdout).filter(l => l.service === 'live').length === 20, 'the 20 live entries');

		// journalctl dies: it is run again from the last cursor, and nothing is lost or repeated.
		const journalctlPid = Number(execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], {encoding: 'utf8'}).trim().split('\n')[0]);
		process.kill(journalctlPid, 'SIGKILL');
		for (let i = 20; i < 40; i++) {
			await journal.send('live', 'user.info', `live ${i}`);
		}

		await until(() => lines(stdout).filter(l => l.service === 'live').length >= 40, 'the entries logged while journalctl was down');
		child.kill('SIGTERM');
		const result = await output;
		const live = lines(result.stdout).filter(l => l.service === 'live').map(l => l.message);
		expect(live).toEqual(Array.from({length: 40}, (_, i) => `live ${i}`));
		expect(result.stderr).toMatch(/journalctl was killed by SIGKILL|retrying/);
	});
});
