import {closeSync, openSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {corpusLines as redactionCorpus} from '../../test/support/redact-corpus.js';
import {bin, corpusLines, measure} from '../support/measure.js';

// Pipe mode at full speed with redaction on (the default rules), off (--no-redact), and on with
// ten user rules, in the same rounds, on:
//   1. 500,000 real log lines (the loghub corpus): what redaction costs where there is little to find;
//   2. the same with one line in 20 from the redaction test corpus (secrets in plain text, logfmt
//      and JSON, and near-misses);
//   3. 200,000 lines of the redaction corpus only: every line holds a secret or a near-miss.
// Each variant runs once per round, in turn, so a busy machine slows them alike; the figures are
// medians over the rounds, as lines per CPU second (user + system, from /proc) and per second of
// wall time. The ratio to --no-redact is what counts: in wall time, the throughput; with user rules
// a worker thread screens the texts (source/redact-thread.ts), so there the CPU ratio is lower.
// Also shown: each round's wall ratio to that round's run without redaction, their median, and the
// ratio of each variant's fastest run: on a shared host a slow spell weighs on runs back to back alike.

const env = {...process.env, NODE_ENV: 'production', XDG_CONFIG_HOME: '/nonexistent'};
const rounds = Number(process.env['LOGMON_BENCH_ROUNDS'] ?? 5);

/** Ten rules of the kind people add: most hold plain text RE2 can be looked for with, two do not. */
export const tenRules = [
	'order-token=tok_[a-z0-9]{24}',
	'stripe-key=sk_live_[0-9a-zA-Z]{24}',
	'customer=(?i)customer_id=(\\d+)',
	'ssn=\\b\\d{3}-\\d{2}-\\d{4}\\b',
	'session=(?i)session(?:_id)?=([A-Za-z0-9]{16,})',
	'api-key=(?i)api[_-]?key["\']?\\s*[:=]\\s*["\']?([A-Za-z0-9]{20,})',
	'internal-host=[a-z0-9-]+\\.corp\\.example\\.com',
	'passport=(?i)passport(?:_no)?=([A-Z0-9]{6,9})',
	'iban=\\b[A-Z]{2}\\d{2}[A-Z0-9]{11,30}\\b',
	'phone=\\+\\d{1,3}[ -]?\\d{6,12}',
];

function inputFile(name: string, lines: string[]): string {
	const file = path.join(tmpdir(), `logmon-bench-redact-${name}-${process.pid}.log`);
	writeFileSync(file, lines.join('\n') + '\n');
	return file;
}

function inputs(): Array<{title: string; file: string; lines: number}> {
	const loghub = corpusLines();
	const secrets = redactionCorpus();
	const plain: string[] = [];
	const mixed: string[] = [];
	for (let i = 0; i < 500_000; i++) {
		plain.push(loghub[i % loghub.length]!);
		mixed.push(i % 20 === 0 ? secrets[(i / 20) % secrets.length]! : loghub[i % loghub.length]!);
	}

	const dense = Array.from({length: 200_000}, (_, i) => secrets[i % secrets.length]!);
	return [
		{title: '500,000 loghub lines', file: inputFile('loghub', plain), lines: plain.length},
		{title: '500,000 loghub lines, one in 20 from the redaction corpus', file: inputFile('mixed', mixed), lines: mixed.length},
		{title: '200,000 lines of the redaction corpus (a secret or a near-miss in each)', file: inputFile('dense', dense), lines: dense.length},
	];
}

const variants: Array<{name: string; args: string[]}> = [
	{name: 'redaction off', args: ['--no-redact']},
	{name: 'default rules', args: []},
	{name: 'default + 10 user rules', args: tenRules.flatMap(r => ['--redact-rule', r])},
];

async function once(file: string, args: string[]): Promise<{ms: number; cpuSeconds: number}> {
	const inFd = openSync(file, 'r');
	const outFd = openSync(path.join(tmpdir(), `logmon-bench-redact-${process.pid}.out`), 'w');
	const r = await measure(process.execPath, [bin, '--no-ui', '-o', 'text', ...args], [inFd, outFd, 'ignore'], env);
	closeSync(inFd);
	closeSync(outFd);
	if (r.code !== 0) {
		throw new Error(`logmon ${args.join(' ')} exited ${r.code}`);
	}

	return r;
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

const perSecond = (n: number): string => `${Math.round(n).toLocaleString('en-US')}/s`;

export async function run(): Promise<void> {
	const all = inputs();
	try {
		await runAll(all);
	} finally {
		for (const input of all) {
			rmSync(input.file, {force: true});
		}

		rmSync(path.join(tmpdir(), `logmon-bench-redact-${process.pid}.out`), {force: true});
	}
}

async function runAll(all: ReturnType<typeof inputs>): Promise<void> {
	// LOGMON_BENCH_REDACT_INPUTS=1,3 runs only those inputs (1: loghub, 2: mixed, 3: dense).
	const only = process.env['LOGMON_BENCH_REDACT_INPUTS']?.split(',').map(Number);
	for (const [i, input] of all.entries()) {
		if (only && !only.includes(i + 1)) {
			continue;
		}

		console.log(`${input.title} (${rounds} rounds, medians)`);
		const cpu = new Map<string, number[]>(variants.map(v => [v.name, []]));
		const wall = new Map<string, number[]>(variants.map(v => [v.name, []]));
		for (let round = 0; round < rounds; round++) {
			// Rotate the order, so no variant always runs first after a pause.
			for (let k = 0; k < variants.length; k++) {
				const v = variants[(round + k) % variants.length]!;
				const r = await once(input.file, v.args);
				cpu.get(v.name)!.push(input.lines / Math.max(r.cpuSeconds, 0.01));
				wall.get(v.name)!.push(input.lines / (r.ms / 1000));
			}
		}

		const offCpu = median(cpu.get('redaction off')!);
		const offWall = median(wall.get('redaction off')!);
		for (const v of variants) {
			const c = median(cpu.get(v.name)!);
			const w = median(wall.get(v.name)!);
			const kept = v.name === 'redaction off' ? '' : `  kept ${(100 * c / offCpu).toFixed(0)}% (CPU), ${(100 * w / offWall).toFixed(0)}% (wall)`;
			console.log(`  ${v.name.padEnd(24)} ${perSecond(c)} per CPU second, ${perSecond(w)} wall${kept}`);
		}

		// The same in pairs: each round's run against that round's run without redaction (they ran
		// back to back, so a slow spell of a shared host weighs on both), and each one's fastest run.
		for (const v of variants.slice(1)) {
			const paired = wall.get(v.name)!.map((w, round) => w / wall.get('redaction off')![round]!);
			const fastest = Math.max(...wall.get(v.name)!) / Math.max(...wall.get('redaction off')!);
			console.log(`  ${v.name.padEnd(24)} rounds' wall ratios ${paired.map(r => (100 * r).toFixed(0)).join(', ')}%: median ${(100 * median(paired)).toFixed(0)}%; fastest runs ${(100 * fastest).toFixed(0)}%`);
		}
	}
}
