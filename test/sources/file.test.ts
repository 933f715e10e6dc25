import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterAll, afterEach, describe, expect, test} from 'vitest';
import {bin, collect, root, run, start, until, waitFor} from '../support/logmon.js';

// The file source against real files and the built binary: rotation under a steady writer
// (a separate process), globs that gain files, gzip, partial lines, unreadable files, and
// multi-line events from files and stdin.

const dir = mkdtempSync(path.join(tmpdir(), 'logmon-files-'));
chmodSync(dir, 0o755);
const children: ChildProcess[] = [];
afterEach(() => {
	for (const c of children.splice(0)) {
		c.kill('SIGTERM');
	}
});
afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

let counter = 0;
function freshDir(): string {
	const d = path.join(dir, `case-${++counter}`);
	mkdirSync(d, {mode: 0o755});
	return d;
}

/** logmon following `args`, its stdout gathered line by line. */
function follow(args: string[], options: {uid?: number; env?: NodeJS.ProcessEnv} = {}): {child: ChildProcess; lines: () => string[]; stderr: () => string} {
	const child = options.uid === undefined
		? start(['--no-ui', ...args], {stdin: 'ignore', env: options.env})
		: spawn(process.execPath, [bin, '--no-ui', ...args], {
			uid: options.uid,
			gid: options.uid,
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {...process.env, XDG_CONFIG_HOME: path.join(root, 'test', 'fixtures', 'no-config'), XDG_STATE_HOME: dir, ...options.env},
		});
	children.push(child);
	let out = '';
	let err = '';
	child.stdout!.setEncoding('utf8').on('data', (d: string) => {
		out += d;
	});
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		err += d;
	});
	return {child, lines: () => out.split('\n').slice(0, -1), stderr: () => err};
}

const fixture = (name: string): string => readFileSync(path.join(root, 'test', 'fixtures', 'multiline', name), 'utf8');

async function writer(file: string, mode: 'rename' | 'copytruncate' | 'slowcopy', lines: number, rotations: number): Promise<string> {
	const child = spawn(process.execPath, [path.join(root, 'test', 'support', 'rotating-writer.mjs'), file, mode, String(lines), String(rotations)], {stdio: ['ignore', 'pipe', 'inherit']});
	children.push(child);
	const result = await collect(child, 120_000);
	expect(result.code).toBe(0);
	return result.stdout;
}

function numbered(lines: string[]): number[] {
	return lines.filter(l => l.startsWith('line ')).map(l => Number(l.slice(5, 11)));
}

describe('file source', () => {
	for (const mode of ['rename', 'copytruncate'] as const) {
		test(`rotation by ${mode} under a steady writer: 20 rotations, no line lost or repeated`, async () => {
			const d = freshDir();
			const file = path.join(d, 'app.log');
			writeFileSync(file, 'ready\n');
			const f = follow(['-o', 'raw', '--from-beginning', file]);
			await until(() => f.lines().includes('ready'), 'the first line');
			const total = 12_000;
			expect(await writer(file, mode, total, 20)).toBe('done 20\n');
			const last = `line ${String(total - 1).padStart(6, '0')} from a steady writer`;
			await until(() => f.lines().includes(last), `the last line; stderr: ${f.stderr()}`, 60_000);
			const seen = numbered(f.lines());
			expect(seen).toHaveLength(total);
			expect(seen).toEqual(Array.from({length: total}, (_, i) => i));
			expect(f.stderr()).not.toMatch(/lines may be missing|no rotated copy/);
		});
	}

	test('copy-truncate with a glob that matches the copies too (app.log*), each copy found while it is written: no line repeated', async () => {
		const d = freshDir();
		const file = path.join(d, 'app.log');
		writeFileSync(file, 'ready\n');
		const f = follow(['-o', 'raw', '--from-beginning', path.join(d, 'app.log*')]);
		await until(() => f.lines().includes('ready'), 'the first line');
		const total = 12_000;
		expect(await writer(file, 'slowcopy', total, 6)).toBe('done 6\n');
		const last = `line ${String(total - 1).padStart(6, '0')} from a steady writer`;
		await until(() => f.lines().includes(last), `the last line; stderr: ${f.stderr()}`, 60_000);
		// A moment for any copy still being read.
		await new Promise(resolve => setTimeout(resolve, 500));
		expect(numbered(f.lines())).toEqual(Array.from({length: total}, (_, i) => i));
		expect(f.stderr()).toMatch(/app\.log\.1: new, and named as a rotation of .*app\.log: a copy of it/);
	});

	for (const mode of ['rename', 'copytruncate'] as const) {
		test(`rotation by ${mode} while logmon's reader is stalled (the bus pauses the source): no line lost or repeated`, async () => {
			const d = freshDir();
			const file = path.join(d, 'app.log');
			writeFileSync(file, 'ready\n');
			const f = follow(['-o', 'raw', '--from-beginning', file]);
			await until(() => f.lines().includes('ready'), 'the first line');
			// Nobody reads logmon's stdout while the writer runs: its pipe fills, its queue fills, and the
			// bus pauses the file source through all 20 rotations.
			f.child.stdout!.pause();
			const total = 12_000;
			expect(await writer(file, mode, total, 20)).toBe('done 20\n');
			f.child.stdout!.resume();
			const last = `line ${String(total - 1).padStart(6, '0')} from a steady writer`;
			await until(() => f.lines().includes(last), `the last line; stderr: ${f.stderr()}`, 60_000);
			expect(numbered(f.lines())).toEqual(Array.from({length: total}, (_, i) => i));
		});
	}

	for (const glob of [false, true]) {
		test(`rotations by rename that come and go while logmon is stopped are read, whole and in order${glob ? ', with a glob that matches the rotations too (app.log*)' : ''}`, async () => {
		const d = freshDir();
		const file = path.join(d, 'app.log');
		writeFileSync(file, 'ready\n');
		// With the glob, the followed file is found again under a rotation's name, and the ones made
		// between two checks are new files under rotations' names, as copy-truncate's copies are.
		const f = follow(['-o', 'raw', '--from-beginning', glob ? `${file}*` : file]);
		await until(() => f.lines().includes('ready'), 'the first line');
		// Stopped, logmon sees none of the three rotations happen: app.log.1 and app.log.2 were made and
		// rotated away between two of its checks.
		f.child.kill('SIGSTOP');
		for (let gen = 0; gen < 3; gen++) {
			appendFileSync(file, `gen ${gen} a\ngen ${gen} b\n`);
			renameSync(file, `${file}.${3 - gen}`);
			writeFileSync(file, '');
		}

		appendFileSync(file, 'gen 3 a\n');
		f.child.kill('SIGCONT');
		await until(() => f.lines().includes('gen 3 a'), 'the newest line');
		await until(() => f.lines().length >= 8, `every line; got ${f.lines().join(' | ')}`);
		expect(f.lines()).toEqual(['ready', 'gen 0 a', 'gen 0 b', 'gen 1 a', 'gen 1 b', 'gen 2 a', 'gen 2 b', 'gen 3 a']);
		});
	}

	test('a file rotated away is still read while its writer has not reopened the log', async () => {
		const d = freshDir();
		const file = path.join(d, 'svc.log');
		writeFileSync(file, '');
		const f = follow(['-o', 'raw', file]);
		await until(() => {
			appendFileSync(file, 'probe\n');
			return f.lines().includes('probe');
		}, 'following');
		renameSync(file, `${file}.1`);
		writeFileSync(file, 'in the new file\n');
		await until(() => f.lines().includes('in the new file'), 'the new file');
		appendFileSync(`${file}.1`, 'late, into the old file\n');
		await until(() => f.lines().includes('late, into the old file'), 'the late line');
		expect(f.lines().filter(l => l !== 'probe')).toEqual(['in the new file', 'late, into the old file']);
	});

	test('a glob gains a file; its service is the base name; a gzip rotation it matches later is not read', async () => {
		const d = freshDir();
		writeFileSync(path.join(d, 'a.log'), 'old line, before logmon\n');
		const f = follow(['-o', 'json', path.join(d, '*.log*')]);
		await until(() => f.child.pid, 'start');
		// The line written after the start shows that a.log is followed (from its end).
		await until(() => {
			appendFileSync(path.join(d, 'a.log'), 'a: probe\n');
			return f.lines().length > 0;
		}, 'a.log followed');
		writeFileSync(path.join(d, 'web-api.log'), 'first line of a new file\nsecond\n');
		await until(() => f.lines().some(l => l.includes('second')), 'the new file\'s lines');
		writeFileSync(path.join(d, 'a.log.2.gz'), gzipSync('compressed, not to be read\n'));
		appendFileSync(path.join(d, 'a.log'), 'a: after the gzip\n');
		await until(() => f.lines().some(l => l.includes('after the gzip')), 'a line after the gzip');
		const events = f.lines().map(l => JSON.parse(l) as {service: string; proc: string; message: string; kind: string});
		expect(events.some(e => e.message.includes('before logmon'))).toBe(false);
		const fresh = events.filter(e => e.proc === 'web-api.log');
		expect(fresh.map(e => e.message)).toEqual(['first line of a new file', 'second']);
		expect(fresh[0]).toMatchObject({service: 'web-api', kind: 'file'});
		expect(events.find(e => e.proc === 'a.log')).toMatchObject({service: 'a'});
		expect(events.some(e => e.message.includes('compressed'))).toBe(false);
	});

	/**
	 * `d/*\/logs/*.log` followed with checks a minute apart, so only change events can find a new
	 * directory's file within the wait; `made(d)` makes billing/logs/ once api's log is followed.
	 * `name`: a plain last segment instead of `*.log`, the name of both services' files.
	 */
	async function billingFound(made: (d: string) => void, before: (d: string) => void = () => undefined, name?: string): Promise<void> {
		const d = freshDir();
		const api = path.join(d, 'api', 'logs', name ?? 'api.log');
		mkdirSync(path.dirname(api), {recursive: true});
		writeFileSync(api, '');
		before(d);
		const config = path.join(d, 'config.json');
		writeFileSync(config, JSON.stringify({sources: [{type: 'file', paths: [path.join(d, '*', 'logs', name ?? '*.log')], pollMs: 60_000}]}));
		const f = follow(['-o', 'raw', '--config', config]);
		await until(() => {
			appendFileSync(api, 'api: probe\n');
			return f.lines().includes('api: probe');
		}, 'api\'s log followed');
		made(d);
		const billing = path.join(d, 'billing', 'logs', name ?? 'billing.log');
		await until(() => {
			appendFileSync(billing, 'billing: probe\n');
			return f.lines().includes('billing: probe');
		}, 'billing\'s log followed, found through change events');
	}

	test('a directory made later, under a glob, is listed and watched through change events, not only at the next check', async () => {
		await billingFound(d => mkdirSync(path.join(d, 'billing', 'logs'), {recursive: true}));
	});

	test('a directory made in steps under a glob (the service directory first, its logs directory later) is found through change events', async () => {
		// billing/ is there from the start, billing/logs/ not yet: only a watch on billing/ sees it made.
		await billingFound(d => mkdirSync(path.join(d, 'billing', 'logs')), d => mkdirSync(path.join(d, 'billing')));
	});

	test('the same with a plain file name last (`*/logs/app.log`)', async () => {
		await billingFound(d => mkdirSync(path.join(d, 'billing', 'logs')), d => mkdirSync(path.join(d, 'billing')), 'app.log');
	});

	test('many files read from the beginning while stdout is slow: the bus pauses every file, nothing is dropped', async () => {
		// Reading resumes file by file; a file that published as it was resumed could pause the rest,
		// then see the others resumed behind it and read on past the queue's bounds.
		const d = freshDir();
		const files = 30;
		const lines = 8000;
		for (let f = 0; f < files; f++) {
			writeFileSync(path.join(d, `svc-${f}.log`), Array.from({length: lines}, (_, i) => `svc-${f} line ${i} ${'x'.repeat(60)}`).join('\n') + '\n');
		}

		const child = start(['--no-ui', '-o', 'raw', '--from-beginning', path.join(d, '*.log')], {stdin: 'ignore'});
		children.push(child);
		let out = 0;
		let err = '';
		child.stderr!.setEncoding('utf8').on('data', (t: string) => {
			err += t;
		});
		// Read slowly: a pause every 64 KiB.
		child.stdout!.on('data', (b: Buffer) => {
			for (let at = b.indexOf(0x0A); at !== -1; at = b.indexOf(0x0A, at + 1)) {
				out++;
			}

			child.stdout!.pause();
			setTimeout(() => child.stdout!.resume(), 2);
		});
		await until(() => out >= files * lines || /dropped/.test(err), 'every line', 120_000);
		child.kill('SIGTERM');
		await new Promise(resolve => child.once('close', resolve));
		expect(err).not.toMatch(/dropped/);
		expect(out).toBe(files * lines);
	}, 180_000);

	test('a gzip file named is read whole, and logmon ends after it', async () => {
		const d = freshDir();
		const lines = Array.from({length: 5000}, (_, i) => `gz line ${i}`);
		const file = path.join(d, 'app.log.3.gz');
		writeFileSync(file, gzipSync(lines.join('\n') + '\n'));
		const r = await run(['--no-ui', '-o', 'raw', file]);
		expect(r.code).toBe(0);
		expect(r.stdout.split('\n').slice(0, -1)).toEqual(lines);
	});

	test('gzip files named alone, none readable: said as zcat says it, and exit 1 (it was 0)', async () => {
		const d = freshDir();
		const fake = path.join(d, 'fake.gz');
		writeFileSync(fake, 'not gzip\n');
		const cut = path.join(d, 'cut.log.1.gz');
		writeFileSync(cut, gzipSync(Array.from({length: 1000}, (_, i) => `line ${i}`).join('\n')).subarray(0, 30));
		const r = await run(['--no-ui', '-o', 'raw', fake, cut]);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain('fake.gz: unreadable: not in gzip format, or damaged');
		expect(r.stderr).toContain('cut.log.1.gz: unreadable: unexpected end of file (a gzip file cut short)');
		expect(r.stderr).not.toContain('unreadable: unreadable');
		// One readable beside them: it ends as read, 0.
		const good = path.join(d, 'good.log.2.gz');
		writeFileSync(good, gzipSync('fine\n'));
		const some = await run(['--no-ui', '-o', 'raw', fake, good]);
		expect(some.code).toBe(0);
		expect(some.stdout).toBe('fine\n');
	});

	test('a corrupt gzip file is said, and not an exit', async () => {
		const d = freshDir();
		const bad = path.join(d, 'bad.log.1.gz');
		writeFileSync(bad, Buffer.concat([gzipSync('good start\n').subarray(0, 12), Buffer.from('not gzip at all')]));
		const ok = path.join(d, 'ok.log');
		writeFileSync(ok, '');
		const f = follow(['-o', 'raw', bad, ok]);
		await until(() => /bad\.log\.1\.gz: /.test(f.stderr()), 'the corrupt file said');
		await until(() => {
			appendFileSync(ok, 'still following\n');
			return f.lines().includes('still following');
		}, 'the other file still followed');
	});

	test('a partial last line waits for its newline, then a short while at the end of the file', async () => {
		const d = freshDir();
		const file = path.join(d, 'p.log');
		writeFileSync(file, '');
		const f = follow(['-o', 'raw', file]);
		await until(() => {
			appendFileSync(file, 'probe\n');
			return f.lines().includes('probe');
		}, 'following');
		appendFileSync(file, 'hel');
		appendFileSync(file, 'lo\n');
		await until(() => f.lines().includes('hello'), 'a line written in two parts');
		appendFileSync(file, 'no newline yet');
		await until(() => f.lines().includes('no newline yet'), 'the partial line let go');
		appendFileSync(file, 'next\n');
		await until(() => f.lines().includes('next'), 'the next line');
		expect(f.lines().filter(l => l !== 'probe')).toEqual(['hello', 'no newline yet', 'next']);
	});

	test('an unreadable file is a per-file state, said on stderr, and followed once it can be read', async () => {
		const d = freshDir();
		const secret = path.join(d, 'secret.log');
		const ok = path.join(d, 'ok.log');
		writeFileSync(secret, 'hidden\n', {mode: 0o644});
		writeFileSync(ok, '', {mode: 0o666});
		chmodSync(secret, 0o000);
		// Root reads any file whatever its mode: logmon runs as nobody then.
		const uid = process.getuid?.() === 0 ? 65_534 : undefined;
		const f = follow(['-o', 'raw', secret, ok], {uid});
		await waitFor(f.child.stderr!, /secret\.log: unreadable: permission denied/);
		await until(() => {
			appendFileSync(ok, 'ok line\n');
			return f.lines().includes('ok line');
		}, 'the readable file followed');
		chmodSync(secret, 0o644);
		await until(() => f.stderr().includes('secret.log: readable now'), 'the file readable again');
		appendFileSync(secret, 'now readable\n');
		await until(() => f.lines().includes('now readable'), 'its new lines');
		expect(f.child.exitCode).toBe(null);
		expect(f.lines()).not.toContain('hidden');
	});

	test('a directory named as a file, and a missing file, are said; logmon waits for the missing one', async () => {
		const d = freshDir();
		const asDir = path.join(d, 'dir.log');
		mkdirSync(asDir);
		const later = path.join(d, 'later.log');
		const f = follow(['-o', 'raw', asDir, later]);
		await until(() => f.stderr().includes('dir.log: a directory, not a file') && f.stderr().includes('later.log: missing, waiting for it'), 'both said');
		writeFileSync(later, 'it came\n');
		await until(() => f.lines().includes('it came'), 'the file that appeared, read from its start');
	});

	test('a pattern that matches no file is said once, as a missing file is; a file that comes to match it is read', async () => {
		const d = freshDir();
		const f = follow(['-o', 'raw', path.join(d, '*.lgo')]);
		await until(() => f.stderr().includes('*.lgo: no file matches it yet, waiting for one'), 'said');
		writeFileSync(path.join(d, 'app.lgo'), 'it matched\n');
		await until(() => f.lines().includes('it matched'), 'the file that came to match, read from its start');
		// Once as a problem (the retry line of the state says it too, once).
		expect(f.stderr().split('\n').filter(l => /^logmon: file: \S+\*\.lgo: no file matches/.test(l))).toHaveLength(1);
	});

	test('a FIFO named like a rotated copy, or matched by the glob, is not waited on: the file goes on, and SIGTERM stops logmon', async () => {
		const d = freshDir();
		const file = path.join(d, 'app.log');
		writeFileSync(file, '');
		execFileSync('mkfifo', [path.join(d, 'app.log.1'), path.join(d, 'pipe.log')]);
		const f = follow(['-o', 'raw', '--no-multiline', path.join(d, '*.log')]);
		await until(() => {
			appendFileSync(file, 'probe\n');
			return f.lines().includes('probe');
		}, 'following');
		appendFileSync(file, 'before the truncation\n');
		await until(() => f.lines().includes('before the truncation'), 'the line before');
		// Truncated: the rest of the old content is looked for in rotated copies (app.log.1 is a FIFO).
		writeFileSync(file, '');
		await until(() => {
			appendFileSync(file, 'after the truncation\n');
			return f.lines().includes('after the truncation');
		}, 'the line after the truncation');
		// A file that is globbed later is still picked up.
		writeFileSync(path.join(d, 'late.log'), 'a later file\n');
		await until(() => f.lines().includes('a later file'), 'a file globbed later');
		f.child.kill('SIGTERM');
		expect(await new Promise(resolve => f.child.once('exit', (code, signal) => resolve(code ?? signal)))).toBe(143);
	});

	test('escape sequences and newlines in a file name reach neither stdout nor stderr', async () => {
		const d = freshDir();
		const file = path.join(d, 'red\u001B]2;PWNED\u0007\u001B[31m\nx.log');
		writeFileSync(file, '');
		const f = follow(['-o', 'text', '--no-multiline', path.join(d, '*.log')]);
		await until(() => {
			appendFileSync(file, 'probe\n');
			return f.lines().some(l => l.includes('probe'));
		}, 'following');
		renameSync(file, path.join(d, 'moved.txt'));
		await until(() => f.stderr().includes('renamed or removed'), 'the rename said');
		expect(f.lines().find(l => l.includes('probe'))).toMatch(/ red\\x0ax\[red\\x0ax\.log\] INFO: probe$/);
		expect(f.lines().join('\n') + f.stderr()).not.toMatch(/\u001B|\u0007/);
		expect(f.stderr()).toContain('\\x0ax.log: renamed or removed');
	});

	test('multi-line events from a file: Java, Python and Go traces', async () => {
		const d = freshDir();
		const file = path.join(d, 'traces.log');
		writeFileSync(file, '');
		const f = follow(['-o', 'json', file]);
		await until(() => {
			appendFileSync(file, 'probe\n');
			return f.lines().length > 0;
		}, 'following');
		appendFileSync(file, fixture('java.log') + fixture('python.log') + fixture('go.log'));
		await until(() => f.lines().some(l => l.includes('restarted, listening')), 'the last event');
		const events = f.lines().map(l => JSON.parse(l) as {raw: string; message: string; level: string}).filter(e => !e.raw.startsWith('probe'));
		expect(events.map(e => e.raw.split('\n').length)).toEqual([1, 9, 1, 3, 1, 1, 7, 1, 11, 1, 1, 8, 1]);
		expect(events[1]!.level).toBe('ERROR');
		expect(events[1]!.message).toContain(' ⏎ java.lang.IllegalStateException: payment gateway answered 502 ⏎ ');
		expect(events[11]!.raw).toBe(fixture('go.log').split('\n').slice(1, 9).join('\n'));
	});

	test('multi-line events from stdin; --no-multiline and --multiline-start', async () => {
		const input = fixture('java.log');
		const joined = await run(['--no-ui', '-o', 'raw'], {input});
		expect(joined.code).toBe(0);
		expect(joined.stdout).toBe(input);
		const json = await run(['--no-ui', '-o', 'json'], {input});
		expect(json.stdout.trim().split('\n')).toHaveLength(5);
		const off = await run(['--no-ui', '-o', 'json', '--no-multiline'], {input});
		expect(off.stdout.trim().split('\n')).toHaveLength(15);
		const byStart = await run(['--no-ui', '-o', 'json', '--multiline-start', String.raw`^\d{4}-\d\d-\d\d `], {input});
		expect(byStart.stdout.trim().split('\n').map(l => (JSON.parse(l) as {raw: string}).raw.split('\n').length)).toEqual([1, 9, 4, 1]);
		const bad = await run(['--no-ui', '--multiline-start', '(a']);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/--multiline-start: invalid regular expression/);
	});

	test('a mistyped command is not taken for a file that may appear later', async () => {
		const r = await run(['--no-ui', 'sevre']);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/unknown command "sevre"/);
	});

	test('- names stdin, as for cat and tail, beside files too', async () => {
		const d = freshDir();
		const gz = path.join(d, 'old.log.1.gz');
		writeFileSync(gz, gzipSync('from the file\n'));
		const r = await run(['--no-ui', '-o', 'raw', '-', gz], {input: 'from stdin\n'});
		expect(r.code).toBe(0);
		expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['from stdin', 'from the file']);
		const both = await run(['--no-ui', '--no-stdin', '-'], {input: 'x\n'});
		expect(both.code).toBe(2);
		expect(both.stderr).toMatch(/^logmon: -: stdin is named as a file, and --no-stdin leaves it out/);
	});
});
