// CloudWatch batching: 1,000,000 events made of the loghub fixtures (ten services, so ten
// streams, interleaved, their times a little out of order as sources interleave) forwarded by
// the cloudwatch destination to the strict test server (test/support/cloudwatch-strict.ts),
// which refuses any request over AWS's limits.
// Batches are cut as the delivery loop cuts them: per partition (group and stream), in bus
// order, closed when the next event would pass the destination's limits (count or bytes).
// Reports PutLogEvents calls against the minimum the limits allow (per stream, the larger of
// events / 10,000 and bytes / 1,048,576, rounded up; goal: within 5%), requests refused
// (goal: 0), and events/s and MB/s through measure(), send() and the server, all in this process.
// Then the same through the built logmon: the 1,000,000 lines on the stdin of pipe mode with
// `--forward cloudwatch://…` (the delivery loop, its disk spool, the destination) to the strict
// server in this process: the same figures, the time running until the server holds every line.
// `npm run bench -- forward-cloudwatch` runs only this case.
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cloudwatchForwardConfig} from '../../source/config/forward-cloudwatch.js';
import {Diagnostics} from '../../source/core/diagnostics.js';
import {type LogEvent} from '../../source/core/event.js';
import {createDestination} from '../../source/sinks/forward/cloudwatch.js';
import {type Destination} from '../../source/sinks/forward/destination.js';
import {StrictCloudwatch} from '../../test/support/cloudwatch-strict.js';
import {bin, corpusDir, corpusFiles, mb, sample} from '../support/measure.js';

const total = Number(process.env['LOGMON_BENCH_CLOUDWATCH_EVENTS'] ?? 1_000_000);

function fixtureEvents(count: number): LogEvent[] {
	const files = corpusFiles.map(f => ({service: f.replace(/_2k\.log$/, '').toLowerCase(), lines: readFileSync(path.join(corpusDir, f), 'utf8').split(/\r?\n/).filter(Boolean)}));
	const start = Date.now() - (3 * 3_600_000);
	const events: LogEvent[] = [];
	for (let i = 0; i < count; i++) {
		const file = files[i % files.length]!;
		const line = file.lines[Math.floor(i / files.length) % file.lines.length]!;
		// 1,000,000 events over two hours, each up to 50 ms out of order.
		const time = start + Math.floor(i * 7.2) - ((i * 7919) % 50);
		events.push({seq: i + 1, time, receivedAt: time, sourceId: 'bench', sourceKind: 'stdin', service: file.service, host: 'bench-1', proc: '', type: '', level: 'INFO', message: line, raw: line});
	}

	return events;
}

/** The batches the delivery loop would hand over: per partition, in order, within the limits. */
function* batches(d: Destination, events: readonly LogEvent[]): Generator<LogEvent[]> {
	const open = new Map<string, {events: LogEvent[]; bytes: number}>();
	for (const e of events) {
		const key = d.partition!(e);
		const size = d.measure(e);
		let b = open.get(key);
		if (b && (b.events.length >= d.limits.maxEvents || b.bytes + size > d.limits.maxBytes)) {
			yield b.events;
			b = undefined;
		}

		if (!b) {
			b = {events: [], bytes: 0};
			open.set(key, b);
		}

		b.events.push(e);
		b.bytes += size;
	}

	for (const b of open.values()) {
		yield b.events;
	}
}

/** The fewest requests the limits allow: per stream, by count and by bytes. */
function minimumRequests(d: Destination, events: readonly LogEvent[]): {requests: number; bytes: number} {
	const streams = new Map<string, {count: number; bytes: number}>();
	let all = 0;
	for (const e of events) {
		const key = d.partition!(e);
		const s = streams.get(key) ?? {count: 0, bytes: 0};
		s.count++;
		s.bytes += d.measure(e);
		all += d.measure(e);
		streams.set(key, s);
	}

	let requests = 0;
	for (const s of streams.values()) {
		requests += Math.max(Math.ceil(s.count / d.limits.maxEvents), Math.ceil(s.bytes / d.limits.maxBytes));
	}

	return {requests, bytes: all};
}

/** The same events as lines through `logmon -o raw --forward cloudwatch://…` (one stream: the stdin source's). */
async function throughLogmon(events: readonly LogEvent[]): Promise<void> {
	const server = await new StrictCloudwatch({keep: false}).listen();
	const state = mkdtempSync(path.join(tmpdir(), 'logmon-bench-cw-'));
	const input = events.map(e => e.raw).join('\n') + '\n';
	const streamBytes = events.reduce((sum, e) => sum + Buffer.byteLength(e.raw) + 26, 0);
	const minimum = Math.max(Math.ceil(events.length / 10_000), Math.ceil(streamBytes / 1_048_576));
	const started = process.hrtime.bigint();
	const child = spawn(process.execPath, [bin, '-o', 'raw', '--forward', `cloudwatch://us-east-1?endpoint=${server.endpoint}&group=bench`], {
		env: {...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true'},
		stdio: ['pipe', 'ignore', 'pipe'],
	});
	let stderr = '';
	child.stderr.on('data', (d: Buffer) => {
		stderr += d.toString();
	});
	// stdin stays open until the server holds every line: at the end of input pipe mode gives the
	// forwarders 2 s, and leaves what is still unsent in the spool for the next run.
	child.stdin.write(input);
	let peakKb = 0;
	try {
		for (let polls = 0; server.storedEvents < events.length; polls++) {
			if (child.exitCode !== null || polls > 6000) {
				throw new Error(`logmon stopped or stalled with ${server.storedEvents} of ${events.length} stored: ${stderr}`);
			}

			peakKb = Math.max(peakKb, sample(child.pid!)?.hwmKb ?? 0);
			await new Promise(resolve => setTimeout(resolve, 50));
		}

		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		const accepted = server.puts().filter(c => !c.error).length;
		const refused = server.puts().filter(c => c.error && c.error !== 'ResourceNotFoundException').length;
		console.log(`  through logmon (pipe mode, spool on): ${events.length.toLocaleString('en')} lines, one stream, ${(streamBytes / 2 ** 20).toFixed(1)} MiB counted`);
		console.log(`  PutLogEvents accepted: ${accepted}; minimum: ${minimum}; ratio ${(accepted / minimum).toFixed(3)} (goal ≤ 1.05); refused: ${refused} (goal 0)`);
		console.log(`  ${Math.round(events.length / seconds).toLocaleString('en')} events/s until the server held every line (${seconds.toFixed(1)} s); logmon peak RSS ${mb(peakKb)}`);
	} finally {
		if (child.exitCode === null && child.signalCode === null) {
			const closed = new Promise(resolve => child.once('close', resolve));
			child.stdin.end();
			child.kill('SIGTERM');
			await closed;
		}

		rmSync(state, {recursive: true, force: true});
		await server.close();
	}
}

export async function run(): Promise<void> {
	process.env['AWS_ACCESS_KEY_ID'] ??= 'bench';
	process.env['AWS_SECRET_ACCESS_KEY'] ??= 'bench';
	const server = await new StrictCloudwatch({keep: false}).listen();
	const d = await createDestination(cloudwatchForwardConfig.parse({type: 'cloudwatch', region: 'us-east-1', endpoint: server.endpoint, group: 'bench'}), {name: 'bench', diagnostics: new Diagnostics()});
	try {
		const events = fixtureEvents(total);
		const minimum = minimumRequests(d, events);
		const started = process.hrtime.bigint();
		let failed = 0;
		for (const batch of batches(d, events)) {
			const outcome = await d.send(batch);
			if (!outcome.ok) {
				failed++;
				console.log(`  send failed: ${outcome.reason}`);
			}
		}

		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		const puts = server.puts();
		const refused = puts.filter(c => c.error && c.error !== 'ResourceNotFoundException').length;
		// The first put to each stream finds it missing; it is created and the put made again.
		const accepted = puts.filter(c => !c.error).length;
		const streams = new Set(events.map(e => d.partition!(e))).size;
		console.log(`  ${total.toLocaleString('en')} events, ${streams} streams, ${(minimum.bytes / 2 ** 20).toFixed(1)} MiB counted with the 26-byte overhead`);
		console.log(`  PutLogEvents accepted: ${accepted}; minimum the limits allow: ${minimum.requests}; ratio ${(accepted / minimum.requests).toFixed(3)} (goal ≤ 1.05)`);
		console.log(`  requests refused by the strict server: ${refused} (goal 0); failed sends: ${failed}; events stored: ${server.storedEvents.toLocaleString('en')}`);
		console.log(`  ${Math.round(total / seconds).toLocaleString('en')} events/s, ${(minimum.bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s (${seconds.toFixed(1)} s; client and server in one process)`);
		await throughLogmon(events);
	} finally {
		await d.close();
		await server.close();
	}
}
