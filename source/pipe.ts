import {type App} from './app.js';
import {type Filter} from './core/filter.js';
import {describeState} from './core/health.js';
import {StdoutSink} from './sinks/stdout.js';
import {type Formatter} from './sinks/format.js';
import {exitCodes} from './exit.js';

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
	const queue = app.bus.queue('stdout', {filter: options.filter});
	const sink = new StdoutSink(queue, options.out as never, options.format);
	app.bus.diagnostics.listen(d => {
		if (d.level !== 'debug') {
			stderr.write(`logmon: ${d.origin}: ${d.text}\n`);
		}
	});
	app.bus.onHealth(h => {
		if (h.state !== 'live' && h.state !== 'ended' && h.state !== 'stopped') {
			stderr.write(`logmon: ${h.id}: ${describeState(h)}\n`);
		}
	});

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
		return exitCodes.ok;
	}

	await app.stop();
	await sink.flush();
	reportDrops(queue.dropped, queue.droppedBySource, stderr);
	if (reason === 'SIGINT' || reason === 'SIGTERM') {
		// Say what was read and written, so an interrupted run can be accounted for.
		const read = app.sources.reduce((n, s) => n + s.handle.health.events, 0);
		stderr.write(`logmon: ${reason}: ${read} events read, ${sink.written} written\n`);
		return reason === 'SIGINT' ? exitCodes.sigint : exitCodes.sigterm;
	}

	// Every source failed. A stdin that ended with nothing on it (logmon started from a
	// script, stdin not a terminal) worked no more than they did.
	const healths = app.sources.map(s => s.handle.health);
	const idle = (h: (typeof healths)[number]): boolean => h.kind === 'stdin' && h.state === 'ended' && h.bytes === 0;
	return healths.some(h => h.state === 'failed') && healths.every(h => h.state === 'failed' || idle(h)) ? exitCodes.failed : exitCodes.ok;
}

function reportDrops(total: number, bySource: Map<string, number>, stderr: NodeJS.WritableStream): void {
	if (total === 0) {
		return;
	}

	const parts = [...bySource].map(([id, n]) => `${id}: ${n}`).join(', ');
	stderr.write(`logmon: ${total} events dropped because stdout was slower than the sources (${parts})\n`);
}
