import {type App} from './app.js';
import {StateTeller, describeState} from './core/health.js';
import {describeRedaction} from './core/redact.js';
import {exitCodes} from './exit.js';
import {describeHistory} from './history/status-text.js';
import {type RunningHttp} from './http/start.js';

// `logmon serve`: headless. The sources, history, alerts and the HTTP server run; nothing goes to
// stdout; the service's own state goes to stderr as one line per change (journald keeps them).
// SIGTERM or SIGINT stops it cleanly with exit 0: a service asked to stop did what it was asked.

export type ServeOptions = {
	http: RunningHttp;
	stderr: NodeJS.WritableStream;
};

export async function runServe(app: App, options: ServeOptions): Promise<number> {
	const {stderr, http} = options;
	const say = (text: string): void => {
		stderr.write(`logmon: ${text}\n`);
	};

	app.bus.diagnostics.listen(d => {
		if (d.level !== 'debug') {
			say(`${d.origin}: ${d.text}`);
		}
	});
	const teller = new StateTeller();
	app.bus.onHealth(h => {
		if (teller.tell(h)) {
			say(`${h.id}: ${describeState(h)}`);
		}
	});
	const history = app.history;
	if (history) {
		const tell = (): void => {
			say(`${describeHistory(history.status())} (${history.dir})`);
		};

		tell();
		history.onStatus(tell);
	}

	if (app.alerts) {
		const {stderrLine} = await import('./alerts/terminal.js');
		app.alerts.setTerminal(notice => {
			stderr.write(stderrLine(notice));
		});
	}

	// Sources that end (stdin at its end) leave the service serving what it holds; a signal stops it,
	// from the moment it says it serves.
	const stopped = new Promise<NodeJS.Signals>(resolve => {
		process.once('SIGINT', () => resolve('SIGINT'));
		process.once('SIGTERM', () => resolve('SIGTERM'));
	});
	say(`serving ${http.url}/api/v1/ (${app.sources.map(s => s.source.id).join(', ') || 'no sources'})`);
	for (const f of app.forward?.forwarders ?? []) {
		say(`forward ${f.describe()}`);
	}

	await app.start();
	const signal = await stopped;
	say(`${signal}: stopping`);
	await http.close();
	await app.stop();
	const read = app.sources.reduce((n, s) => n + s.handle.health.events, 0);
	const redacted = app.bus.redactor && describeRedaction(app.bus.redactor.health());
	say(`stopped: ${read} events read${redacted ? `; redacted: ${redacted}` : ''}`);
	return exitCodes.ok;
}
