// logmon's own messages (source state changes, warnings, library logs). Kept in a
// small ring for the UI; the CLI forwards them to stderr in pipe mode. Never stdout.

import {Ring} from './ring.js';
import {sanitize} from './sanitize.js';
import {Secrets} from './secrets.js';

export type DiagnosticLevel = 'debug' | 'info' | 'warn' | 'error';

export type Diagnostic = {
	time: number;
	level: DiagnosticLevel;
	/** The source or component it is about, e.g. "kafka" or "config". */
	origin: string;
	text: string;
};

type Listener = (d: Diagnostic) => void;

export class Diagnostics {
	private readonly ring = new Ring<Diagnostic>(500);
	private readonly listeners = new Set<Listener>();
	/** Known secret values: blanked out of every message before anyone sees it. */
	readonly secrets = new Secrets();

	/** The redaction rules, for what a message quotes of the logs (set with redaction on). */
	scrub: ((text: string) => string) | undefined;

	add(level: DiagnosticLevel, origin: string, text: string): void {
		// Messages name files, hosts and peers' answers: whatever they hold is shown, never acted on by a terminal.
		const d = {time: Date.now(), level, origin: sanitize(origin), text: sanitize(this.scrubbed(this.secrets.redact(text)))};
		this.ring.push(d);
		for (const l of this.listeners) {
			l(d);
		}
	}

	private scrubbed(text: string): string {
		try {
			return this.scrub ? this.scrub(text) : text;
		} catch {
			return '[a message withheld: redaction failed]';
		}
	}

	recent(count: number): Diagnostic[] {
		const all = this.ring.toArray();
		return all.slice(Math.max(0, all.length - count));
	}

	listen(listener: Listener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}
}
