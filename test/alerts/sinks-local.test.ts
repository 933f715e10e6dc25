import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import type net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {SMTPServer} from 'smtp-server';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {commandSink} from '../../source/alerts/command.js';
import {emailSink} from '../../source/alerts/email.js';
import {notice, recordingContext, sinkConfig} from '../support/alert-notices.js';
import {tlsFiles} from '../support/alert-peers.js';
import {until} from '../support/logmon.js';

// The email sink against a real SMTP server (the smtp-server package) that requires
// STARTTLS and a login, with the test certificate; the command sink against real
// programs: fields in the environment and JSON on stdin, a log line full of shell
// syntax that must run nothing, exit statuses counted, a time limit.

type Mail = {from: string; to: string[]; user: string | undefined; secure: boolean; raw: string};

/** Header value with folded lines joined. */
function header(raw: string, name: string): string | undefined {
	const head = raw.split(/\r?\n\r?\n/)[0]!.replaceAll(/\r?\n[ \t]+/g, ' ');
	return new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1];
}

/** The body, quoted-printable decoded when it says so. */
function body(raw: string): string {
	const text = raw.split(/\r?\n\r?\n/).slice(1).join('\n\n');
	return /quoted-printable/i.test(header(raw, 'Content-Transfer-Encoding') ?? '')
		? text.replaceAll(/=\r?\n/g, '').replaceAll(/=([\dA-F]{2})/g, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
		: text;
}

describe('email over SMTP with STARTTLS and a login', () => {
	const mails: Mail[] = [];
	let server: SMTPServer;
	let port = 0;

	beforeAll(async () => {
		const {cert, key} = tlsFiles();
		server = new SMTPServer({
			key,
			cert,
			authMethods: ['PLAIN', 'LOGIN'],
			logger: false,
			onAuth(auth, _session, callback) {
				if (auth.username === 'logmon' && auth.password === 'smtp-s3cret') {
					callback(null, {user: auth.username});
				} else {
					callback(new Error('Invalid username or password'));
				}
			},
			onData(stream, session, callback) {
				let raw = '';
				stream.setEncoding('utf8').on('data', (d: string) => {
					raw += d;
				});
				stream.on('end', () => {
					mails.push({
						from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
						to: session.envelope.rcptTo.map(r => r.address),
						user: session.user as string | undefined,
						secure: session.secure,
						raw,
					});
					callback();
				});
			},
		});
		await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
		port = ((server as unknown as {server: net.Server}).server.address() as net.AddressInfo).port;
	});

	afterAll(async () => {
		await new Promise<void>(resolve => server.close(() => resolve()));
	});

	const config = (password: string) => sinkConfig<'email'>('email', {
		host: '127.0.0.1',
		port,
		user: 'logmon',
		password: '${SMTP_PASSWORD}',
		from: 'logmon@example.com',
		to: ['oncall@example.com', 'dev@example.com'],
		ca: tlsFiles().certPath,
		timeout: '5s',
		retries: 1,
	}, {SMTP_PASSWORD: password});

	test('the notice arrives over TLS, logged in, with its subject and body', async () => {
		const context = recordingContext();
		const sink = await emailSink('email', config('smtp-s3cret'), context);
		sink.offer(notice());
		await until(() => sink.delivery.health.sent === 1 || sink.delivery.health.failed === 1, 'the mail to be sent', 20_000);
		await sink.stop();
		expect(context.failures).toEqual([]);
		expect(mails).toHaveLength(1);
		const [mail] = mails;
		expect(mail).toMatchObject({from: 'logmon@example.com', to: ['oncall@example.com', 'dev@example.com'], user: 'logmon', secure: true});
		expect(header(mail!.raw, 'Subject')).toBe('[logmon] FIRING db-errors {service=checkout}: 12 events in 5m (alert at 10 or more)');
		const text = body(mail!.raw);
		expect(text).toContain('rule:      db-errors (count, critical)');
		expect(text).toContain('group:     service=checkout');
		expect(text).toContain('checkout web-1 ERROR: connection refused to db:5432');
	});

	test('refused credentials: reported, not retried', async () => {
		const context = recordingContext();
		const sink = await emailSink('email', config('wrong'), context);
		sink.offer(notice());
		await until(() => sink.delivery.health.failed === 1, 'the refusal', 20_000);
		await sink.stop();
		expect(sink.delivery.health.retries).toBe(0);
		expect(context.failures[0]).toMatch(/^email: .*(535|Invalid username or password)/);
	});
});

describe('command', () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'logmon-command-'));
	const script = path.join(dir, 'record.cjs');
	writeFileSync(script, `
const fs = require('node:fs');
let input = '';
process.stdin.setEncoding('utf8').on('data', d => { input += d; }).on('end', () => {
	const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('LOGMON_ALERT_') || k === 'EXTRA'));
	fs.writeFileSync(process.argv[2], JSON.stringify({env, stdin: input, argv: process.argv.slice(3)}));
	if (process.env.EXIT_WITH) { process.stderr.write('it went wrong\\n'); process.exit(Number(process.env.EXIT_WITH)); }
});
`);
	const pwned = [path.join(dir, 'pwned-dollar'), path.join(dir, 'pwned-backtick'), path.join(dir, 'pwned-semicolon')];
	const hostile = `login failed for $(touch ${pwned[0]}) \`touch ${pwned[1]}\`; touch ${pwned[2]} "quoted" 'single' $HOME`;

	test('fields in the environment and JSON on stdin; shell syntax in a log line runs nothing', async () => {
		const out = path.join(dir, 'out.json');
		const context = recordingContext();
		const sink = commandSink('page', sinkConfig<'command'>('page', {type: 'command', argv: [process.execPath, script, out, '--literal', '$(id)'], env: {EXTRA: 'yes'}}), context);
		const n = notice({group: {service: `web$(touch ${pwned[0]})`}, sample: {...notice().sample!, message: hostile}});
		sink.offer(n);
		await until(() => sink.delivery.health.sent === 1 || sink.delivery.health.failed === 1, 'the command to run');
		expect(context.failures).toEqual([]);
		const got = JSON.parse(readFileSync(out, 'utf8')) as {env: Record<string, string>; stdin: string; argv: string[]};
		expect(got.argv).toEqual(['--literal', '$(id)']);
		expect(got.env).toMatchObject({
			EXTRA: 'yes',
			LOGMON_ALERT_STATUS: 'firing',
			LOGMON_ALERT_RULE: 'db-errors',
			LOGMON_ALERT_KIND: 'count',
			LOGMON_ALERT_SEVERITY: 'critical',
			LOGMON_ALERT_SUMMARY: '12 events in 5m (alert at 10 or more)',
			LOGMON_ALERT_MESSAGE: hostile,
			LOGMON_ALERT_LABEL_SERVICE: `web$(touch ${pwned[0]})`,
			LOGMON_ALERT_COUNT: '1',
			LOGMON_ALERT_ENDS_AT: '',
		});
		const body = JSON.parse(got.stdin) as {alerts: Array<{sample: {message: string}}>};
		expect(body.alerts[0]!.sample.message).toBe(hostile);
		for (const file of pwned) {
			expect(existsSync(file)).toBe(false);
		}

		expect(sink.delivery.health.exits).toEqual({0: 1});
		await sink.stop();
	});

	test('exit statuses are counted; a failure is reported with the end of stderr', async () => {
		const context = recordingContext();
		const sink = commandSink('page', sinkConfig<'command'>('page', {type: 'command', argv: [process.execPath, script, path.join(dir, 'x.json')], env: {EXIT_WITH: '3'}}), context);
		sink.offer(notice());
		await until(() => sink.delivery.health.failed === 1, 'the failure');
		expect(sink.delivery.health.exits).toEqual({3: 1});
		expect(context.failures).toEqual([`page: ${process.execPath} exited with status 3: it went wrong`]);
		await sink.stop();
	});

	test('a program that leaves a child running in the background (holding its stderr) is done when it exits', async () => {
		const context = recordingContext();
		const leaver = commandSink('leaver', sinkConfig<'command'>('leaver', {type: 'command', argv: ['sh', '-c', 'echo ran >&2; sleep 30 & exit 0'], timeout: '20s'}), context);
		leaver.offer(notice());
		leaver.offer(notice({group: {service: 'billing'}}));
		await until(() => leaver.delivery.health.sent === 2, 'both runs done');
		expect(leaver.delivery.health.exits).toEqual({0: 2});
		expect(context.failures).toEqual([]);
		await leaver.stop();
	});

	test('a program past its time limit is stopped; a missing one is reported', async () => {
		const context = recordingContext();
		const slow = commandSink('slow', sinkConfig<'command'>('slow', {type: 'command', argv: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeout: '1s'}), context);
		slow.offer(notice());
		await until(() => slow.delivery.health.failed === 1, 'the stop', 20_000);
		expect(slow.delivery.health.exits).toEqual({timeout: 1});
		expect(context.failures[0]).toMatch(/ran past 1s and was stopped$/);
		const missing = commandSink('missing', sinkConfig<'command'>('missing', {type: 'command', argv: [path.join(dir, 'no-such-program')]}), context);
		missing.offer(notice());
		await until(() => missing.delivery.health.failed === 1, 'the report');
		expect(missing.delivery.health.exits).toEqual({'not run': 1});
		expect(context.failures[1]).toMatch(/cannot run .*no-such-program: .*ENOENT/);
		await slow.stop();
		await missing.stop();
	});
});
