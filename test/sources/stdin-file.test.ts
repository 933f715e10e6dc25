import {closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, expect, test} from 'vitest';
import {collect, corpus, run, start} from '../support/logmon.js';

// A regular file on stdin (`logmon < app.log`) is read with synchronous reads, a chunk per turn of
// the event loop (sources/stdin.ts), not through a stream: the same events must come out as when
// the same bytes come down a pipe, with chunk edges falling inside lines and stack traces, the last
// line without its newline, and the bus pausing the reads while stdout is not read.

const dir = mkdtempSync(path.join(tmpdir(), 'logmon-stdin-file-'));
afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

function input(): string {
	const plain = readFileSync(path.join(corpus, 'Hadoop_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
	const traces = ['java.log', 'python.log', 'go.log'].map(f => readFileSync(path.join(corpus, '..', 'multiline', f), 'utf8').trimEnd());
	const out: string[] = [];
	for (let i = 0; out.length < 60_000; i++) {
		out.push(i % 997 === 0 ? traces[i % 3]! : plain[i % plain.length]!);
	}

	// Over 8 MB, so some 130 reads of 64 KiB, and no newline at the end.
	return out.join('\n');
}

test('a regular file on stdin gives the events a pipe gives, in order, the last line without its newline too', async () => {
	const text = input();
	const file = path.join(dir, 'app.log');
	writeFileSync(file, text);
	// A trace held across two reads goes out after a pause of multiline.timeoutMs: a minute, so a
	// busy machine's stall cannot split one in one run only.
	const config = path.join(dir, 'stdin.json');
	writeFileSync(config, JSON.stringify({sources: [{type: 'stdin', multiline: {timeoutMs: 60_000}}]}));
	const args = ['--no-ui', '-o', 'json', '--config', config];
	const piped = await run(args, {input: text, timeoutMs: 90_000});
	expect(piped.code).toBe(0);
	const fd = openSync(file, 'r');
	const fromFile = await run(args, {stdin: fd, timeoutMs: 90_000});
	closeSync(fd);
	expect(fromFile.code).toBe(0);
	const events = (out: string): Array<{message: string; level: string}> => out.trim().split('\n').map(l => JSON.parse(l) as {message: string; level: string});
	const expected = events(piped.stdout).map(e => [e.level, e.message]);
	const got = events(fromFile.stdout).map(e => [e.level, e.message]);
	expect(got.length).toBe(expected.length);
	expect(got).toEqual(expected);
	// Traces were joined (fewer events than lines), and the last line came out.
	expect(got.length).toBeLessThan(text.split('\n').length);
	expect(got.at(-1)![1]).toBe(text.slice(text.lastIndexOf('\n') + 1));
}, 120_000);

test('reads stop while stdout is not read, and nothing is lost when it is read again', async () => {
	const lines = Array.from({length: 200_000}, (_, i) => `line ${i} ${'x'.repeat(40)}`);
	const file = path.join(dir, 'many.log');
	writeFileSync(file, lines.join('\n') + '\n');
	const fd = openSync(file, 'r');
	const child = start(['--no-ui', '-o', 'raw'], {stdin: fd});
	closeSync(fd);
	// Nothing reads stdout for a second: the pipe fills, the queue behind it fills, and the bus
	// pauses the source; then everything is read.
	child.stdout!.pause();
	// The reads start, then stop well before the end of the file (the file's offset, as the kernel
	// has it, the same for half a second).
	const offset = (): number => Number(/pos:\s*(\d+)/.exec(readFileSync(`/proc/${child.pid!}/fdinfo/0`, 'utf8'))![1]);
	const deadline = Date.now() + 60_000;
	let last = offset();
	for (;;) {
		await new Promise(resolve => setTimeout(resolve, 500)); // eslint-disable-line no-await-in-loop
		const now = offset();
		if (now > 0 && now === last) {
			break;
		}

		expect(Date.now(), 'the reads to stop').toBeLessThan(deadline);
		last = now;
	}

	expect(last).toBeLessThan(statSync(file).size / 2);
	child.stdout!.resume();
	const result = await collect(child, 60_000);
	expect(result.code).toBe(0);
	expect(result.stderr).not.toMatch(/dropped/);
	const out = result.stdout.split('\n');
	expect(out.pop()).toBe('');
	expect(out.length).toBe(lines.length);
	expect(out[0]).toBe(lines[0]);
	expect(out.at(-1)).toBe(lines.at(-1));
	expect(out.every((l, i) => l === lines[i])).toBe(true);
}, 120_000);
