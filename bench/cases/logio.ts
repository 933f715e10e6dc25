// logio listener throughput: four concurrent publishers push 500,000 real log lines
// (the loghub fixtures, repeated) over loopback into `logmon --no-ui -o text --listen`
// with stdout to /dev/null. Then the fan-out: the same with four `curl -N` subscribers
// reading as fast as they can; each must get every line (lines lost per subscriber:
// goal 0, counted from what arrived, logmon's own drop notices not counted as lines).
// Reports lines/s (first send until logmon's CPU goes quiet after the last line) and
// logmon's peak RSS (VmHWM, read just before it is stopped).
// The fan-out runs twice: with the four publishers of the listener figure, and with twenty,
// whose data arrives in larger bursts per turn of logmon's event loop (tens of thousands of lines).
// `npm run bench -- logio` runs only this case.
import {type ChildProcess, spawn} from 'node:child_process';
import {openSync, readFileSync, readdirSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {cpuTicks, mb, sample} from '../support/measure.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.join(root, 'test', 'fixtures', 'loghub');
const total = 500_000;
const subscribers = 4;

function fixtureLines(): string[] {
	const files = readdirSync(corpus).filter(f => f.endsWith('.log')).sort();
	return files.flatMap(f => readFileSync(path.join(corpus, f), 'utf8').split(/\r?\n/).filter(Boolean));
}

const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

async function waitForText(child: ChildProcess, re: RegExp, sink: {text: string}): Promise<RegExpExecArray> {
	for (let i = 0; i < 500; i++) {
		const m = re.exec(sink.text);
		if (m) {
			return m;
		}

		if (child.exitCode !== null) {
			break;
		}

		await sleep(20);
	}

	throw new Error(`logmon did not print ${String(re)}; stderr: ${sink.text}`);
}

async function scenario(lines: string[], withSubscribers: boolean, publishers: number): Promise<void> {
	const args = ['bin/logmon.js', '--no-ui', '-o', 'text', '--listen', '127.0.0.1:0'];
	if (withSubscribers) {
		args.push('--serve-subscribers', '127.0.0.1:0');
	}

	const devNull = openSync('/dev/null', 'w');
	const logmon = spawn(process.execPath, args, {cwd: root, stdio: ['ignore', devNull, 'pipe']});
	const stderr = {text: ''};
	logmon.stderr!.on('data', (d: Buffer) => {
		stderr.text += d.toString();
	});
	const port = Number((await waitForText(logmon, /listening on 127\.0\.0\.1:(\d+)/, stderr))[1]);
	const curls: Array<Promise<number>> = [];
	if (withSubscribers) {
		const url = (await waitForText(logmon, /serving logio subscribers on (\S+)/, stderr))[1]!;
		for (let i = 0; i < subscribers; i++) {
			// Counts the log lines, leaving out logmon's notices of lines it dropped.
			const curl = spawn('sh', ['-c', `curl -sN '${url}' | grep -F -v -c ' logmon[fanout] '`], {stdio: ['ignore', 'pipe', 'inherit']});
			curls.push(new Promise(resolve => {
				let out = '';
				curl.stdout.on('data', (d: Buffer) => {
					out += d.toString();
				});
				curl.on('close', () => resolve(Number(out.trim())));
			}));
		}

		await sleep(1000); // let the subscriptions land
	}

	const pid = logmon.pid!;
	// Each publisher's stream is encoded before the clock starts, so what is timed is logmon.
	const base = Date.now();
	const streams = Array.from({length: publishers}, (_, k) => {
		const parts = [JSON.stringify({app: `bench${k}`, proc: 'web', host: 'bench'})];
		for (let i = k; i < total; i += publishers) {
			parts.push(JSON.stringify({time: new Date(base + i).toISOString(), raw: lines[i % lines.length]! + '\n'}));
		}

		return Buffer.from(parts.join(''));
	});
	const start = performance.now();
	await Promise.all(streams.map(async stream => {
		const socket = net.connect(port, '127.0.0.1');
		await new Promise(resolve => socket.once('connect', resolve));
		// 64 KiB writes cut at any byte, as a real publisher's segments are.
		for (let i = 0; i < stream.length; i += 65_536) {
			if (!socket.write(stream.subarray(i, i + 65_536))) {
				await new Promise(resolve => socket.once('drain', resolve));
			}
		}

		await new Promise(resolve => {
			socket.end(() => {
				resolve(undefined);
			});
		});
	}));
	const sent = performance.now();

	// logmon is done when its CPU time stops moving.
	let last = cpuTicks(pid);
	let lastChange = performance.now();
	while (performance.now() - lastChange < 500) {
		await sleep(50);
		const now = cpuTicks(pid);
		if (now !== last) {
			last = now;
			lastChange = performance.now();
		}
	}

	const seconds = (lastChange - start) / 1000;
	const rss = mb(sample(pid)?.hwmKb ?? 0);
	const exited = new Promise(resolve => logmon.once('close', resolve));
	logmon.kill('SIGTERM');
	await exited;
	const received = await Promise.all(curls);
	const label = `${publishers} publishers, ` + (withSubscribers ? `listener + ${subscribers} curl -N subscribers` : 'listener only');
	console.log(`${label}: ${total.toLocaleString('en')} lines in ${seconds.toFixed(2)} s = ${Math.round(total / seconds).toLocaleString('en')} lines/s (publishers done after ${((sent - start) / 1000).toFixed(2)} s); peak RSS ${rss}`);
	if (withSubscribers) {
		console.log(`  lines lost per subscriber (goal 0): ${received.map(n => total - n).join(', ')}`);
	}

	const notes = stderr.text.split('\n').filter(l => l && !/listening on|serving logio/.test(l));
	for (const n of notes.slice(0, 5)) {
		console.log(`  stderr: ${n}`);
	}
}

export async function run(): Promise<void> {
	const lines = fixtureLines();
	if (lines.length === 0) {
		console.log('no fixtures in test/fixtures/loghub; skipped');
		return;
	}

	console.log(`${total.toLocaleString('en')} lines from ${lines.length.toLocaleString('en')} fixture lines`);
	await scenario(lines, false, 4);
	await scenario(lines, true, 4);
	await scenario(lines, true, 20);
}
