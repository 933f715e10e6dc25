// OTLP receiver throughput: the official OpenTelemetry JS SDK and exporter (batches of 512,
// as by default) send 200,000 records, the loghub corpus lines as bodies with a few
// attributes, to `logmon --no-ui -o text --otlp` with stdout to /dev/null; protobuf, protobuf
// with gzip, and JSON. Reports records/s from the first emit until the last export was
// answered (every record is on logmon's bus by then), and logmon's CPU per 100k records.
// For scale, the same exporter against a bare node:http server that reads each body and
// answers 200, in the same run: the exporter's own ceiling on this machine; and logmon's CPU
// per 100k of the same lines read from stdin (less that of an empty stdin): what the rest of
// the pipeline (bus, redaction, the text writer) costs whatever the source.
// `npm run bench -- otlp` runs only this case.
import {type ChildProcess, spawn} from 'node:child_process';
import {openSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import http from 'node:http';
import {type Encoding, SeverityNumber, otelSender} from '../../test/support/otlp.js';
import {corpusFile, corpusLines, cpuTicks, mb, measure, root, sample} from '../support/measure.js';

const total = 200_000;
const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

async function startLogmon(): Promise<{child: ChildProcess; port: number}> {
	const devNull = openSync('/dev/null', 'w');
	const child = spawn(process.execPath, ['bin/logmon.js', '--no-ui', '-o', 'text', '--no-history', '--otlp', '127.0.0.1:0'], {cwd: root, stdio: ['ignore', devNull, 'pipe']});
	let stderr = '';
	child.stderr!.on('data', (d: Buffer) => {
		stderr += d.toString();
	});
	for (let i = 0; i < 500; i++) {
		const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
		if (m) {
			return {child, port: Number(m[1])};
		}

		await sleep(20);
	}

	throw new Error(`logmon did not start: ${stderr}`);
}

/** A receiver that does nothing but read bodies and answer 200: what the exporter alone can do. */
async function bareReceiver(): Promise<{server: http.Server; port: number}> {
	const server = http.createServer((req, res) => {
		req.resume();
		req.once('end', () => {
			res.writeHead(200, {'content-type': req.headers['content-type'] ?? 'application/json'});
			res.end(String(req.headers['content-type']).includes('json') ? '{}' : undefined);
		});
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return {server, port: (server.address() as {port: number}).port};
}

async function send(port: number, encoding: Encoding, gzip: boolean, lines: string[]): Promise<number> {
	const {provider, logger} = otelSender({url: `http://127.0.0.1:${port}/v1/logs`, encoding, gzip, resource: {'service.name': 'bench', 'host.name': 'bench-host'}});
	const start = performance.now();
	for (let i = 0; i < total; i++) {
		logger.emit({body: lines[i % lines.length]!, severityNumber: i % 10 === 0 ? SeverityNumber.ERROR : SeverityNumber.INFO, attributes: {'http.status': 200, 'request.id': i}});
		// Let the batch processor export as records come, as a real application's would.
		if (i % 512 === 511) {
			await new Promise(setImmediate);
		}
	}

	await provider.shutdown();
	return performance.now() - start;
}

async function quiet(pid: number): Promise<number> {
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

	return last;
}

export async function run(): Promise<void> {
	const lines = corpusLines();
	// Once untimed, so that the sender's own code is warm for every figure.
	const warm = await bareReceiver();
	await send(warm.port, 'proto', false, lines);
	await new Promise(resolve => warm.server.close(resolve));
	console.log(`${total.toLocaleString('en')} records from @opentelemetry/sdk-logs + exporter-logs-otlp-* 0.223.1, batches of 512`);
	for (const [encoding, gzip] of [['proto', false], ['proto', true], ['json', false]] as Array<[Encoding, boolean]>) {
		const name = `${encoding === 'proto' ? 'protobuf' : 'JSON'}${gzip ? ' + gzip' : ''}`;
		const bare = await bareReceiver();
		const bareMs = await send(bare.port, encoding, gzip, lines);
		await new Promise(resolve => bare.server.close(resolve));

		const {child, port} = await startLogmon();
		const pid = child.pid!;
		await quiet(pid);
		const before = cpuTicks(pid);
		const ms = await send(port, encoding, gzip, lines);
		const after = await quiet(pid);
		const hwm = sample(pid)?.hwmKb ?? 0;
		child.kill('SIGTERM');
		await new Promise(resolve => child.once('close', resolve));
		const cpuSeconds = (after - before) / 100;
		console.log(`${name.padEnd(16)} logmon: ${Math.round(total / (ms / 1000)).toLocaleString('en')} records/s, CPU ${(cpuSeconds / (total / 100_000)).toFixed(2)} s per 100k records, peak RSS ${mb(hwm)}; bare receiver: ${Math.round(total / (bareMs / 1000)).toLocaleString('en')} records/s (logmon ${(bareMs / ms).toFixed(2)}× of it)`);
	}

	const stdinCpu = async (file: string): Promise<number> => (await measure(process.execPath, [path.join(root, 'bin', 'logmon.js'), '--no-ui', '-o', 'text'], [openSync(file, 'r'), openSync('/dev/null', 'w'), 'inherit'])).cpuSeconds;
	const empty = path.join(tmpdir(), 'logmon-bench-empty.log');
	writeFileSync(empty, '');
	const full = await stdinCpu(corpusFile(total));
	const none = await stdinCpu(empty);
	console.log(`${'stdin, same lines'.padEnd(16)} logmon: CPU ${((full - none) / (total / 100_000)).toFixed(2)} s per 100k lines (less an empty stdin's ${none.toFixed(2)} s)`);
}
