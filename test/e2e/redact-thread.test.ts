import {type ChildProcess} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {collect, start, waitFor} from '../support/logmon.js';
import {corpusLines} from '../support/redact-corpus.js';

// User redaction rules screened in a worker thread (source/redact-thread.ts, redact-worker.ts),
// through the built binary: the output must be exactly what one thread gives
// (LOGMON_REDACT_THREAD=0), and /api/v1/health says which way it ran.

const rules = [
	'order-token=tok_[a-z0-9]{24}',
	String.raw`ssn=\b\d{3}-\d{2}-\d{4}\b`,
	'session=(?i)session(?:_id)?=([A-Za-z0-9]{16,})',
	String.raw`iban=\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`,
].flatMap(r => ['--redact-rule', r]);

/**
 * 80,000 lines (the worker starts after 20,000 events): mostly plain, the redaction corpus spread
 * through, a private key printed line by line, JSON records, a Java trace with a password in it
 * (joined into one event), CR LF, escape sequences and lines over the cap (--max-line 1024) with a
 * secret past it and before it, and one cut in a word with no mark in it (the word is replaced).
 */
function input(): string {
	const secrets = corpusLines();
	const out: string[] = [];
	for (let i = 0; i < 80_000; i++) {
		out.push(i % 7 === 0 ? secrets[i % secrets.length]! : `GET /item/${i} 200 in ${i % 97} ms`);
		if (i % 1000 === 500) {
			out.push(`paid with tok_${'b2'.repeat(12)}, ssn 123-45-6789, iban DE89370400440532013000`, '-----BEGIN RSA PRIVATE KEY-----', 'MIIEpAIBAAKCAQEA1234567890abcdef', '-----END RSA PRIVATE KEY-----', `{"msg":"login session_id=AbCdEfGhIjKlMnOpQr${i}","user":"ann"}`);
		}

		if (i % 1000 === 900) {
			out.push('ERROR login failed', 'java.lang.IllegalStateException: password=hunter2', '\tat com.example.Login.check(Login.java:12)', `crlf password=crlf${i}\r`, `\u001B[31mred\u001B[0m password=esc${i}`, 'x'.repeat(1000) + ` password=pastTheCap${i}`, `password=beforeTheCap${i} ` + 'y'.repeat(1100), 'z'.repeat(1010) + ` plainWordCutAtTheCap${i}`);
		}
	}

	return out.join('\n') + '\n';
}

/** The JSON lines without the times of receipt, which differ between runs. */
function timeless(stdout: string): string[] {
	return stdout.trim().split('\n').map(line => {
		const e = JSON.parse(line) as Record<string, unknown>;
		delete e['time'];
		delete e['receivedAt'];
		return JSON.stringify(e);
	});
}

const dir = mkdtempSync(path.join(tmpdir(), 'logmon-redact-thread-'));
afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

/** Write the first 30,000 lines, give the worker time to start (it starts after 20,000 events), then the rest. */
async function feed(child: ChildProcess, text: string): Promise<void> {
	const cut = text.split('\n', 30_000).join('\n').length + 1;
	child.stdin!.write(text.slice(0, cut));
	await new Promise(resolve => setTimeout(resolve, 1500));
	child.stdin!.end(text.slice(cut));
}

describe('user redaction rules in a second thread', () => {
	it('give exactly what one thread gives: every line, in order, with the same counts', async () => {
		const text = input();
		// Hash mode with one key for both runs: the same pseudonyms.
		const hash = path.join(dir, 'hash.json');
		writeFileSync(hash, JSON.stringify({redact: {mode: 'hash', key: 'thread-test-key-0123456789abcdef'}}));
		for (const mode of [[], ['--config', hash]]) {
			const [threaded, alone] = await Promise.all([{}, {LOGMON_REDACT_THREAD: '0'}].map(async env => {
				const child = start(['--no-ui', '-o', 'json', '--max-line', '1024', ...rules, ...mode], {env});
				const result = collect(child, 60_000);
				await feed(child, text);
				return result;
			}));
			expect(threaded!.code).toBe(0);
			expect(alone!.code).toBe(0);
			const lines = timeless(threaded!.stdout);
			// Each 1000 lines: the five above, and six more: the trace (one event) and the five lines after it.
			expect(lines).toHaveLength(80_000 + (80 * 5) + (80 * 6));
			expect(lines).toEqual(timeless(alone!.stdout));
			expect(threaded!.stderr).toBe(alone!.stderr);
			expect(threaded!.stderr).toMatch(/order-token 80, ssn 80, session 80, iban 80/);
			expect(threaded!.stdout).not.toContain('123-45-6789');
			expect(threaded!.stdout).not.toContain('MIIEpAIBAAKCAQEA1234567890abcdef');
			expect(threaded!.stdout).not.toMatch(/hunter2|password=(?:crlf|esc|beforeTheCap)\d|plainWordCut/);
		}
	});

	it('/api/v1/health shows the redaction thread and the events it screened with user rules, and none without', async () => {
		const text = input();
		for (const [args, thread] of [[rules, 'thread'], [[], 'off']] as const) {
			const child = start(['serve', '--stdin', '--no-history', '--http', '127.0.0.1:0', ...args]);
			const seen = await waitFor(child.stderr!, /serving (http:\/\/[\d.:]+)\/api\/v1\//);
			const url = /serving (http:\/\/[\d.:]+)\/api\/v1\//.exec(seen)![1]!;
			await feed(child, text);
			type Health = {redaction: {thread: string; screened: number}; sources: Array<{events: number}>};
			let health: Health;
			do {
				await new Promise(resolve => setTimeout(resolve, 100)); // eslint-disable-line no-await-in-loop
				health = await (await fetch(`${url}/api/v1/health`)).json() as Health; // eslint-disable-line no-await-in-loop
			} while (health.sources[0]!.events < 80_800);

			expect(health.redaction.thread).toBe(thread);
			if (thread === 'thread') {
				// The first 20,000 before it starts, and those that came while it started, were redacted without it.
				expect(health.redaction.screened).toBeGreaterThan(40_000);
			} else {
				expect(health.redaction.screened).toBe(0);
			}

			child.kill('SIGTERM');
			await collect(child);
		}
	});
});
