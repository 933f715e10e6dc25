import {type SourceHandle} from '../core/bus.js';
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
};
