import {spawn} from 'node:child_process';
import {type SinkConfig} from '../config/alerts.js';
import {commandEnv, logmonBody} from '../core/alert-payload.js';
import {type Outcome, type Sink, type SinkContext, deliveryFor, plainSink} from './delivery.js';

// `command`: runs a program, argv as configured, never through a shell: the alert's
// fields are in LOGMON_ALERT_* environment variables and, as logmon's JSON body, on its
// stdin. Nothing from a log line is ever part of a command line. Its stdout is thrown
// away (logmon's stdout may be the stream); the end of its stderr is kept for the report.
// A run past the time limit is stopped (SIGTERM, then SIGKILL). Exit statuses are counted.

const stderrKept = 2048;
const killGraceMs = 2000;
/** How long the end of a program's stderr is waited for once it has exited. */
const stderrGraceMs = 500;

export function commandSink(name: string, config: Extract<SinkConfig, {type: 'command'}>, context: SinkContext): Sink {
	const [program, ...args] = config.argv as [string, ...string[]];
	const exits: Record<string, number> = {};
	const sink = plainSink(deliveryFor(name, 'command', {
		async send(notices): Promise<Outcome> {
			const child = spawn(program, args, {
				shell: false,
				env: {...process.env, ...config.env, ...commandEnv(notices)},
				stdio: ['pipe', 'ignore', 'pipe'],
			});
			let stderr = '';
			child.stderr.setEncoding('utf8').on('data', (d: string) => {
				stderr = (stderr + d).slice(-stderrKept);
			});
			child.stdin.on('error', () => {
				// The program did not read its stdin: its choice.
			});
			child.stdin.end(JSON.stringify(logmonBody(notices, name)) + '\n');
			let timedOut = false;
			const timer = setTimeout(() => {
				timedOut = true;
				child.kill('SIGTERM');
				setTimeout(() => child.kill('SIGKILL'), killGraceMs).unref();
			}, config.timeout);
			const result = await new Promise<{code: number | null; signal: NodeJS.Signals | null; error?: Error}>(resolve => {
				child.once('error', error => {
					resolve({code: null, signal: null, error});
				});
				let grace: NodeJS.Timeout | undefined;
				child.once('close', (code, signal) => {
					clearTimeout(grace);
					resolve({code, signal});
				});
				// 'close' waits for stderr to end, which a child the program left running in the
				// background keeps open: once the program itself has exited, its stderr gets a moment.
				child.once('exit', (code, signal) => {
					grace = setTimeout(() => {
						resolve({code, signal});
						child.stderr.destroy();
					}, stderrGraceMs);
				});
			});
			clearTimeout(timer);
			const key = result.error ? 'not run' : (timedOut ? 'timeout' : (result.code === null ? String(result.signal) : String(result.code)));
			exits[key] = (exits[key] ?? 0) + 1;
			sink.delivery.health.exits = exits;
			if (result.error) {
				return {ok: false, retry: false, reason: `cannot run ${program}: ${result.error.message}`};
			}

			if (timedOut) {
				return {ok: false, retry: true, reason: `${program} ran past ${Math.round(config.timeout / 1000)}s and was stopped`};
			}

			if (result.code === 0) {
				return {ok: true};
			}

			const tail = stderr.trim().split('\n').at(-1)?.replaceAll(/[\u0000-\u001F\u007F-\u009F]/g, ' ') ?? '';
			const how = result.code === null ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
			return {ok: false, retry: true, reason: `${program} ${how}${tail ? `: ${tail.slice(0, 200)}` : ''}`};
		},
	}, config, context));
	return sink;
}
