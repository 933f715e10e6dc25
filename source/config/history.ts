import * as z from 'zod';
import {durationField, sizeField} from './common.js';

// The `history` object of the config: where the on-disk history lives and how long it keeps events.

const duration = durationField('3d, 12h or 90m');

const size = sizeField('2GiB or 500MB');

export const historyConfig = z.strictObject({
	/** Default: on when a network source runs, off for stdin only. */
	enabled: z.boolean().optional(),
	/** Default $XDG_STATE_HOME/logmon/history. */
	dir: z.string().min(1).optional(),
	/** Every event is kept this long (ms once parsed). */
	retention: duration.default(3 * 86_400_000),
	/** ERROR and CRITICAL events are kept this long. */
	errorRetention: duration.default(30 * 86_400_000),
	/** The whole directory stays under this size (bytes once parsed). */
	maxSize: size.default(2 * 1024 ** 3),
	/** Pending events are written at least this often: what a crash may lose. */
	flushMs: z.number().int().min(50).max(60_000).default(1000),
}).prefault({});

export type HistoryConfig = z.infer<typeof historyConfig>;
