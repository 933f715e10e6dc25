// Forwarding with the destination down: memory stays flat while the spool takes the stream.
//
//   logmon serve --listen 127.0.0.1:0 --no-history with one file forwarder, spool on, whose
//   directory is a file for now (every write fails, retryably). A paced logio publisher
//   (bench/support/logio-feed.ts) sends real log lines at 5,000 a second for 10 minutes.
//   Sampled every second: logmon's RSS (peak, and the first minute's average against the last's:
//   flat means no growth) and the spool's bytes and events from /api/v1/health.
//   Then the destination comes back (the file removed, so the directory can be made): time to
//   drain the spool, events/s while draining, and every event delivered (at least once).
//
// LOGMON_BENCH_FORWARD_SECONDS and LOGMON_BENCH_FORWARD_RATE change the duration and the rate.
// `npm run bench -- forward-spool` runs only this case.
import {spawn} from 'node:child_process';
import {closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {bin, root, sample} from '../support/measure.js';

const seconds = Number(process.env['LOGMON_BENCH_FORWARD_SECONDS'] ?? 600);
const rate = Number(process.env['LOGMON_BENCH_FORWARD_RATE'] ?? 5000);
const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Lines of a file too big for one string. */
function countLines(file: string): number {
	const fd = openSync(file, 'r');
	const buf = Buffer.allocUnsafe(1024 * 1024);
	let lines = 0;
	for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
		for (let i = buf.indexOf(0x0A); i >= 0 && i < n; i = buf.indexOf(0x0A, i + 1)) {
			lines++;
		}
	}

	closeSync(fd);
	return lines;
}

type Forward = {state: string; sent: number; spooled: number; spoolBytes: number; dropped: number; queued: number};

async function forwardHealth(url: string): Promise<Forward> {
	const response = await fetch(`${url}/api/v1/health`);
	const body = await response.json() as {forward: Forward[]};
	return body.forward[0]!;
}

export async function run(): Promise<void> {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-forward-'));
	const blocker = path.join(dir, 'down');
	writeFileSync(blocker, '');
	const out = path.join(blocker, 'out.ndjson');
	const config = path.join(dir, 'config.json');
	writeFileSync(config, JSON.stringify({forward: [{type: 'file', name: 'archive', path: out, spool: true, retry: {maxDelay: '2s'}}]}));
	const child = spawn(process.execPath, [bin, 'serve', '--listen', '127.0.0.1:0', '--no-history', '--http', '127.0.0.1:0', '--config', config], {
		env: {...process.env, XDG_STATE_HOME: path.join(dir, 'state'), XDG_CONFIG_HOME: path.join(dir, 'no-config')},
		stdio: ['ignore', 'ignore', 'pipe'],
	});
	let stderr = '';
	child.stderr.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
	});
	let port: number | undefined;
	let url: string | undefined;
	for (let i = 0; i < 1000 && !(port && url); i++) {
		port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]) || undefined;
		url = /serving (http:\/\/[\d.:]+)\/api\/v1\//.exec(stderr)?.[1];
		await sleep(10);
	}

	if (!port || !url) {
		throw new Error(`logmon did not start: ${stderr}`);
	}

	const feed = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'support', 'logio-feed.ts'), String(port), String(rate)], {stdio: ['ignore', 'pipe', 'inherit']});
	const rss: number[] = [];
	let last: Forward | undefined;
	const started = Date.now();
	while (Date.now() - started < seconds * 1000) {
		await sleep(1000);
		rss.push((sample(child.pid!)?.rssKb ?? 0) / 1024);
		last = await forwardHealth(url);
		if (rss.length % 60 === 0) {
			console.log(`  ${rss.length} s: RSS ${rss.at(-1)!.toFixed(0)} MB, spooled ${last.spooled} events, ${(last.spoolBytes / 1024 ** 2).toFixed(1)} MiB, dropped ${last.dropped}, state ${last.state}`);
		}
	}

	feed.kill('SIGTERM');
	let sentText = '';
	feed.stdout.setEncoding('utf8').on('data', (d: string) => {
		sentText += d;
	});
	await new Promise(resolve => feed.once('close', resolve));
	const sent = Number(sentText.trim());
	await sleep(1000);
	const before = await forwardHealth(url);
	const minute = Math.min(60, Math.floor(rss.length / 3));
	const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
	console.log(`destination down ${seconds} s at ${rate} events/s: ${sent} sent by the publisher, ${before.spooled} spooled (${(before.spoolBytes / 1024 ** 2).toFixed(1)} MiB, ${(before.spoolBytes / Math.max(1, before.spooled)).toFixed(0)} bytes/event), ${before.dropped} dropped`);
	console.log(`RSS: peak ${Math.max(...rss).toFixed(0)} MB; first ${minute} s average ${avg(rss.slice(0, minute)).toFixed(0)} MB, last ${minute} s ${avg(rss.slice(-minute)).toFixed(0)} MB; VmHWM ${((sample(child.pid!)?.hwmKb ?? 0) / 1024).toFixed(0)} MB`);

	rmSync(blocker);
	const back = Date.now();
	let after = before;
	while (after.sent < before.spooled || after.spooled > 0) {
		await sleep(200);
		after = await forwardHealth(url);
	}

	const drainSeconds = (Date.now() - back) / 1000;
	const delivered = countLines(out);
	console.log(`destination back: spool drained in ${drainSeconds.toFixed(1)} s (${(after.sent / drainSeconds).toFixed(0)} events/s), ${delivered} lines in the file for ${sent} published (${delivered >= sent ? 'none lost' : `${sent - delivered} missing`})`);
	child.kill('SIGTERM');
	await new Promise(resolve => child.once('close', resolve));
	rmSync(dir, {recursive: true, force: true});
}
