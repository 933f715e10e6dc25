import {closeSync, openSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {bin, corpusFile, corpusLines, mb, measure, rate} from '../support/measure.js';

// Pipe mode against grep, same input, same run. Ratios count; absolute times vary with the machine.
// Both write to a file: GNU grep stops at the first match when its output is /dev/null.
//
//   1. 500,000 real log lines, `--grep ERROR` against `grep ERROR`.
//   2. 200,000 real log lines with 24 lines of 256 KiB mixed in, `--grep '.*foo.*bar'` against
//      `grep -E`: a pattern V8's backtracking engine needs seconds for on each long line.
//
// LOGMON_BENCH_BASELINE=/path/to/other/bin/logmon.js runs that build too, in the same rounds
// (before and after a change). A baseline that takes longer than LOGMON_BENCH_BASELINE_LIMIT
// seconds (default 120) is stopped and reported as such.

const env = {...process.env, NODE_ENV: 'production', XDG_CONFIG_HOME: '/nonexistent'};

function longLinesFile(): {file: string; lines: number} {
	const corpus = corpusLines();
	const out: string[] = [];
	const long = 'request foo handled by worker; '.repeat(Math.ceil((256 * 1024) / 31)).slice(0, 256 * 1024);
	for (let i = 0; i < 200_000; i++) {
		out.push(corpus[i % corpus.length]!);
		if (i % 8333 === 8332) {
			out.push(long);
		}
	}

	out.push('foo and then bar: the one line that matches');
	const file = path.join(tmpdir(), 'logmon-bench-long-lines.log');
	writeFileSync(file, out.join('\n') + '\n');
	return {file, lines: out.length};
}

type Tool = {name: string; command: string; args: string[]; limitMs?: number};

async function timed(tool: Tool, input: string): Promise<{ms: number; peakRssKb: number; cpuSeconds: number; timedOut: boolean}> {
	const inFd = openSync(input, 'r');
	const outFd = openSync(path.join(tmpdir(), `logmon-bench-${tool.name.replaceAll(/\W/g, '-')}.out`), 'w');
	let timedOut = false;
	const result = await measure(tool.command, tool.args, [inFd, outFd, 'inherit'], env, tool.limitMs === undefined ? undefined : () => {
		timedOut = true;
	}, tool.limitMs);
	closeSync(inFd);
	closeSync(outFd);
	if (result.code !== 0 && !timedOut) {
		throw new Error(`${tool.name} exited ${result.code}`);
	}

	return {...result, timedOut};
}

async function compare(title: string, input: string, lines: number, grep: Tool, logmonArgs: string[]): Promise<void> {
	console.log(title);
	const tools: Tool[] = [grep, {name: 'logmon', command: process.execPath, args: [bin, ...logmonArgs]}];
	const baseline = process.env['LOGMON_BENCH_BASELINE'];
	if (baseline) {
		const limitMs = Number(process.env['LOGMON_BENCH_BASELINE_LIMIT'] ?? 120) * 1000;
		tools.push({name: 'logmon (baseline)', command: process.execPath, args: [baseline, ...logmonArgs], limitMs});
	}

	for (let round = 1; round <= 2; round++) {
		const parts: string[] = [];
		let grepMs = 0;
		for (const tool of tools) {
			const r = await timed(tool, input);
			if (tool === grep) {
				grepMs = r.ms;
				parts.push(`${tool.name} ${rate(lines, r.ms)}`);
			} else if (r.timedOut) {
				parts.push(`${tool.name} stopped after ${(r.ms / 1000).toFixed(0)} s`);
			} else {
				parts.push(`${tool.name} ${rate(lines, r.ms)} (ratio to grep ${(grepMs / r.ms).toFixed(3)}, peak RSS ${mb(r.peakRssKb)}, CPU ${r.cpuSeconds.toFixed(2)} s)`);
			}
		}

		console.log(`  round ${round}: ${parts.join('  ')}`);
	}
}

export async function run(): Promise<void> {
	const plain = 500_000;
	await compare(`--grep ERROR, ${plain.toLocaleString('en-US')} lines`, corpusFile(plain), plain,
		{name: 'grep', command: 'grep', args: ['ERROR']}, ['--no-ui', '-o', 'text', '--grep', 'ERROR']);
	const long = longLinesFile();
	await compare(`--grep '.*foo.*bar', ${long.lines.toLocaleString('en-US')} lines of which 24 are 256 KiB`, long.file, long.lines,
		{name: 'grep -E', command: 'grep', args: ['-E', '.*foo.*bar']}, ['--no-ui', '-o', 'text', '--grep', '.*foo.*bar']);
}
