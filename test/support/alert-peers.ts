import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {freePort, root} from './logmon.js';

// Real peers for the alert sinks: a scripted HTTP receiver, a real Alertmanager
// (Debian's prometheus-alertmanager, installed by scripts/ensure-alertmanager.sh).

export type Received = {method: string; path: string; headers: http.IncomingHttpHeaders; text: string; body: unknown; at: number};

/** How the receiver answers one request: a status (and body and headers), or misbehaviour. */
export type Reply = number | {status: number; body?: string; headers?: Record<string, string>} | 'hang' | 'reset';

/** An HTTP server on 127.0.0.1 that records every request and answers from a script (then 200). */
export class Receiver {
	readonly received: Received[] = [];
	readonly script: Reply[] = [];
	private readonly server: http.Server;
	private readonly hanging = new Set<http.ServerResponse>();
	port = 0;

	constructor(script: Reply[] = []) {
		this.script.push(...script);
		this.server = http.createServer((req, res) => {
			let text = '';
			req.setEncoding('utf8').on('data', (d: string) => {
				text += d;
			});
			req.on('end', () => {
				let body: unknown;
				try {
					body = JSON.parse(text);
				} catch {
					body = undefined;
				}

				this.received.push({method: req.method ?? '', path: req.url ?? '', headers: req.headers, text, body, at: Date.now()});
				this.answer(this.script.shift() ?? 200, res);
			});
		});
	}

	private answer(reply: Reply, res: http.ServerResponse): void {
		if (reply === 'hang') {
			this.hanging.add(res);
			return;
		}

		if (reply === 'reset') {
			res.socket?.resetAndDestroy();
			return;
		}

		const r = typeof reply === 'number' ? {status: reply} : reply;
		res.writeHead(r.status, {'content-type': 'text/plain', ...r.headers});
		res.end(r.body ?? (r.status < 300 ? 'ok' : `error ${r.status}`));
	}

	async listen(): Promise<this> {
		await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve));
		this.port = (this.server.address() as net.AddressInfo).port;
		return this;
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}/hook`;
	}

	/** Bodies received so far, parsed. */
	bodies<T = Record<string, unknown>>(): T[] {
		return this.received.map(r => r.body as T);
	}

	async close(): Promise<void> {
		for (const res of this.hanging) {
			res.socket?.destroy();
		}

		await new Promise<void>(resolve => {
			this.server.close(() => resolve());
			this.server.closeAllConnections();
		});
	}
}

export const requirePeers = process.env['LOGMON_REQUIRE_PEERS'] === '1';

/** The Alertmanager binary, installed when missing; undefined (after a loud message) when it cannot be had. */
export function alertmanagerBinary(): string | undefined {
	try {
		const out = execFileSync('sh', [path.join(root, 'scripts', 'ensure-alertmanager.sh')], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000});
		return out.trim().split('\n').at(-1);
	} catch (error) {
		const bar = '!'.repeat(78);
		process.stderr.write(`\n${bar}\nlogmon: no Alertmanager (scripts/ensure-alertmanager.sh failed: ${(error as Error).message}).\n${requirePeers ? 'LOGMON_REQUIRE_PEERS=1: the Alertmanager test will FAIL.' : 'The Alertmanager test is SKIPPED.'}\n${bar}\n\n`);
		return undefined;
	}
}

export type RunningAlertmanager = {url: string; stop: () => Promise<void>; log: () => string};

/** Start Alertmanager on a free loopback port, routing every alert to `webhookUrl` quickly (group_wait 1s, group_interval 2s). */
export async function startAlertmanager(binary: string, webhookUrl: string): Promise<RunningAlertmanager> {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-am-'));
	const config = path.join(dir, 'alertmanager.yml');
	writeFileSync(config, [
		'route:',
		'  receiver: logmon-hook',
		'  group_by: [alertname, service]',
		'  group_wait: 1s',
		'  group_interval: 2s',
		'  repeat_interval: 1h',
		'receivers:',
		'  - name: logmon-hook',
		'    webhook_configs:',
		`      - url: ${webhookUrl}`,
		'        send_resolved: true',
		'',
	].join('\n'));
	const port = await freePort();
	let log = '';
	const child: ChildProcess = spawn(binary, [
		`--config.file=${config}`,
		`--web.listen-address=127.0.0.1:${port}`,
		'--cluster.listen-address=',
		`--storage.path=${path.join(dir, 'data')}`,
	], {stdio: ['ignore', 'pipe', 'pipe']});
	const collect = (d: Buffer): void => {
		log = (log + d.toString()).slice(-20_000);
	};

	child.stdout!.on('data', collect);
	child.stderr!.on('data', collect);
	const url = `http://127.0.0.1:${port}`;
	for (const deadline = Date.now() + 30_000; ;) {
		if (child.exitCode !== null) {
			throw new Error(`alertmanager exited ${child.exitCode}: ${log}`);
		}

		try {
			if ((await fetch(`${url}/-/ready`)).ok) {
				break;
			}
		} catch {
			// Not listening yet.
		}

		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`alertmanager did not become ready: ${log}`);
		}

		await new Promise(resolve => setTimeout(resolve, 100));
	}
	return {
		url,
		log: () => log,
		async stop() {
			const exited = new Promise(resolve => child.once('close', resolve));
			child.kill('SIGTERM');
			await exited;
			rmSync(dir, {recursive: true, force: true});
		},
	};
}

export const tlsDir = path.join(root, 'test', 'fixtures', 'tls');

export function tlsFiles(): {cert: Buffer; key: Buffer; certPath: string} {
	return {cert: readFileSync(path.join(tlsDir, 'cert.pem')), key: readFileSync(path.join(tlsDir, 'key.pem')), certPath: path.join(tlsDir, 'cert.pem')};
}
