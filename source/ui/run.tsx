import {render} from 'ink';
import {type App} from '../app.js';
import {ErrorGroups} from '../core/errors.js';
import {type Filter} from '../core/filter.js';
import {ServiceStats} from '../core/stats.js';
import {exitCodes, exitNow} from '../exit.js';
import {type Settings} from '../settings.js';
import {threadedReader} from '../history/reader-thread.js';
import {type Formatter} from '../sinks/format.js';
import {StdoutSink} from '../sinks/stdout.js';
import {UiRoot} from './App.js';
import {UiController} from './controller.js';
import {type Terminal, enterScreen, restoreTerminal} from './tty.js';
import {describeHistory} from '../history/status-text.js';

// The UI entry called by main.ts. Sources -> bus -> store and aggregates (here)
// -> controller -> Ink. When the UI draws on /dev/tty and stdout is a pipe, the
// filtered stream is written to stdout too and follows the UI's filter.

export type UiOptions = {
	settings: Settings;
	filter: Filter;
	format: Formatter;
	terminal: Terminal;
	/** Where the filtered stream goes while the UI draws elsewhere (stdout in `logmon | grep x`). */
	pipe?: NodeJS.WritableStream | undefined;
	stderr: NodeJS.WritableStream;
	env?: NodeJS.ProcessEnv;
	/** The HTTP server's per-service statistics when --http runs: the same counts, kept once. */
	stats?: ServiceStats | undefined;
};

type QuitReason = 'quit' | 'interrupt' | 'SIGINT' | 'SIGTERM' | 'SIGHUP';

export function uiColorLevel(mode: Settings['color'], output: NodeJS.WriteStream, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
	if (mode === 'never') {
		return 0;
	}

	if (mode === 'auto' && ((env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') || env['TERM'] === 'dumb')) {
		return 0;
	}

	const depth = typeof output.getColorDepth === 'function' ? output.getColorDepth(env) : 4;
	if (depth >= 24) {
		return 3;
	}

	return depth >= 8 ? 2 : 1;
}

const showCursor = '\u001B[?25h';

/**
 * ink's cursor helper (restore-cursor 4) writes its show-cursor escape to process.stderr at exit,
 * even when stderr is a file (`--debug 2>debug.log`). logmon shows the cursor on the terminal it
 * drew on itself, so that one escape is kept out of a stderr that is not a terminal. A guard here,
 * not a patch of the package: an installed logmon gets ink's dependencies from the registry.
 */
function keepCursorEscapeOffFiles(): void {
	if (process.stderr.isTTY) {
		return;
	}

	const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
	process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => chunk === showCursor || write(chunk, ...rest)) as typeof process.stderr.write;
}

export async function runUi(app: App, options: UiOptions): Promise<number> {
	const {terminal, settings, stderr} = options;
	keepCursorEscapeOffFiles();
	const env = options.env ?? process.env;
	const out = terminal.output;

	// Aggregates see every event, before any source starts. With --http, the server's statistics
	// (subscribed before the sources started) are these; its error groups keep longer sparklines.
	const errors = new ErrorGroups();
	const ownStats = options.stats === undefined;
	const stats = options.stats ?? new ServiceStats();
	app.bus.subscribe(events => {
		errors.add(events);
		if (ownStats) {
			stats.add(events);
		}
	});

	const queue = options.pipe ? app.bus.queue('stdout', {filter: options.filter, alerts: false}) : undefined;
	const sink = queue && options.pipe ? new StdoutSink(queue, options.pipe as never, options.format) : undefined;

	let quit!: (reason: QuitReason) => void;
	const quitting = new Promise<QuitReason>(resolve => {
		quit = resolve;
	});
	sink?.whenClosed(() => {
		// The reader of the pipe went away; the UI itself carries on.
		app.bus.diagnostics.add('info', 'stdout', 'the pipe reader closed; the stream is no longer written');
	});

	// With a history, the tail, search, errors and stats reach back into it. The UI reads it off its
	// own thread: decoding a large segment takes long enough to skip frames.
	const reader = app.history?.reader ? threadedReader(app.history.dir) : undefined;
	const controller = new UiController({
		bus: app.bus,
		store: app.store,
		errors,
		stats,
		sources: app.sources.map(s => ({id: s.source.id, toggles: s.source.toggles})),
		filter: options.filter.spec,
		colorLevel: uiColorLevel(settings.color, out, env),
		history: app.history,
		historyReader: reader,
		// Before any event of this run (a demo may have published some already).
		runStart: Math.min(Date.now(), app.store.at(0)?.receivedAt ?? Number.POSITIVE_INFINITY),
		onFilterChange(filter) {
			if (queue) {
				queue.filter = filter; // the piped stream follows the UI
			}
		},
		onQuit: reason => {
			end(reason);
		},
		alerts: app.alerts
			? {snapshot: () => app.alerts!.alertsSnapshot(), silence: (rule, until) => app.alerts!.engine.silence(rule, until), version: () => app.alerts!.engine.version}
			: undefined,
		bell: settings.alerts.bell ? () => out.write('\u0007') : undefined,
	});
	app.alerts?.setTerminal(notice => {
		controller.alertNotice(notice);
	});
	for (const {source} of app.sources) {
		source.toggles?.onPairsChange(() => {
			controller.invalidate();
		});
	}

	app.bus.diagnostics.listen(() => {
		controller.invalidate();
	});
	app.bus.onHealth(() => {
		controller.invalidate();
	});
	// The history's state is in the status bar; why it is not writing goes to the hint line and the log.
	const history = app.history;
	if (history) {
		const tell = (): void => {
			const status = history.status();
			app.bus.diagnostics.add(status.state === 'writing' ? 'info' : 'warn', 'history', `${describeHistory(status).replace(/^history: /, '')} (${history.dir})`);
		};

		if (history.status().state !== 'writing') {
			tell();
		}

		history.onStatus(() => {
			tell();
			controller.invalidate();
		});
	}

	// Count what reaches the terminal, so the frame rate can respect a byte budget.
	const write = out.write.bind(out) as (chunk: unknown, ...rest: unknown[]) => boolean;
	out.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
		controller.noteBytes(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
		return write(chunk, ...rest);
	}) as typeof out.write;

	const restore = (): void => {
		restoreTerminal(terminal);
	};

	const onFatal = (error: unknown): void => {
		restore();
		stderr.write(`logmon: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(70);
	};

	// After a signal, shutting down must not hang (the terminal may be gone): a second signal,
	// or shutdown taking longer than a few seconds, exits at once. q and Ctrl+C as a key wait
	// for the piped stream to be written out.
	let ending: QuitReason | undefined;
	const end = (reason: QuitReason): void => {
		const signal = reason !== 'quit' && reason !== 'interrupt';
		if (ending) {
			if (signal) {
				restore();
				exitNow(exitCode(reason));
			}

			return;
		}

		ending = reason;
		quit(reason);
		if (signal) {
			setTimeout(() => {
				restore();
				stderr.write(`logmon: ${reason}: shutdown took too long; exiting\n`);
				exitNow(exitCode(reason));
			}, shutdownMs).unref();
		}
	};

	const signals = {
		SIGINT: () => {
			end('SIGINT');
		},
		SIGTERM: () => {
			end('SIGTERM');
		},
		SIGHUP: () => {
			end('SIGHUP');
		},
	};
	// The terminal went away (its window closed, SSH dropped): reading or writing it fails or ends.
	const hangup = (): void => {
		end('SIGHUP');
	};
	process.on('exit', restore);
	terminal.input.on('end', hangup);
	terminal.input.on('error', hangup);
	out.on('error', hangup);
	process.on('uncaughtException', onFatal);
	process.on('unhandledRejection', onFatal);
	for (const [signal, handler] of Object.entries(signals)) {
		process.on(signal, handler);
	}

	const onResize = (): void => {
		controller.setSize(out.columns, out.rows);
	};

	write(enterScreen);
	controller.setSize(out.columns, out.rows);
	out.on('resize', onResize);

	const testThrow = env['LOGMON_TEST_THROW'];
	const instance = render(<UiRoot controller={controller} throwInRender={testThrow === 'render'}/>, {
		stdout: out,
		stdin: terminal.input,
		// Terminal control goes to the terminal only; stderr may be a file (`--debug 2>debug.log`).
		stderr: out,
		exitOnCtrlC: false,
		patchConsole: false,
		maxFps: 30,
		// Not incremental: in ink 6.8 it moves the cursor one line short when the frame ends with a newline, so unchanged lines drift.
		incrementalRendering: false,
		onRender(metrics) {
			controller.noteRender(metrics.renderTime);
		},
	});

	controller.start();
	sink?.start();
	// The history's last events before the live ones (the aggregates too), then the sources.
	await controller.startHistory();
	await app.start();

	if (testThrow === '1' || testThrow === 'timer') {
		// Test hook: an error nobody catches, after the UI has drawn.
		setTimeout(() => {
			throw new Error('LOGMON_TEST_THROW: thrown from a timer');
		}, 500);
	}

	let reason: QuitReason | undefined;
	let failure: unknown;
	try {
		reason = await Promise.race([quitting, instance.waitUntilExit().then(() => 'quit' as const)]);
	} catch (error) {
		failure = error;
	}

	controller.stop();
	try {
		instance.unmount();
	} catch {
		// Already unmounted after a render error.
	}

	restore();
	out.off('resize', onResize);
	process.off('exit', restore);
	terminal.input.off('end', hangup);
	terminal.input.off('error', hangup);
	process.off('uncaughtException', onFatal);
	process.off('unhandledRejection', onFatal);
	for (const [signal, handler] of Object.entries(signals)) {
		process.off(signal, handler);
	}

	out.write = write as typeof out.write;
	terminal.close();
	await reader?.close();
	if (settings.debug) {
		stderr.write(`logmon: ui: ${JSON.stringify(controller.metrics)}\n`);
	}

	await app.stop();
	await sink?.flush();
	if (failure) {
		throw failure;
	}

	return exitCode(reason ?? 'quit');
}

/** Time shutdown may take after a signal before logmon exits anyway. */
const shutdownMs = 5000;

function exitCode(reason: QuitReason): number {
	switch (reason) {
		case 'interrupt':
		case 'SIGINT': {
			return exitCodes.sigint;
		}

		case 'SIGTERM': {
			return exitCodes.sigterm;
		}

		case 'SIGHUP': {
			return exitCodes.sighup;
		}

		case 'quit': {
			return exitCodes.ok;
		}
	}
}
