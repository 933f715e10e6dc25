import {createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {eventFromLine} from '../../source/core/record.js';
import {type LogEvent} from '../../source/core/event.js';
import {encodeEvent} from '../../source/history/encode-batch.js';
import {formatFileText, gzSuffix, hourMs, hourOf, indexSuffix, rawSuffix, segmentBase} from '../../source/history/format.js';
import {sealFile} from '../../source/history/seal-file.js';
import {historyFormatVersion} from '../../source/history/types.js';
import {corpusDir, corpusFiles, root} from './measure.js';

// A 3-day history of real log lines for the history benchmark, written with the store's own
// format and sealing code, as the writer lays it out (all/ and errors/, hourly segments, each
// sealed with its sidecar). Built once and kept in .cache/bench-history/ (a few hundred MB);
// rebuilt when the history format version changes or the build did not finish.
//
// The lines are the loghub fixtures, each file a service on its own host, turned into events by
// the same code a logio listener runs. Event times sit a few seconds before the receive time;
// one event in a thousand carries a source time 36 h old (a replayed or delayed log), so pruning
// by event time is exercised. One event, in the middle of the second day, carries a rare token.

export const days = 3;
export const totalEvents = 10_368_000; // 40 events/s for 3 days
/** The receive time of the last event: fixed, so a cached history still has a "last hour". */
export const endTime = Date.UTC(2025, 0, 10);
export const startTime = endTime - days * 86_400_000;
export const rareToken = 'zq7xv3k9w2mr';
const rareIndex = Math.floor(totalEvents / 2) + 12_345;

export type BenchHistory = {dir: string; events: number; errorEvents: number; token: string; build: 'cached' | 'built'; buildSeconds: number};

type Done = {version: number; probe: string; events: number; errorEvents: number; token: string; buildSeconds: number};

/**
 * What the format and sealing code make of a sample now: one line as encoded, and the sealed size
 * of a thousand. A change of either (the line format, the gzip level) rebuilds the history too.
 */
async function formatProbe(): Promise<string> {
	const lines = readFileSync(path.join(corpusDir, corpusFiles[0]!), 'utf8').split(/\r?\n/).filter(Boolean).slice(0, 1000);
	const encoded = lines.map((line, i) => encodeEvent({...eventFromLine(line, {sourceId: 'listen', sourceKind: 'logio-listen', service: 'probe', host: 'h', proc: 'p', receivedAt: endTime + i}), seq: i + 1}));
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-bench-probe-'));
	const base = path.join(dir, 'probe');
	writeFileSync(base + rawSuffix, encoded.join(''));
	const sealed = await sealFile({raw: base + rawSuffix, gz: base + gzSuffix, index: base + indexSuffix});
	rmSync(dir, {recursive: true, force: true});
	return `${encoded[0]!.trim()} ${sealed.gzBytes}`;
}

function serviceOf(file: string): string {
	return file.replace(/_2k\.log$/, '').toLowerCase();
}

/** One stream's hourly raw segments, written as the events come. */
class StreamFiles {
	private out: WriteStream | undefined;
	private hour = -1;
	private chunk = '';
	readonly bases: string[] = [];

	constructor(private readonly dir: string) {
		mkdirSync(dir, {recursive: true, mode: 0o700});
	}

	async add(e: LogEvent): Promise<void> {
		const hour = hourOf(e.receivedAt);
		if (hour !== this.hour) {
			await this.close();
			this.hour = hour;
			const base = segmentBase(hour, 0);
			this.bases.push(base);
			this.out = createWriteStream(path.join(this.dir, base + rawSuffix), {mode: 0o600});
		}

		this.chunk += encodeEvent(e);
		if (this.chunk.length > 1024 * 1024) {
			await this.write();
		}
	}

	private async write(): Promise<void> {
		const ok = this.out!.write(this.chunk);
		this.chunk = '';
		if (!ok) {
			await new Promise<void>(resolve => this.out!.once('drain', () => resolve()));
		}
	}

	async close(): Promise<void> {
		if (this.out) {
			await this.write();
			await new Promise<void>(resolve => this.out!.end(() => resolve()));
			this.out = undefined;
		}
	}
}

async function build(dir: string): Promise<Done> {
	const started = performance.now();
	rmSync(dir, {recursive: true, force: true});
	mkdirSync(dir, {recursive: true, mode: 0o700});
	writeFileSync(path.join(dir, 'FORMAT'), formatFileText, {mode: 0o600});
	const sources = corpusFiles.map(file => ({
		service: serviceOf(file),
		host: `${serviceOf(file)}-node-1`,
		lines: readFileSync(path.join(corpusDir, file), 'utf8').split(/\r?\n/).filter(Boolean),
	}));
	const all = new StreamFiles(path.join(dir, 'all'));
	const errors = new StreamFiles(path.join(dir, 'errors'));
	let errorEvents = 0;
	const step = (endTime - startTime) / totalEvents;
	const cursor = sources.map(() => 0);
	for (let i = 0; i < totalEvents; i++) {
		const s = i % sources.length;
		const src = sources[s]!;
		let line = src.lines[cursor[s]!++ % src.lines.length]!;
		if (i === rareIndex) {
			line += ` request ${rareToken} done`;
		}

		const receivedAt = Math.floor(startTime + i * step) + 1;
		const init = eventFromLine(line, {sourceId: 'listen', sourceKind: 'logio-listen', service: src.service, host: src.host, proc: 'app', receivedAt});
		const event: LogEvent = {...init, seq: i + 1, time: i % 1000 === 999 ? receivedAt - 36 * hourMs : receivedAt - (i % 5000)};
		await all.add(event);
		if (event.level === 'ERROR' || event.level === 'CRITICAL') {
			errorEvents++;
			await errors.add(event);
		}

		if (i % 1_000_000 === 0 && i > 0) {
			process.stdout.write(`  … ${(i / 1e6).toFixed(0)} M events written\n`);
		}
	}

	await all.close();
	await errors.close();
	// Seal two at a time: gzip runs on libuv's pool, the sidecar on this thread.
	const jobs = [...all.bases.map(b => path.join(dir, 'all', b)), ...errors.bases.map(b => path.join(dir, 'errors', b))];
	let next = 0;
	await Promise.all([0, 1].map(async () => {
		while (next < jobs.length) {
			const base = jobs[next++]!;
			await sealFile({raw: base + rawSuffix, gz: base + gzSuffix, index: base + indexSuffix});
		}
	}));
	return {version: historyFormatVersion, probe: await formatProbe(), events: totalEvents, errorEvents, token: rareToken, buildSeconds: (performance.now() - started) / 1000};
}

/** The cached 3-day history, built first when missing or of another format version. */
export async function benchHistory(): Promise<BenchHistory> {
	const dir = path.join(root, '.cache', 'bench-history', `v${historyFormatVersion}`);
	const doneFile = path.join(root, '.cache', 'bench-history', `v${historyFormatVersion}.done.json`);
	if (existsSync(doneFile) && existsSync(dir)) {
		const done = JSON.parse(readFileSync(doneFile, 'utf8')) as Done;
		if (done.version === historyFormatVersion && done.probe === await formatProbe() && done.events === totalEvents && done.token === rareToken) {
			return {dir, events: done.events, errorEvents: done.errorEvents, token: done.token, build: 'cached', buildSeconds: done.buildSeconds};
		}
	}

	rmSync(doneFile, {force: true});
	console.log(`building a ${days}-day history of ${totalEvents.toLocaleString('en')} events in ${dir} (cached for later runs)`);
	const done = await build(dir);
	writeFileSync(doneFile, JSON.stringify(done));
	return {dir, events: done.events, errorEvents: done.errorEvents, token: done.token, build: 'built', buildSeconds: done.buildSeconds};
}
