import {closeSync, openSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {bin, corpusFile, mb, measure, rate} from '../support/measure.js';

// 500,000 real log lines through `logmon --no-ui -o text --grep ERROR` and through
// `grep ERROR`, same input, same run. Ratios count; absolute times vary with the machine.
// Both write to a file: GNU grep stops at the first match when its output is /dev/null.

export async function run(): Promise<void> {
	const lines = 500_000;
	const file = corpusFile(lines);
	const env = {...process.env, NODE_ENV: 'production', XDG_CONFIG_HOME: '/nonexistent'};
	const results: Array<[string, number]> = [];
	for (let round = 0; round < 2; round++) {
		const inGrep = openSync(file, 'r');
		const outGrep = openSync(path.join(tmpdir(), 'logmon-bench-grep.out'), 'w');
		const g = await measure('grep', ['ERROR'], [inGrep, outGrep, 'inherit'], env);
		closeSync(inGrep);
		closeSync(outGrep);

		const inLog = openSync(file, 'r');
		const outLog = openSync(path.join(tmpdir(), 'logmon-bench-logmon.out'), 'w');
		const l = await measure(process.execPath, [bin, '--no-ui', '-o', 'text', '--grep', 'ERROR'], [inLog, outLog, 'inherit'], env);
		closeSync(inLog);
		closeSync(outLog);
		if (l.code !== 0) {
			throw new Error(`logmon exited ${l.code}`);
		}

		results.push([`round ${round + 1}: grep ${rate(lines, g.ms)}  logmon ${rate(lines, l.ms)}  ratio logmon/grep ${(g.ms / l.ms).toFixed(3)}  logmon peak RSS ${mb(l.peakRssKb)}  logmon CPU ${l.cpuSeconds.toFixed(2)} s`, g.ms / l.ms]);
	}

	for (const [line] of results) {
		console.log(line);
	}
}
