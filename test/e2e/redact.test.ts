import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {collect, freePort, run, start, waitFor} from '../support/logmon.js';
import {corpusLines, nearMisses, secretCases} from '../support/redact-corpus.js';

// Redaction through the built binary: stdin in plain text, logfmt and JSON records, out through
// every -o format; the flags, the config, `logmon redact --test`, and hash mode across restarts.

const dir = mkdtempSync(path.join(tmpdir(), 'logmon-redact-'));
afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

const input = corpusLines().join('\n') + '\n';

function expectRedacted(output: string): void {
	for (const c of secretCases) {
		expect(output, c.rule).not.toContain(c.secret);
	}

	for (const c of new Set(secretCases.map(c => c.rule))) {
		expect(output, c).toContain(`[REDACTED:${c}]`);
	}
}

function config(name: string, value: unknown): string {
	const file = path.join(dir, name);
	writeFileSync(file, JSON.stringify(value));
	return file;
}

describe('redaction in pipe mode', () => {
	it('-o text, raw and json: every secret of the corpus is replaced, every near-miss kept, counts on stderr', async () => {
		for (const format of ['text', 'raw', 'json']) {
			const r = await run(['--no-ui', '-o', format], {input});
			expect(r.code, format).toBe(0);
			expectRedacted(r.stdout);
			for (const n of nearMisses) {
				expect(r.stdout, `${format}: ${n.what}`).toContain(n.keep);
			}

			expect(r.stderr, format).toMatch(/^logmon: redacted: 42 events changed \(card 9, .*aws-key 3.*\)\n$/);
		}

		const json = (await run(['--no-ui', '-o', 'json'], {input})).stdout.trim().split('\n').map(l => JSON.parse(l) as {raw: string; record?: unknown});
		expect(json).toHaveLength(corpusLines().length);
		// JSON records stay JSON in raw, and the record shown by -o json is redacted too.
		for (const e of json.filter(e => e.record !== undefined)) {
			expect(() => JSON.parse(e.raw) as unknown).not.toThrow();
		}
	});

	it('the history keeps only redacted text: read back by logmon query, and in the files on disk', async () => {
		const history = path.join(dir, 'history');
		const r = await run(['--no-ui', '-o', 'raw', '--history', '--history-dir', history], {input});
		expect(r.code).toBe(0);
		for (const format of ['raw', 'json']) {
			const q = await run(['query', '--history-dir', history, '-o', format]);
			expect(q.code, format).toBe(0);
			expect(q.stdout.trim().split('\n'), format).toHaveLength(corpusLines().length);
			expectRedacted(q.stdout);
			for (const n of nearMisses) {
				expect(q.stdout, `${format}: ${n.what}`).toContain(n.keep);
			}
		}

		// What a person with zcat or jq finds in the directory.
		const {execFileSync} = await import('node:child_process');
		const files = execFileSync('sh', ['-c', 'cd "$1" && for f in all/* errors/*; do case "$f" in *.gz) zcat "$f";; *.ndjson) cat "$f";; esac; done', 'sh', history], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024});
		expect(files.length).toBeGreaterThan(0);
		for (const c of secretCases) {
			expect(files, c.rule).not.toContain(c.secret);
		}
	});

	it('what logmon says on stderr of a line it read passes the rules too (an unreadable time quoted)', async () => {
		const said = await run(['--no-ui', '-o', 'raw'], {input: '{"time":"AKIAIOSFODNN7EXAMPLE","message":"x"}\n'});
		expect(said.stderr).toContain('a record with an unreadable time "[REDACTED:aws-key]"');
		expect(said.stdout + said.stderr).not.toContain('AKIAIOSFODNN7EXAMPLE');
	});

	it('--no-redact shows lines as they came; with --serve-subscribers or history it warns on stderr', async () => {
		const off = await run(['--no-ui', '-o', 'raw', '--no-redact'], {input});
		expect(off.stdout).toBe(input);
		expect(off.stderr).toBe('');

		const [listen, serve] = [await freePort(), await freePort()];
		const child = start(['--no-ui', '--no-redact', '--listen', `127.0.0.1:${listen}`, '--serve-subscribers', `127.0.0.1:${serve}`]);
		await waitFor(child.stderr!, /redaction is off \(--no-redact or redact.enabled: false\): logio subscribers and the history files get every line as it came/);
		child.kill('SIGTERM');
		await collect(child);

		const kept = await run(['--no-ui', '-o', 'raw', '--no-redact', '--history'], {input: 'x\n'});
		expect(kept.stderr).toMatch(/redaction is off .*: the history files get every line as it came/);

		const fromConfig = await run(['--no-ui', '-o', 'raw', '--config', config('off.json', {redact: {enabled: false}})], {input: 'key=AKIAIOSFODNN7EXAMPLE\n'});
		expect(fromConfig.stdout).toBe('key=AKIAIOSFODNN7EXAMPLE\n');
	});

	it('--redact-rule, --redact-enable, --redact-field and the config add rules; bad ones exit 2 naming the flag', async () => {
		const lines = '{"msg":"signup ann@example.com","ssn":"123-45-6789","order":"tok_ab12cd34ef56"}\nfrom 10.0.0.7 ref=tok_zz99yy88xx77\n';
		const r = await run(['--no-ui', '-o', 'raw', '--redact-rule', 'order=tok_[a-z0-9]{12}', '--redact-enable', 'email,ipv4', '--redact-field', 'ssn'], {input: lines});
		expect(r.stdout).toBe('{"msg":"signup [REDACTED:email]","ssn":"[REDACTED:ssn]","order":"[REDACTED:order]"}\nfrom [REDACTED:ipv4] ref=[REDACTED:order]\n');

		const file = config('rules.json', {redact: {rules: [{name: 'order', pattern: 'tok_[a-z0-9]{12}'}], fields: ['ssn'], enable: ['email', 'ip'], disable: ['card']}});
		const fromConfig = await run(['--no-ui', '-o', 'raw', '--config', file], {input: lines + '4111 1111 1111 1111\n'});
		expect(fromConfig.stdout).toBe(r.stdout + '4111 1111 1111 1111\n');

		for (const [args, message] of [
			[['--redact-enable', 'emial'], /^logmon: --redact-enable: unknown rule "emial"; the built-in rules are /],
			[['--redact-rule', 'no-equals-sign'], /^logmon: --redact-rule: expected NAME=REGEX/],
			[['--redact-rule', 'x=(a'], /^logmon: --redact-rule: invalid regular expression "\(a"/],
			[['--redact-rule', 'x=(a)\\1'], /^logmon: --redact-rule: .*backreferences are not supported/],
			[['--redact-rule', 'jwt=x'], /^logmon: --redact-rule: rule name "jwt" is taken/],
			[['--redact-field', 'a..b'], /^logmon: --redact-field: field "a..b"/],
			[['--redact-field', ''], /^logmon: --redact-field: expected a key .*; got nothing/],
			[['--redact-rule', 'x='], /^logmon: --redact-rule: expected NAME=REGEX/],
			[['--redact-mode', 'blank'], /^logmon: --redact-mode: expected one of mask, hash/],
			[['--config', config('bad.json', {redact: {rules: [{name: 'x', pattern: '(?<=a)b'}]}})], /^logmon: \/\S+\/bad\.json: redact.rules\[0\]: .*lookarounds are not supported/],
			[['--config', config('bad2.json', {redact: {enable: ['cards']}})], /^logmon: \/\S+\/bad2\.json: redact.enable: unknown rule "cards"/],
		] as Array<[string[], RegExp]>) {
			const bad = await run(['--no-ui', ...args], {input: 'x\n'});
			expect(bad.code, args.join(' ')).toBe(2);
			expect(bad.stderr, args.join(' ')).toMatch(message);
		}
	});

	it('--help lists the redaction flags with an example', async () => {
		const help = await run(['--help']);
		for (const flag of ['--no-redact', '--redact-rule NAME=RE', '--redact-enable', '--redact-disable', '--redact-field', '--redact-mode', 'logmon redact --test']) {
			expect(help.stdout).toContain(flag);
		}

		expect(help.stdout).toMatch(/\$ logmon --redact-enable email --redact-rule 'order-token=tok_\[a-z0-9\]\{24\}' < app.log/);
	});
});

describe('logmon redact --test', () => {
	it('prints each line as redaction leaves it, then the rules that fired; JSON lines as records', async () => {
		const r = await run(['redact', '--test', '--redact-rule', 'order=tok_[a-z0-9]{12}'], {input: 'key=AKIAIOSFODNN7EXAMPLE card 4111 1111 1111 1111\nnothing here\n{"password":"hunter2","ref":"tok_ab12cd34ef56"}\n'});
		expect(r.code).toBe(0);
		expect(r.stdout).toBe([
			'key=[REDACTED:aws-key] card [REDACTED:card]',
			'  ← aws-key, card',
			'nothing here',
			'{"password":"[REDACTED:password]","ref":"[REDACTED:order]"}',
			'  ← password, order',
			'',
		].join('\n'));
	});

	it('honours the config, --color always, --no-color and NO_COLOR; needs --test', async () => {
		const file = config('test-config.json', {redact: {enable: ['email']}});
		const plain = await run(['redact', '--test', '--config', file], {input: 'to ann@example.com\n'});
		expect(plain.stdout).toBe('to [REDACTED:email]\n  ← email\n');
		const colour = await run(['redact', '--test', '--color', 'always'], {input: 'AKIAIOSFODNN7EXAMPLE\n'});
		expect(colour.stdout).toBe('[REDACTED:aws-key]\n\u001B[2m  ← aws-key\u001B[22m\n');
		for (const [args, env] of [[['--no-color'], {FORCE_COLOR: '1'}], [[], {NO_COLOR: '1', FORCE_COLOR: '1'}]] as const) {
			const r = await run(['redact', '--test', ...args], {input: 'AKIAIOSFODNN7EXAMPLE\n', env});
			expect(r.stdout).toBe('[REDACTED:aws-key]\n  ← aws-key\n');
		}

		const twice = await run(['redact', '--test', '--color', 'always', '--no-color'], {input: ''});
		expect(twice.code).toBe(2);
		expect(twice.stderr).toBe('logmon: The flag --color can only be set once.\n');
		const usage = await run(['redact'], {input: ''});
		expect(usage.code).toBe(2);
		expect(usage.stderr).toMatch(/redact: usage: logmon redact --test/);
	});
});

describe('hash mode', () => {
	const pseudonyms = (text: string): string[] => text.match(/\[[\w.-]+:[\da-f]{10}\]/g) ?? [];
	const lines = 'user 4111 1111 1111 1111 paid\nagain 4111 1111 1111 1111\nother 5555555555554444\n';

	it('the key made in the state directory (0600, in a 0700 directory) gives the same pseudonyms after a restart', async () => {
		const state = path.join(dir, 'state');
		const env = {XDG_STATE_HOME: state};
		const first = await run(['--no-ui', '-o', 'raw', '--redact-mode', 'hash'], {input: lines, env});
		const second = await run(['--no-ui', '-o', 'raw', '--redact-mode', 'hash'], {input: lines, env});
		const [a, b, c] = pseudonyms(first.stdout);
		expect(first.stdout).toMatch(/^user \[card:[\da-f]{10}\] paid\n/);
		expect(a).toBe(b);
		expect(c).not.toBe(a);
		expect(second.stdout).toBe(first.stdout);
		const keyFile = path.join(state, 'logmon', 'redact.key');
		expect(statSync(keyFile).mode & 0o777).toBe(0o600);
		expect(statSync(path.dirname(keyFile)).mode & 0o777).toBe(0o700);
		expect(readFileSync(keyFile, 'utf8').trim()).toMatch(/^[\da-f]{64}$/);

		const other = await run(['--no-ui', '-o', 'raw', '--redact-mode', 'hash'], {input: lines, env: {XDG_STATE_HOME: path.join(dir, 'other-state')}});
		expect(pseudonyms(other.stdout)[0]).not.toBe(a);
	});

	it('redact.key from the environment: the same key, the same pseudonyms; another key, others', async () => {
		const file = config('hash.json', {redact: {mode: 'hash', key: '${LOGMON_TEST_REDACT_KEY}'}});
		const withKey = async (key: string) => run(['--no-ui', '-o', 'raw', '--config', file], {input: lines, env: {LOGMON_TEST_REDACT_KEY: key, XDG_STATE_HOME: path.join(dir, 'unused')}});
		const one = await withKey('first-key-0123456789abcdef');
		const again = await withKey('first-key-0123456789abcdef');
		const two = await withKey('second-key-0123456789abcdef');
		expect(pseudonyms(one.stdout)).toHaveLength(3);
		expect(again.stdout).toBe(one.stdout);
		expect(pseudonyms(two.stdout)[0]).not.toBe(pseudonyms(one.stdout)[0]);
		const short = await run(['--no-ui', '--config', config('short.json', {redact: {mode: 'hash', key: 'short'}})], {input: ''});
		expect(short.code).toBe(2);
		expect(short.stderr).toMatch(/redact.key: expected at least 16 characters/);
	});
});

it('--demo logs fake secrets now and then, and they show redacted, its user rule\'s catch too', async () => {
	const child = start(['--demo', '--no-ui', '--demo-rate', '400', '-o', 'raw', '--no-stdin']);
	const seen = await waitFor(child.stdout!, /\[REDACTED:(?:aws-key|card|url-password|authorization)\][\s\S]*\[REDACTED:[\s\S]*paid with \[REDACTED:order-token\]/, 30_000);
	child.kill('SIGTERM');
	const r = await collect(child);
	expect(seen + r.stdout).not.toMatch(/AKIAIOSFODNN7EXAMPLE|4111 1111 1111 1111|demo-Pa55word|tok_4f9c/);
});
