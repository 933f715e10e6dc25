import path from 'node:path';
import {App} from './app.js';
import {type Cli} from './cli.js';
import {ConfigError} from './config/errors.js';
import {readConfig} from './config/read.js';
import {FilterError, compileFilter} from './core/filter.js';
import {failUsage as fail} from './exit.js';
import {colorLevel, createFormatter, TemplateError} from './sinks/format.js';
import {createRedactor, diagnosticScrub, RedactKeyError} from './redact-key.js';
import {eventOutlets, resolveSettings, type Settings, UsageError, unredactedWarning, unusedHistoryFlagsWarning} from './settings.js';
import {type Terminal} from './ui/tty.js';
import {type RunningHttp} from './http/start.js';
import {defaultHistoryDir} from './history/paths.js';

// The default command and `logmon serve`: resolve settings, pick pipe or UI mode, run the
// sources until the end. main.ts loads it only for them, so `query`, `publish` and
// `--version` start without it.

export async function runWatch(cli: Cli): Promise<number> {
	const {stdout, stderr, env} = process;
	const {flags, input} = cli;
	const queryOnly = ([['until', '--until'], ['limit', '--limit'], ['reverse', '--reverse'], ['count', '--count'], ['stats', '--stats'], ['follow', '--follow']] as const)
		.find(([key]) => flags[key] !== undefined && flags[key] !== false);
	if (queryOnly) {
		return fail(stderr, `${queryOnly[1]}: only for logmon query, e.g. logmon query ${queryOnly[1]}${queryOnly[0] === 'until' ? ' 30m' : (queryOnly[0] === 'limit' ? ' 100' : '')}`);
	}

	// Any other positional arguments are files to follow (settings.ts), after `serve` too.
	let settings: Settings;
	try {
		const {config, file} = await readConfig(flags.config, env);
		settings = await resolveSettings(flags, config, {stdinIsTTY: Boolean(process.stdin.isTTY), input, configFile: file});
	} catch (error) {
		if (error instanceof ConfigError || error instanceof FilterError || error instanceof UsageError) {
			return fail(stderr, error.message);
		}

		throw error;
	}

	if (settings.serve && settings.ui) {
		return fail(stderr, '--ui: logmon serve has no UI; watch it with the dashboard or the API');
	}

	const useUi = !settings.serve && (settings.ui ?? Boolean(stdout.isTTY));
	let format;
	try {
		format = await createFormatter({
			format: settings.output,
			template: settings.template,
			colorLevel: colorLevel(settings.color, Boolean(stdout.isTTY), env),
			toTerminal: Boolean(stdout.isTTY),
		});
	} catch (error) {
		if (error instanceof TemplateError) {
			return fail(stderr, error.message);
		}

		throw error;
	}

	// `logmon | grep x` from a terminal: the UI draws on /dev/tty and the stream still goes to stdout.
	let terminal: Terminal | undefined;
	if (!settings.serve && (settings.ui ?? (useUi || Boolean(process.stdin.isTTY)))) {
		// No React or Ink unless the UI really runs: pipe mode never loads them.
		const {openTerminal} = await import('./ui/tty.js');
		terminal = openTerminal();
		if (!terminal && settings.ui === true) {
			return fail(stderr, '--ui: no terminal to draw on (stdout is not a terminal and /dev/tty cannot be opened)');
		}
	}

	if (terminal && settings.debug && process.stderr.isTTY) {
		// Protocol traces on the terminal the UI draws on would tear the screen apart.
		return fail(stderr, '--debug: with the UI, send the trace elsewhere: logmon --debug 2>logmon-debug.log (or use --no-ui)');
	}

	// Pipe mode never reads the store: a one-event store lets events die young instead of
	// being kept (and copied by the GC) for a view that does not exist.
	// The HTTP API answers from the store too.
	const app = new App(terminal || settings.http ? settings.buffer : 1);
	const warn = (text: string): void => {
		if (terminal) {
			app.bus.diagnostics.add('warn', 'redact', text);
		} else {
			stderr.write(`logmon: ${text}\n`);
		}
	};

	try {
		app.bus.redactor = createRedactor(settings.redact, {secret: s => app.bus.diagnostics.secrets.add(s), warn, env});
		app.bus.diagnostics.scrub = diagnosticScrub(settings.redact);
	} catch (error) {
		if (error instanceof RedactKeyError) {
			return fail(stderr, error.message);
		}

		throw error;
	}

	if (app.bus.redactor && (settings.redact.rules.length > 0 || env['LOGMON_REDACT_THREAD'] === '1')) {
		// User rules cost the most: their scans run on another core where there is one.
		const {redactScreen} = await import('./redact-thread.js');
		const screen = redactScreen(settings.redact, env, why => {
			app.bus.redactionThread = `failed: ${why}`;
			app.bus.diagnostics.add('warn', 'redact', `${why}; redacting in the main thread from now on`);
		});
		if (screen) {
			app.bus.screenRedaction(screen);
		}
	}

	const unredacted = unredactedWarning(settings.redact.enabled, eventOutlets(settings));
	if (unredacted) {
		warn(unredacted);
	}

	const unusedHistory = unusedHistoryFlagsWarning(cli.flags, settings.history.enabled);
	if (unusedHistory) {
		warn(unusedHistory);
	}

	await app.addSources(settings.sources, {debug: settings.debug, maxLine: settings.maxLine});
	const filter = compileFilter(settings.filter);
	try {
		await app.startAlerts(settings.alerts);
	} catch (error) {
		return fail(stderr, `alerts: ${error instanceof Error ? error.message : String(error)}`);
	}

	// Before the sources start, so every event reaches them; --demo forwards to a file of its own.
	const demoForward = settings.demo ? await (await import('./demo-forward.js')).demoForwarder(settings) : undefined;
	try {
		await app.startForwarders(settings.forward, {stateDir: demoForward?.dir ?? path.dirname(settings.history.dir ?? defaultHistoryDir(env))});
	} catch (error) {
		await demoForward?.remove();
		return fail(stderr, error instanceof Error ? error.message : String(error));
	}

	if (demoForward) {
		// Before the UI takes the screen, as the dashboard's address.
		const line = `demo: forwarding every event to ${demoForward.file} (removed at exit)`;
		stderr.write(`logmon: ${line}\n`);
		app.bus.diagnostics.add('info', 'forward', line);
	}

	/** newTerm rules reading back the history's errors (alerts/learn-history.ts). */
	let learning: {stop(): void} | undefined;
	if (settings.history.enabled) {
		const {startHistory} = await import('./history/start.js');
		app.history = await startHistory(app.bus, settings.history);
		const reader = app.history.reader;
		if (app.alerts?.engine.learnsTerms && reader) {
			const {learnLater} = await import('./alerts/learn-history.js');
			learning = learnLater(app.alerts.engine, reader, settings.history.errorRetentionMs, {
				done: read => app.bus.diagnostics.add('debug', 'alerts', `newTerm rules learnt from ${read} stored errors`),
				failed: error => app.bus.diagnostics.add('warn', 'alerts', `newTerm rules could not read the history: ${error instanceof Error ? error.message : String(error)}`),
			});
		}
	}

	// Before the sources start, so its aggregates see every event.
	let http: RunningHttp | undefined;
	if (settings.http) {
		const {startHttp} = await import('./http/start.js');
		const {HttpListenError} = await import('./http/server.js');
		const version = typeof cli.pkg.version === 'string' ? cli.pkg.version : 'unknown';
		if (settings.http.from === '--demo') {
			const {firstFreePort} = await import('./http/free-port.js');
			// None of the next few free: any port the system gives.
			settings.http.port = await firstFreePort(settings.http.host, settings.http.port) ?? 0;
		}

		try {
			http = await startHttp(app, settings.http, {
				version,
				historyFlushMs: settings.history.flushMs,
				say(level, text) {
					if (terminal) {
						app.bus.diagnostics.add(level, 'http', text);
					} else {
						stderr.write(`logmon: http: ${text}\n`);
					}
				},
			});
		} catch (error) {
			if (error instanceof HttpListenError) {
				await app.history?.close();
				return fail(stderr, error.message);
			}

			throw error;
		}

		if (!settings.serve) {
			const line = `http: serving ${http.url}/api/v1/`;
			if (terminal) {
				app.bus.diagnostics.add('info', 'http', line);
			} else {
				stderr.write(`logmon: ${line}\n`);
			}

			if (settings.demo) {
				// Before the UI takes the screen: the browser view of the same run.
				const dashboard = `dashboard: ${http.url}/`;
				stderr.write(`logmon: ${dashboard}\n`);
				app.bus.diagnostics.add('info', 'http', dashboard);
			}
		}
	}

	const demo = settings.demo ? await (await import('./demo.js')).startDemo(app, {rate: settings.demoRate, debug: settings.debug, maxLine: settings.maxLine, kafkaBrokers: env['KAFKA_BROKERS'], env}) : undefined;
	if (demo) {
		// Before the UI takes the screen: which sources run, and which this machine lacks.
		stderr.write(`logmon: ${demo.summary}\n`);
		app.bus.diagnostics.add('info', 'demo', demo.summary);
	}

	if (settings.serve) {
		// `logmon serve --demo` too: the demo's sources feed the service.
		const {runServe} = await import('./serve.js');
		const code = await runServe(app, {http: http!, stderr});
		await demo?.stop();
		await app.history?.close();
		await demoForward?.remove();
		return code;
	}

	// What runs beside the sources, stopped once the UI or the pipe has ended.
	const stopAll = async (): Promise<void> => {
		await http?.close();
		await demo?.stop();
		learning?.stop();
		await app.history?.close();
		await demoForward?.remove();
	};

	if (terminal) {
		// ink 6.8 draws no live frames when it thinks it runs under CI; this is a real terminal.
		delete env['CI'];
		delete env['CONTINUOUS_INTEGRATION'];
		const {runUi} = await import('./ui/run.js');
		const code = await runUi(app, {settings, filter, format, terminal, pipe: terminal.separateFromStdout ? stdout : undefined, stderr, stats: http?.context.aggregates.stats});
		await stopAll();
		return code;
	}

	const {runPipe} = await import('./pipe.js');
	const code = await runPipe(app, {filter, format, stderr, out: stdout});
	await stopAll();
	return code;
}
