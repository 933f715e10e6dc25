import {expect, test} from 'vitest';
import {run} from '../support/logmon.js';

// `--grep '.*foo.*bar'` over 1 MiB lines: V8's backtracking engine took about 55 s per line,
// and logmon stalled. With RE2 matching the run ends at once; the deadline is generous.

test('--grep .*foo.*bar over three 1 MiB lines finishes and keeps the match', async () => {
	const long = 'x foo y '.repeat(1 << 17);
	const input = ['before', long, 'foo then bar', long, long, 'after foo, no b-a-r'].join('\n') + '\n';
	const r = await run(['--no-ui', '-o', 'raw', '--grep', '.*foo.*bar'], {input, timeoutMs: 45_000});
	expect(r.signal).toBeNull();
	expect(r.code).toBe(0);
	expect(r.stdout).toBe('foo then bar\n');
});

test('RE2 syntax on the command line: [[:digit:]], \\pL and \\Q…\\E mean what they mean in Go', async () => {
	const input = 'id 42\nid x\nÉcole\na.b\naxb\n';
	expect((await run(['--no-ui', '-o', 'raw', '--grep', 'id [[:digit:]]'], {input})).stdout).toBe('id 42\n');
	expect((await run(['--no-ui', '-o', 'raw', '--grep', String.raw`^\pL+$`], {input})).stdout).toBe('École\naxb\n');
	expect((await run(['--no-ui', '-o', 'raw', '--grep', String.raw`\Qa.b\E`], {input})).stdout).toBe('a.b\n');
	const refused = await run(['--no-ui', '--grep', 'foo(?=bar)'], {input});
	expect(refused.code).toBe(2);
	expect(refused.stderr).toMatch(/--grep: invalid regular expression "foo\(\?=bar\)".*lookarounds are not supported/);
});
