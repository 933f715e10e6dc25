import {type SourceHandle} from '../core/bus.js';
import {type Diagnostics} from '../core/diagnostics.js';
import {type SourceKind} from '../core/event.js';

// Every source kind sits behind this interface. A source turns its input into
// LogEvents and publishes them through its SourceHandle; it knows nothing of
// stores, sinks or views.

export type LogSource = {
	readonly id: string;
	readonly kind: SourceKind;
	/** Begin reading. Resolves once started; failures after that show in health, never as a throw. */
	start(bus: SourceHandle): Promise<void>;
	/** Stop reading and release sockets. Idempotent. */
	stop(): Promise<void>;
	/** Present on sources that can stop reading without loss (stdin, Kafka). */
	pause?: () => void;
	resume?: () => void;
	/** Resolves when a finite source (stdin) has delivered everything; never for live network sources. */
	readonly ended?: Promise<void>;
	/** Present on sources whose server can be told what to send (logstream). */
	readonly toggles?: Toggleable;
};

/** What every source is built with, besides its own config. */
export type SourceDeps = {
	diagnostics: Diagnostics;
	/** --debug: print protocol exchanges to stderr. */
	debug: boolean;
	/** Longest line kept whole, bytes. */
	maxLine: number;
};

/** Where one (server, log type) pair stands, from the logstream server's replies. */
export type PairState = 'available' | 'pending-enable' | 'enabled' | 'pending-disable' | 'failed';

export type Pair = {
	server: string;
	type: string;
	state: PairState;
	/** The server's description when the last request failed. */
	error?: string | undefined;
};

/**
 * Live upstream toggles (logstream): enabling or disabling a pair sends
 * enable/disable to the server, which then stops or starts sending.
 * The UI's keyboard toggles call this; other sources filter locally instead.
 */
export type Toggleable = {
	pairs(): Pair[];
	setPair(server: string, type: string, on: boolean): void;
	/** Every known type on this server. */
	setServer(server: string, on: boolean): void;
	/** This type on every known server. */
	setType(type: string, on: boolean): void;
	/** Called after any pair changes state; returns the unsubscribe function. */
	onPairsChange(listener: () => void): () => void;
	listAvailable(server?: string): void;
	listEnabled(server?: string): void;
};
