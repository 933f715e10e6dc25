import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {expect, test} from 'vitest';
import {bin, corpus} from '../support/logmon.js';

// The exit summary adds up: every event read was written, filtered out, dropped, or left
// unwritten because stdout did not take it before the exit deadline, and it says which.

test('SIGTERM with a reader that does not read: what was never written is counted, and the sums add up', async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-exit-'));
	const lines = readFileSync(path.join(corpus, 'Apache_2k.log'), 'utf8').split(/\r?\n/).filter(Boolean);
	writeFileSync(path.join(dir, 'in.log'), lines.map((l, i) => `${i} ${l}\n`).join('').repeat(10)); // ~1.7 MB
	// A reader that starts reading only after logmon's exit deadline (3 s after the signal).
	const script = `{ (cat in.log; sleep 9) | node ${JSON.stringify(bin)} -o raw --exclude 'workerEnv in error state 7' 2>err.txt & echo $! >pid.txt; wait $!; echo $? >code.txt; } | (sleep 7; cat >out.txt)`;
	const shell = spawn('bash', ['-c', script], {cwd: dir, stdio: 'ignore'});
	await new Promise(resolve => setTimeout(resolve, 2500));
	process.kill(Number(readFileSync(path.join(dir, 'pid.txt'), 'utf8')), 'SIGTERM');
	await new Promise(resolve => shell.once('close', resolve));
	const stderr = readFileSync(path.join(dir, 'err.txt'), 'utf8');
	expect(readFileSync(path.join(dir, 'code.txt'), 'utf8').trim(), stderr).toBe('143');
	const m = /SIGTERM: (\d+) events read, (\d+) written, (\d+) filtered out, (\d+) not written \(stdout did not take them before the exit deadline\)/.exec(stderr);
	expect(m, stderr).not.toBeNull();
	const [read, written, filtered, unwritten] = [1, 2, 3, 4].map(i => Number(m![i])) as [number, number, number, number];
	expect(filtered).toBeGreaterThan(0);
	expect(unwritten).toBeGreaterThan(0);
	expect(written + filtered + unwritten).toBe(read);
	// Every event counted as written reached the reader; of the last write, stdout may have
	// taken a part before the exit, which is why it is counted as not written.
	const out = readFileSync(path.join(dir, 'out.txt'), 'utf8').split('\n').filter(Boolean);
	expect(out.length).toBeGreaterThanOrEqual(written);
	expect(out.length).toBeLessThanOrEqual(written + unwritten);
});
