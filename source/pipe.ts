import {type App} from './app.js';
import {type Filter} from './core/filter.js';
import {type QueueConsumer} from './core/bus.js';
import {StateTeller, describeState} from './core/health.js';
import {describeRedaction} from './core/redact.js';
import {StdoutSink} from './sinks/stdout.js';
import {type Formatter} from './sinks/format.js';
import {exitCodes} from './exit.js';
import {describeHistory} from './history/status-text.js';
import {describeForwarder} from './core/forward-status.js';

// Pipe mode (stdout is not a terminal, or --no-ui): sources -> bus -> filter -> stdout.
// Never imports React or Ink.

export type PipeOptions = {
	filter: Filter;
	format: Formatter;
	/** Source state changes and warnings go to stderr. */
	stderr: NodeJS.WritableStream;
	out: NodeJS.WritableStream & {on: (event: 'error', listener: (error: Error) => void) => unknown};
};

export async function runPipe(app: App, options: PipeOptions): Promise<number> {
	const {stderr} = options;
	const queue = app.bus.queue('stdout', {filter: options.filter, alerts: false});
	const sink = new StdoutSink(queue, options.out as never, options.format);
	app.bus.diagnostics.listen(d => {
		if (d.level !== 'debug') {
			stderr.write(`logmon: ${d.origin}: ${d.text}\n`);
		}
	});
	const teller = new StateTeller();
	app.bus.onHealth(h => {
		if (teller.tell(h) && h.state !== 'live' && h.state !== 'ended' && h.state !== 'stopped') {
			stderr.write(`logmon: ${h.id}: ${describeState(h)}\n`);
		}
	});

	const history = app.history;
	if (history) {
		const say = (): void => {
			stderr.write(`logmon: ${describeHistory(history.status())} (${history.dir})\n`);
		};

		if (history.status().state !== 'writing') {
			say();
		}

		history.onStatus(say);
	}

	if (app.alerts) {
		// Alerts go to stderr, one line each: stdout carries the stream only.
		const {stderrLine} = await import('./alerts/terminal.js');
		app.alerts.setTerminal(notice => {
			stderr.write(stderrLine(notice));
		});
	}

	sink.start();
	await app.start();

	const reason = await new Promise<'finished' | 'closed' | 'SIGINT' | 'SIGTERM'>(resolve => {
		sink.whenClosed(() => resolve('closed'));
		void app.whenFinished().then(() => resolve('finished'));
		process.once('SIGINT', () => resolve('SIGINT'));
		process.once('SIGTERM', () => resolve('SIGTERM'));
	});

	if (reason === 'closed') {
		// The reader went away (`| head`): nothing more to write, so no flush.
		void app.stop(500);
		if (sink.writeError !== undefined) {
			stderr.write(`logmon: stdout: cannot write: ${sink.writeError}\n`);
			return exitCodes.failed;
		}

		return exitCodes.ok;
	}

	await app.stop();
	await sink.flush();
	reportDrops(queue.dropped, queue.droppedBySource, stderr);
	// The history may have dropped events without a state change (its buffer full): say so at exit.
	const kept = history?.status();
	if (kept && kept.dropped > 0) {
		stderr.write(`logmon: ${kept.dropped} events not kept in the history (it fell behind or could not write; ${history!.dir})\n`);
	}

	const redacted = app.bus.redactor && describeRedaction(app.bus.redactor.health());
	if (redacted) {
		stderr.write(`logmon: redacted: ${redacted}\n`);
	}

	for (const f of app.forward?.forwarders ?? []) {
		const c = f.counters();
		if (c.dropped > 0 || c.deadLettered > 0 || f.unsent > 0 || c.spooled > 0) {
			stderr.write(`logmon: forward ${f.name}: ${describeForwarder(c, f.unsent)}\n`);
		}
	}

	if (reason === 'SIGINT' || reason === 'SIGTERM') {
		stderr.write(`logmon: ${reason}: ${exitSummary(app, queue, sink)}\n`);
		return reason === 'SIGINT' ? exitCodes.sigint : exitCodes.sigterm;
	}

	return app.allFailed() ? exitCodes.failed : exitCodes.ok;
}

/**
 * What happened to every event read, so an interrupted run can be accounted for:
 * read = written + filtered out + dropped + not written. Gap markers are written but not read.
 */
function exitSummary(app: App, queue: QueueConsumer, sink: StdoutSink): string {
	const read = app.sources.reduce((n, s) => n + s.handle.health.events, 0);
	const parts = [`${read} events read`, `${sink.written - sink.markers} written`];
	if (queue.filtered > 0) {
		parts.push(`${queue.filtered} filtered out`);
	}

	if (queue.dropped > 0) {
		parts.push(`${queue.dropped} dropped`);
	}

	if (sink.unwritten > 0) {
		parts.push(`${sink.unwritten} not written (stdout did not take them before the exit deadline)`);
	}

	const markers = sink.markers > 0 ? `; ${sink.markers} gap marker${sink.markers === 1 ? '' : 's'} written too` : '';
	return parts.join(', ') + markers;
}

function reportDrops(total: number, bySource: Map<string, number>, stderr: NodeJS.WritableStream): void {
	if (total === 0) {
		return;
	}

	const parts = [...bySource].map(([id, n]) => `${id}: ${n}`).join(', ');
	stderr.write(`logmon: ${total} events dropped because stdout was slower than the sources (${parts})\n`);
}
