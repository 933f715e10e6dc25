import {execFile} from 'node:child_process';
import http from 'node:http';
import {dockerSocketUrl} from './config/docker.js';
import {engineAddress} from './sources/docker-engine.js';

// Whether this machine has the local sources `--demo` can add: a Docker engine answering on its
// socket ($DOCKER_HOST or the default) and a journal journalctl can read. Each answer is quick
// (a second at most) and says why not, for the demo's start-up line.

const probeMs = 1000;

export type Probe = {ok: true; at: string} | {ok: false; why: string};

/** Does a Docker engine answer GET /_ping on the socket `--docker` would use? */
export async function probeDocker(env: NodeJS.ProcessEnv = process.env): Promise<Probe> {
	const {url} = dockerSocketUrl({}, env);
	let address: ReturnType<typeof engineAddress>;
	try {
		address = engineAddress(url);
	} catch {
		return {ok: false, why: `DOCKER_HOST is not a socket logmon reads (${url})`};
	}

	const where = 'socketPath' in address ? {socketPath: address.socketPath} : {host: address.host, port: address.port};
	return new Promise(resolve => {
		const request = http.get({...where, path: '/_ping', timeout: probeMs}, response => {
			response.resume();
			resolve(response.statusCode === 200 ? {ok: true, at: address.label} : {ok: false, why: `the engine at ${address.label} answered ${response.statusCode ?? '?'}`});
		});
		request.once('timeout', () => {
			request.destroy();
			resolve({ok: false, why: `no answer from ${address.label}`});
		});
		request.once('error', error => {
			const code = (error as NodeJS.ErrnoException).code;
			resolve({ok: false, why: code === 'ENOENT' ? `no socket at ${address.label}` : `${address.label}: ${code ?? error.message}`});
		});
	});
}

/** Is there a journalctl that reads a journal with entries in it? */
export async function probeJournal(): Promise<Probe> {
	return new Promise(resolve => {
		execFile('journalctl', ['-n', '1', '-o', 'json', '--no-pager'], {timeout: probeMs, maxBuffer: 1024 * 1024}, (error, stdout, stderr) => {
			if (error) {
				const code = (error as NodeJS.ErrnoException).code;
				resolve({ok: false, why: code === 'ENOENT' ? 'no journalctl' : `journalctl: ${String(stderr).trim().split('\n')[0] || error.message}`});
			} else if (stdout.trim() === '') {
				resolve({ok: false, why: String(stderr).includes('No journal files') ? 'no journal files' : 'no journal entries'});
			} else {
				resolve({ok: true, at: 'journalctl'});
			}
		});
	});
}
