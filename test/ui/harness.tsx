import {render} from 'ink-testing-library';
import stripAnsi from 'strip-ansi';
import {App} from '../../source/app.js';
import {ErrorGroups} from '../../source/core/errors.js';
import {type EventInit} from '../../source/core/event.js';
import {type Filter, type FilterSpec, emptySpec} from '../../source/core/filter.js';
import {ServiceStats} from '../../source/core/stats.js';
import {type Pair, type PairState, type Toggleable} from '../../source/sources/source.js';
import {UiRoot} from '../../source/ui/App.js';
import {UiController} from '../../source/ui/controller.js';
import {type ToggleSource} from '../../source/ui/toggles.js';
import {type HistoryStatus} from '../../source/history/types.js';
import {event} from '../support/events.js';

// The UI wired to a real bus, store and aggregates, rendered by ink-testing-library.
// Events go in through a real SourceHandle, as a source would publish them.

export type HarnessOptions = {
	columns?: number;
	rows?: number;
	filter?: FilterSpec;
	sources?: ToggleSource[];
	colorLevel?: 0 | 1 | 2 | 3;
	now?: () => number;
	/** The on-disk history's state, for the status bar. */
	history?: {status(): HistoryStatus};
};

/** What the tests use of ink-testing-library's instance. */
export type UiHandle = {
	lastFrame(): string | undefined;
	frames: string[];
	stdin: {write(data: string): void};
	stdout: NodeJS.EventEmitter & {columns: number};
	unmount(): void;
	cleanup(): void;
};

export function setup(options: HarnessOptions = {}) {
	const app = new App(5000);
	const errors = new ErrorGroups();
	const stats = new ServiceStats();
	app.bus.subscribe(events => {
		errors.add(events);
		stats.add(events);
	});
	const handle = app.bus.addSource('feed', 'stdin');
	handle.setState('live');
	const filterChanges: Filter[] = [];
	const quits: string[] = [];
	const controller = new UiController({
		bus: app.bus,
		store: app.store,
		errors,
		stats,
		sources: options.sources ?? [{id: 'feed'}],
		filter: options.filter ?? emptySpec(),
		colorLevel: options.colorLevel ?? 0,
		onFilterChange: f => filterChanges.push(f),
		onQuit: r => quits.push(r),
		...(options.now ? {now: options.now} : {}),
		...(options.history ? {history: options.history} : {}),
	});
	controller.setSize(options.columns ?? 100, options.rows ?? 30);
	for (const s of options.sources ?? []) {
		s.toggles?.onPairsChange(() => {
			controller.invalidate();
		});
	}

	const ui: UiHandle = render(<UiRoot controller={controller}/>) as unknown as UiHandle;
	if ((options.columns ?? 100) > 100) {
		// ink-testing-library's stdout is always 100 columns wide; widen it for the wide layouts.
		Object.defineProperty(ui.stdout, 'columns', {value: options.columns, configurable: true});
		ui.stdout.emit('resize');
	}

	controller.start();

	/** The last frame as plain text (colours removed). */
	const frame = (): string => stripAnsi(ui.lastFrame() ?? '');
	/** The last frame with its escape sequences. */
	const raw = (): string => ui.lastFrame() ?? '';

	return {
		app,
		handle,
		controller,
		errors,
		stats,
		filterChanges,
		quits,
		ui,
		frame,
		raw,
		/** The tail pane's rows (the frame above the other panes' titles). */
		tail(f: string): string {
			const lines = f.split('\n');
			const end = lines.findIndex(l => / Errors /.test(l));
			return (end < 0 ? lines : lines.slice(0, end)).join('\n');
		},
		publish(items: Array<Partial<EventInit> & {message: string}>): void {
			handle.publish(items.map(i => event({sourceId: 'feed', ...i})));
		},
		lines(messages: string[], fields: Partial<EventInit> = {}): void {
			handle.publish(messages.map(message => event({sourceId: 'feed', ...fields, message})));
		},
		/** Type keys one at a time, letting Ink handle each (an Escape needs > 20 ms alone). */
		async press(...keys: string[]): Promise<void> {
			for (const k of keys) {
				ui.stdin.write(k);
				await new Promise(resolve => setTimeout(resolve, k === '\u001B' ? 40 : 5));
			}
		},
		async waitFor(check: string | RegExp | ((frame: string) => boolean), timeoutMs = 10_000): Promise<string> {
			const test = typeof check === 'function' ? check : (f: string) => (typeof check === 'string' ? f.includes(check) : check.test(f));
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const f = frame();
				if (test(f)) {
					return f;
				}

				if (Date.now() > deadline) {
					throw new Error(`timed out waiting for ${String(check)}; last frame:\n${f}`);
				}

				await new Promise(resolve => setTimeout(resolve, 10));
			}
		},
		close(): void {
			controller.stop();
			ui.unmount();
			ui.cleanup();
		},
	};
}

export const keys = {
	enter: '\r',
	escape: '\u001B',
	tab: '\t',
	backspace: '\u007F',
	ctrlU: '\u0015',
	ctrlC: '\u0003',
	up: '\u001B[A',
	down: '\u001B[B',
	pageUp: '\u001B[5~',
	pageDown: '\u001B[6~',
};

/**
 * A small Toggleable that behaves like a logstream server's bookkeeping:
 * a request puts pairs in a pending state and is recorded; `reply()` settles
 * them as the server would (or fails them, like an unknown type).
 * toggles-logstream.test.tsx runs the same flow against the real LogstreamSource and test server.
 */
export class RecordingToggles implements Toggleable {
	readonly calls: string[] = [];
	private readonly state = new Map<string, Pair>();
	private readonly listeners = new Set<() => void>();

	constructor(servers: string[], types: string[], enabled: string[] = types) {
		for (const server of servers) {
			for (const type of types) {
				this.state.set(`${server}/${type}`, {server, type, state: enabled.includes(type) ? 'enabled' : 'available'});
			}
		}
	}

	pairs(): Pair[] {
		return [...this.state.values()].map(p => ({...p}));
	}

	setPair(server: string, type: string, on: boolean): void {
		this.calls.push(`${on ? 'enable' : 'disable'} ${server}/${type}`);
		const p = this.state.get(`${server}/${type}`);
		if (p) {
			p.state = on ? 'pending-enable' : 'pending-disable';
			this.emit();
		}
	}

	setServer(server: string, on: boolean): void {
		for (const p of this.pairs().filter(x => x.server === server)) {
			this.setPair(p.server, p.type, on);
		}
	}

	setType(type: string, on: boolean): void {
		for (const p of this.pairs().filter(x => x.type === type)) {
			this.setPair(p.server, p.type, on);
		}
	}

	onPairsChange(listener: () => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	listAvailable(): void {
		this.calls.push('list-available');
	}

	listEnabled(): void {
		this.calls.push('list-enabled');
	}

	/** Settle every pending pair: as asked, or failed with a reason. */
	reply(failWith?: string): void {
		for (const p of this.state.values()) {
			if (p.state === 'pending-enable' || p.state === 'pending-disable') {
				const next: PairState = failWith ? 'failed' : (p.state === 'pending-enable' ? 'enabled' : 'available');
				p.state = next;
				p.error = failWith;
			}
		}

		this.emit();
	}

	private emit(): void {
		for (const l of this.listeners) {
			l();
		}
	}
}
