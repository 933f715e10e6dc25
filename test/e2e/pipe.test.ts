import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {beforeAll, describe, expect, it} from 'vitest';
import {collect, corpus, root, run, start, waitFor} from '../support/logmon.js';

const apache = readFileSync(path.join(corpus, 'Apache_2k.log'), 'utf8');
// The fixture has CRLF line ends; logmon drops the CR, as line readers do.
const apacheLines = apache.split(/\r?\n/).filter(Boolean);

function rssKb(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

beforeAll(() => {
	// The suite runs the built binary; `npm test` builds first.
	readFileSync(path.join(root, 'dist', 'main.js'));
});

describe('pipe mode, end to end', () => {
	it('writes the filtered stream: --grep, --level, -o raw keeps lines exactly', async () => {
		const raw = await run(['-o', 'raw', '--grep', 'error state'], {input: apache});
		expect(raw.code).toBe(0);
		expect(raw.stdout).toBe(apacheLines.filter(l => l.includes('error state')).map(l => `${l}\n`).join(''));

		const text = await run(['--level', 'error'], {input: apache});
		const out = text.stdout.trim().split('\n');
		expect(out).toHaveLength(apacheLines.filter(l => l.includes('] [error] ')).length);
		expect(out[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdin ERROR: \[Sun Dec 04 04:47:44 2005\] \[error\] mod_jk child workerEnv in error state 6$/);
	});

	it('-o json is NDJSON of LogEvent with the original record; -o template fills fields', async () => {
		const input = '{"timestamp":"2024-05-01T10:00:00Z","level":"error","service":"billing","host":"b-1","logger":"pay","message":"card declined","order":42}\nplain line\n';
		const json = await run(['-o', 'json'], {input});
		const [first, second] = json.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>);
		expect(first).toMatchObject({seq: 1, time: '2024-05-01T10:00:00.000Z', source: 'stdin', kind: 'stdin', service: 'billing', host: 'b-1', proc: 'pay', level: 'ERROR', message: 'card declined'});
		expect((first!['record'] as Record<string, unknown>)['order']).toBe(42);
		expect(second).toMatchObject({service: 'stdin', level: 'INFO', message: 'plain line'});

		const tpl = await run(['-o', 'template', '--template', '{service}|{level}|{message}'], {input});
		expect(tpl.stdout).toBe('billing|ERROR|card declined\nstdin|INFO|plain line\n');
		const bad = await run(['--template', '{nope}'], {input});
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/--template: unknown field \{nope\}/);
	});

	it('`| head` closes the pipe: logmon exits 0 at once, with no stack trace', async () => {
		const child = start(['-o', 'raw']);
		child.stdin!.on('error', () => {}); // logmon goes away while we still write
		let lines = 0;
		let writing = true;
		const feed = (): void => {
			while (writing && child.stdin!.write(apache)) {
				// Keep the pipe full until logmon exits.
			}

			if (writing) {
				child.stdin!.once('drain', feed);
			}
		};

		feed();
		const result = new Promise<{code: number | null; stderr: string}>(resolve => {
			let stderr = '';
			child.stderr!.on('data', (d: Buffer) => {
				stderr += d.toString();
			});
			child.once('close', code => {
				writing = false;
				resolve({code, stderr});
			});
		});
		child.stdout!.on('data', (d: Buffer) => {
			lines += d.toString().split('\n').length - 1;
			if (lines >= 5) {
				child.stdout!.destroy(); // what `head -n 5` does
			}
		});
		const {code, stderr} = await result;
		expect(code).toBe(0);
		expect(stderr).toBe('');
	});

	it('a shell pipeline into head exits promptly with status 0', async () => {
		const script = `yes "GET / 200" | node ${JSON.stringify(path.join(root, 'bin', 'logmon.js'))} -o raw | head -n 5; echo "logmon exit \${PIPESTATUS[1]}" >&2`;
		const sh = spawn('bash', ['-c', script], {env: {...process.env, XDG_CONFIG_HOME: tmpdir()}});
		const r = await collect(sh);
		expect(r.stdout).toBe('GET / 200\n'.repeat(5));
		expect(r.stderr).toBe('logmon exit 0\n');
	});

	it('`logmon redact --test` into head exits 0 too; stdout on a full disk is an error that says so, exit 1', async () => {
		const bin = JSON.stringify(path.join(root, 'bin', 'logmon.js'));
		const script = `yes "key AKIAIOSFODNN7EXAMPLE" | head -n 200000 | node ${bin} redact --test | head -n 1; echo "logmon exit \${PIPESTATUS[2]}" >&2; seq 2000 | node ${bin} -o json > /dev/full; echo "full exit $?" >&2`;
		const sh = spawn('bash', ['-c', script], {env: {...process.env, XDG_CONFIG_HOME: tmpdir()}});
		const r = await collect(sh);
		expect(r.stdout).toBe('key [REDACTED:aws-key]\n');
		expect(r.stderr).toBe('logmon exit 0\nlogmon: stdout: cannot write: ENOSPC (no space left on device)\nfull exit 1\n');
	});

	it('SIGTERM flushes what was read, then exits 143', async () => {
		const child = start(['-o', 'raw']);
		const body = apacheLines.map((l, i) => `${i} ${l}\n`).join('');
		child.stdin!.write(body.repeat(5)); // ~850 KB, more than the pipes hold
		child.stdout!.pause(); // a reader that is not reading: logmon holds a backlog
		await new Promise(resolve => setTimeout(resolve, 1500));
		child.kill('SIGTERM');
		child.stdout!.resume();
		const r = await collect(child);
		expect(r.code).toBe(143);
		const m = /SIGTERM: (\d+) events read, (\d+) written/.exec(r.stderr);
		expect(m, r.stderr).not.toBeNull();
		const [read, written] = [Number(m![1]), Number(m![2])];
		expect(read).toBeGreaterThan(0);
		expect(written).toBe(read);
		const out = r.stdout.split('\n').filter(Boolean);
		expect(out).toHaveLength(written);
		const expected = body.repeat(5).split(/\r?\n/);
		expect(out).toEqual(expected.slice(0, out.length)); // in order, every line whole
	});

	it('SIGINT exits 130', async () => {
		const child = start([]);
		child.stdin!.write('hello\n');
		await waitFor(child.stdout!, 'hello');
		child.kill('SIGINT');
		const r = await collect(child);
		expect(r.code).toBe(130);
	});

	it('colour: auto is plain into a pipe, NO_COLOR beats FORCE_COLOR, --color always/never win', async () => {
		const input = 'ERROR boom\n';
		const ansi = /\u001B\[/;
		expect((await run([], {input})).stdout).not.toMatch(ansi);
		expect((await run([], {input, env: {FORCE_COLOR: '1'}})).stdout).toMatch(ansi);
		expect((await run([], {input, env: {FORCE_COLOR: '1', NO_COLOR: '1'}})).stdout).not.toMatch(ansi);
		expect((await run(['--color', 'always'], {input, env: {NO_COLOR: '1'}})).stdout).toMatch(ansi);
		expect((await run(['--color', 'never'], {input, env: {FORCE_COLOR: '1'}})).stdout).toMatch(/Z stdin ERROR: ERROR boom\n$/);
		const bad = await run(['--color', 'sometimes'], {input});
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/--color: expected one of auto, always, never/);
	});

	it('an invalid regex exits 2 with an error naming the flag', async () => {
		const r = await run(['--grep', 'ok', '--exclude', '(oops'], {input: 'x\n'});
		expect(r.code).toBe(2);
		expect(r.stderr).toBe('logmon: --exclude: invalid regular expression "(oops": missing closing ): `(oops`\n');
		const backref = await run(['-g', '(a)\\1'], {input: 'x\n'});
		expect(backref.code).toBe(2);
		expect(backref.stderr).toMatch(/^logmon: --grep: invalid regular expression .*backreferences are not supported/);
		const level = await run(['--level', 'loud'], {input: 'x\n'});
		expect(level.code).toBe(2);
		expect(level.stderr).toMatch(/--level: unknown level "loud"/);
		const unknown = await run(['--bogus'], {input: 'x\n'});
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toBe('logmon: unknown flag --bogus (logmon --help lists them)\n');
		const typo = await run(['--sinec', '5m'], {input: 'x\n'});
		expect(typo.code).toBe(2);
		expect(typo.stderr).toBe('logmon: unknown flag --sinec: did you mean --since? (logmon --help lists them)\n');
		// A flag that needs a value, given none (last, or before another flag): said, not dropped.
		for (const [argv, flag] of [[['--file'], '--file'], [['--grep', '-o', 'raw'], '--grep'], [['-o'], '-o'], [['--level', '--debug'], '--level']] as const) {
			const missing = await run([...argv], {input: 'x\n'}); // eslint-disable-line no-await-in-loop
			expect(missing.code, argv.join(' ')).toBe(2);
			expect(missing.stderr, argv.join(' ')).toMatch(new RegExp(`^logmon: ${flag} needs a value`));
		}

		// A flag's value and what follows -- are not flags; every flag has its --no- form.
		expect((await run(['--grep', '--bogus', '--no-color', '-o', 'raw'], {input: '--bogus\nother\n'})).stdout).toBe('--bogus\n');
	});

	it('history flags while the history is off warn that they do nothing, saying why', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-e2e-'));
		const off = await run(['-o', 'raw', '--history-dir', dir], {input: 'x\n'});
		expect(off.code).toBe(0);
		expect(off.stdout).toBe('x\n');
		expect(off.stderr).toBe('logmon: --history-dir does nothing: the history is off (stdin, files, the journal and --connect keep none unless asked); add --history to keep one\n');
		const no = await run(['-o', 'raw', '--no-history', '--retention', '2d', '--history-max', '1GB'], {input: 'x\n'});
		expect(no.stderr).toMatch(/^logmon: --retention, --history-max do nothing: the history is off \(--no-history\)/);
		const on = await run(['-o', 'raw', '--history', '--history-dir', dir], {input: 'x\n'});
		expect(on.stderr).not.toMatch(/does nothing/);
		rmSync(dir, {recursive: true, force: true});
	});

	it('a value that starts with a dash and a digit belongs to its flag: --since -5m, --tail -5', async () => {
		const since = await run(['--since', '-5m'], {input: 'x\n'});
		expect(since.code).toBe(2);
		expect(since.stderr).toMatch(/^logmon: .*--since .*need --kafka/);
		const tail = await run(['--docker', '--tail', '-5'], {input: 'x\n'});
		expect(tail.code).toBe(2);
		expect(tail.stderr).toBe('logmon: --tail: expected a whole number in digits, got "-5"\n');
	});

	it('a number flag given no number exits 2 quoting what was given, not NaN', async () => {
		for (const [args, said] of [[['--max-line', 'abc'], '--max-line: expected a number, got "abc"'], [['--buffer='], '--buffer: expected a number, got ""'], [['--docker', '--tail'], '--tail: expected a number, got nothing'], [['--max-line', '1e4'], '--max-line: expected a whole number in digits, got "1e4"']] as const) {
			const r = await run([...args], {input: 'x\n'}); // eslint-disable-line no-await-in-loop
			expect(r.code).toBe(2);
			expect(r.stderr).toBe(`logmon: ${said}\n`);
		}
	});

	it('a bad config file exits 2 naming the file and the JSON path', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-e2e-'));
		const file = path.join(dir, 'config.json');
		const {writeFileSync} = await import('node:fs');
		writeFileSync(file, JSON.stringify({sources: [{type: 'kafka', brokers: []}]}));
		const r = await run(['--config', file], {input: ''});
		expect(r.code).toBe(2);
		expect(r.stderr).toContain(`${file}: sources[0].brokers: `);
		// What is checked after the schema names the file too: a redaction rule, a rule name, a forwarder's name.
		for (const [config, said] of [
			[{redact: {rules: [{name: 'x', pattern: '(a'}]}}, 'redact.rules[0]: invalid regular expression'],
			[{redact: {enable: ['nosuch']}}, 'redact.enable: unknown rule "nosuch"'],
			[{forward: [{name: 'a', type: 'file', path: path.join(dir, 'a')}, {name: 'a', type: 'file', path: path.join(dir, 'b')}]}, 'forward[1]: two forwarders are named "a"'],
		] as const) {
			writeFileSync(file, JSON.stringify(config));
			const bad = await run(['--config', file], {input: ''}); // eslint-disable-line no-await-in-loop
			expect(bad.code).toBe(2);
			expect(bad.stderr).toContain(`logmon: ${file}: ${said}`);
		}
	});

	it('a 5 MB line is cut at the cap with a visible marker; the lines around it survive', async () => {
		const big = 'x'.repeat(5 * 1024 * 1024);
		const r = await run(['-o', 'raw'], {input: `before\n${big}\nafter\n`});
		expect(r.code).toBe(0);
		const out = r.stdout.split('\n');
		expect(out[0]).toBe('before');
		expect(out[1]).toBe('x'.repeat(1024 * 1024) + ` …[truncated ${big.length - 1024 * 1024} bytes]`);
		expect(out[2]).toBe('after');
		expect(r.stderr).toMatch(/line longer than the cap/);
	});

	it('invalid UTF-8 becomes U+FFFD', async () => {
		const r = await run(['-o', 'raw'], {input: Buffer.from([0x6F, 0x6B, 0xC3, 0x28, 0xFF, 0x0A])});
		expect(r.stdout).toBe('ok\uFFFD(\uFFFD\n');
	});

	it('escape sequences never reach a terminal-bound text output; -o raw into a pipe keeps bytes', async () => {
		const input = 'title \u001B]0;owned\u0007 clip \u001B]52;c;aGk=\u0007 \u001B[31mred\u001B[0m\n';
		const text = await run(['--color', 'never'], {input});
		expect(text.stdout).not.toContain('\u001B');
		expect(text.stdout).toMatch(/title {2}clip {2}red\n$/);
		const raw = await run(['-o', 'raw'], {input});
		expect(raw.stdout).toBe(input);
	});

	it('a slow reader keeps memory bounded: stdin is paused, nothing is dropped', async () => {
		const yes = spawn('yes', ['x'.repeat(1000)]);
		const child = start(['-o', 'raw'], {stdin: yes.stdout});
		child.stdout!.pause(); // the reader stalls
		await new Promise(resolve => setTimeout(resolve, 3000));
		const stalled = rssKb(child.pid!);
		child.stdout!.resume();
		child.stdout!.pause();
		await new Promise(resolve => setTimeout(resolve, 1000));
		const later = rssKb(child.pid!);
		yes.kill();
		child.kill('SIGTERM');
		const r = await collect(child);
		// Unbounded buffering of `yes` would reach gigabytes in these seconds.
		expect(stalled).toBeLessThan(200 * 1024);
		expect(later).toBeLessThan(200 * 1024);
		expect(r.stderr).not.toMatch(/dropped/);
	});

	it('a slow reader of long lines keeps memory bounded too: the queue counts their text, not only their number', async () => {
		// Lines of 1 MiB as fast as logmon takes them. Counting events alone, stdin was paused only
		// once 5,000 of them (5 GB) waited.
		const writer = spawn(process.execPath, ['-e', String.raw`const l = 'y'.repeat(1 << 20) + '\n'; (function w() { while (process.stdout.write(l)); process.stdout.once('drain', w); })();`]);
		const child = start(['-o', 'raw'], {stdin: writer.stdout});
		child.stdout!.pause();
		await new Promise(resolve => setTimeout(resolve, 4000));
		const stalled = rssKb(child.pid!);
		let lines = 0;
		child.stdout!.on('data', (d: Buffer) => {
			for (let at = d.indexOf(0x0A); at !== -1; at = d.indexOf(0x0A, at + 1)) {
				lines++;
			}
		});
		child.stdout!.resume();
		for (let waited = 0; lines < 50 && waited < 30_000; waited += 20) {
			await new Promise(resolve => setTimeout(resolve, 20)); // eslint-disable-line no-await-in-loop
		}

		expect(lines).toBeGreaterThanOrEqual(50); // it goes on once read
		writer.kill();
		child.kill('SIGTERM');
		const r = await collect(child);
		// About 100 MB here; before, 450 MB and growing by 100 MB a second.
		expect(stalled).toBeLessThan(250 * 1024);
		expect(r.stderr).not.toMatch(/dropped/);
	});

	it('pipe mode never loads React or Ink', async () => {
		const log = path.join(mkdtempSync(path.join(tmpdir(), 'logmon-imports-')), 'imports.txt');
		const r = await run(['--level', 'warn'], {
			input: apache,
			env: {LOGMON_IMPORT_LOG: log},
			nodeArgs: ['--import', path.join(root, 'test', 'support', 'record-imports.mjs')],
		});
		expect(r.code).toBe(0);
		const urls = readFileSync(log, 'utf8');
		// bin/logmon.js runs the bundle (scripts/bundle.mjs). React stays outside it, so a load would show
		// here; Ink is inside, and esbuild heads each module it bundles with its path.
		expect(urls).toMatch(/\/dist\/bundle\/chunks\/pipe-\w+\.js/);
		expect(urls).not.toMatch(/node_modules\/(ink|react|react-reconciler)\//);
		const chunks = [...new Set(urls.split('\n').filter(u => /^file:.*\/dist\/bundle\/.*\.js$/.test(u)))].map(u => fileURLToPath(u));
		expect(chunks.length).toBeGreaterThan(1);
		for (const chunk of chunks) {
			expect(readFileSync(chunk, 'utf8'), chunk).not.toMatch(/^\/\/ node_modules\/(ink|react-reconciler|yoga-layout)\//m);
		}
	});

	it('--help lists flags with examples; --version prints the version', async () => {
		const help = await run(['--help']);
		expect(help.stdout).toMatch(/Usage/);
		expect(help.stdout).toMatch(/--grep RE/);
		expect(help.stdout).toMatch(/Examples/);
		// With a command or other flags too: help, and nothing started (it once ran `logmon serve`).
		for (const argv of [['serve', '--help'], ['query', '--help'], ['publish', '--help'], ['--demo', '--level', 'warn', '--help']]) {
			const r = await run(argv); // eslint-disable-line no-await-in-loop
			expect(r.code, argv.join(' ')).toBe(0);
			expect(r.stdout, argv.join(' ')).toBe(help.stdout);
			expect(r.stderr, argv.join(' ')).toBe('');
		}

		expect((await run(['serve', '--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
		const version = await run(['--version']);
		expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
	});
});
