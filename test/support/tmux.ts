import {execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {root} from './logmon.js';

// A real terminal for end-to-end UI tests: one private tmux server per test,
// driven with send-keys and read with capture-pane.

let counter = 0;

/** Install tmux (scripts/ensure-tmux.sh) and build dist/ when missing. */
export function prepare(): void {
	execFileSync('sh', [path.join(root, 'scripts', 'ensure-tmux.sh')], {stdio: 'inherit'});
	if (!existsSync(path.join(root, 'dist', 'ui', 'run.js'))) {
		execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {cwd: root, stdio: 'inherit'});
	}
}

export function shellQuote(s: string): string {
	return `'${s.replaceAll('\'', String.raw`'\''`)}'`;
}

export class Tmux {
	readonly socket = `logmon-e2e-${process.pid}-${++counter}`;

	/** Start `command` (run by sh) in a detached session of the given size. */
	constructor(command: string, readonly columns: number, readonly rows: number) {
		this.run(['new-session', '-d', '-x', String(columns), '-y', String(rows), '-c', root, command]);
		// Keep the pane's size fixed whatever clients attach.
		this.run(['set-option', '-g', 'window-size', 'manual']);
	}

	/** The terminal changes size, as when its window is resized (the program gets SIGWINCH). */
	resize(columns: number, rows: number): void {
		this.run(['resize-window', '-t', '0', '-x', String(columns), '-y', String(rows)]);
	}

	run(args: string[]): string {
		return execFileSync('tmux', ['-L', this.socket, ...args], {encoding: 'utf8'});
	}

	capture(): string {
		return this.run(['capture-pane', '-p', '-t', '0']);
	}

	/** Keys as tmux names them: 'q', 'C-c', 'Escape', 'Enter', or literal text with `literal`. */
	keys(keys: string[], literal = false): void {
		this.run(['send-keys', '-t', '0', ...(literal ? ['-l'] : []), ...keys]);
	}

	/** A pane format value, e.g. '#{cursor_flag}' or '#{alternate_on}'. */
	format(f: string): string {
		return this.run(['display-message', '-p', '-t', '0', f]).trim();
	}

	/**
	 * Where `text` first appears on the screen, in cells (column and row), as
	 * tmux's copy mode finds it: what a person sees, whatever the text's widths.
	 * Undefined when it is not on the screen.
	 */
	locate(text: string): {x: number; y: number} | undefined {
		if (!this.capture().includes(text)) {
			return undefined;
		}

		// vi keys: a search leaves the cursor on the first cell of the match (emacs keys: just past it).
		this.run(['set-option', '-g', 'mode-keys', 'vi']);
		this.run(['copy-mode', '-t', '0']);
		try {
			this.run(['send-keys', '-t', '0', '-X', 'history-top']);
			this.run(['send-keys', '-t', '0', '-X', 'search-forward-text', text]);
			const [x, y] = this.format('#{copy_cursor_x},#{copy_cursor_y}').split(',').map(Number);
			return {x: x!, y: y!};
		} finally {
			this.run(['send-keys', '-t', '0', '-X', 'cancel']);
		}
	}

	/** Copy everything the pane's program writes from now on (escape sequences and all) to `file`. */
	record(file: string): void {
		this.run(['pipe-pane', '-t', '0', `cat > ${shellQuote(file)}`]);
	}

	async waitFor(check: string | RegExp | ((screen: string) => boolean), timeoutMs = 20_000): Promise<string> {
		const test = typeof check === 'function' ? check : (s: string) => (typeof check === 'string' ? s.includes(check) : check.test(s));
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const screen = this.capture();
			if (test(screen)) {
				return screen;
			}

			if (Date.now() > deadline) {
				throw new Error(`timed out waiting for ${String(check)}; screen:\n${screen}`);
			}

			await new Promise(resolve => setTimeout(resolve, 100));
		}
	}

	kill(): void {
		try {
			this.run(['kill-server']);
		} catch {
			// Already gone.
		}
	}
}

/**
 * A pane command: run the built logmon with `args` (stdin from `input` files
 * when given; `launcher` before node, e.g. `setsid -w`), then report its exit code and the terminal's modes (stty) once
 * it has exited, and stay open so the screen can be read.
 */
export function paneCommand(args: string, options: {input?: string[]; env?: Record<string, string>; gate?: string; launcher?: string} = {}): string {
	// With a gate, logmon starts once that file exists (e.g. after `record()`).
	const wait = options.gate ? `while [ ! -e ${shellQuote(options.gate)} ]; do sleep 0.05; done; ` : '';
	// A history (on with a network source) of its own, never the developer's.
	const state = mkdtempSync(path.join(tmpdir(), 'logmon-tmux-state-'));
	process.once('exit', () => {
		rmSync(state, {recursive: true, force: true});
	});
	const vars = Object.entries({XDG_CONFIG_HOME: path.join(root, 'test', 'fixtures', 'no-config'), XDG_STATE_HOME: state, ...options.env}).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
	const feed = options.input ? `cat ${options.input.map(f => shellQuote(f)).join(' ')} | ` : '';
	const report = 'echo "EXIT=$?"; echo "MODES=$(stty -a | tr " ;" "\\n\\n" | grep -E "^-?(icanon|echo|isig)$" | tr "\\n" " ")"; echo DONE; sleep 600';
	const launcher = options.launcher ? `${options.launcher} ` : '';
	return `sh -c ${shellQuote(`${wait}${feed}env ${vars} ${launcher}node bin/logmon.js ${args}; ${report}`)}`;
}

/** Every process below `pid`. */
export function descendants(pid: number): number[] {
	const children = new Map<number, number[]>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) {
			continue;
		}

		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
		} catch {
			// Gone meanwhile.
		}
	}

	const out: number[] = [];
	const queue = [pid];
	while (queue.length > 0) {
		for (const c of children.get(queue.shift()!) ?? []) {
			out.push(c);
			queue.push(c);
		}
	}

	return out;
}

/** The logmon process running in a pane. */
export function logmonPid(t: Tmux): number {
	for (const pid of descendants(Number(t.format('#{pane_pid}')))) {
		try {
			// logmon sets its process title, which replaces the command line.
			const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
			if (cmdline === 'logmon' || cmdline.includes('bin/logmon.js')) {
				return pid;
			}
		} catch {
			// Gone meanwhile.
		}
	}

	throw new Error('logmon is not running in the pane');
}
