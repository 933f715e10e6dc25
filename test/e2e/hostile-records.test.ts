import {expect, test} from 'vitest';
import {run} from '../support/logmon.js';

// Records from strangers: a record nested 5,000 levels deep used to throw a RangeError out
// of the JSON writer (exit 1, every later line lost); impossible times were written as times.

test('-o json: a 5,000-deep record is written with its deep part as text; the lines after it are not lost', async () => {
	const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
	const input = [
		'{"message":"before"}',
		`{"message":"deep","x":${deep}}`,
		`[${'['.repeat(5000)}${']'.repeat(5000)}]`,
		'{"message":"after"}',
	].join('\n') + '\n';
	const r = await run(['--no-ui', '-o', 'json'], {input});
	expect(r.code).toBe(0);
	const events = r.stdout.trim().split('\n').map(l => JSON.parse(l) as {message: string; record?: unknown});
	expect(events.map(e => e.message.slice(0, 10))).toEqual(['before', 'deep', '[[[[[[[[[[', 'after']);
	expect(JSON.stringify(events[1]!.record)).toContain('"{\\"a\\":{\\"a\\"');
	expect(r.stderr).toMatch(/stdin: a JSON value nested deeper than 64 levels; the deeper part is kept as text \(parse errors: 1\)/);
	expect(r.stderr).not.toMatch(/RangeError|internal error/);
});

test('a time of 1e308 or -1e15 is not a time: the receive time is used, and counted', async () => {
	const before = Date.now();
	const r = await run(['--no-ui', '-o', 'json'], {input: '{"message":"a","time":1e308}\n{"message":"b","timestamp":-1e15}\n'});
	expect(r.code).toBe(0);
	const times = r.stdout.trim().split('\n').map(l => Date.parse((JSON.parse(l) as {time: string}).time));
	for (const t of times) {
		expect(t).toBeGreaterThanOrEqual(before - 1000);
	}

	expect(r.stderr).toMatch(/unreadable time "1e\+308"; the receive time is used/);
	expect(r.stderr).toMatch(/parse errors: 2/);
});
