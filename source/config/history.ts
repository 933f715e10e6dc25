import {z} from 'zod';
import {parseDuration, parseSize} from '../history/units.js';

// The `history` object of the config: where the on-disk history lives and how long it keeps events.

const duration = z.string().transform((v, ctx) => {
	const ms = parseDuration(v);
	if (ms === undefined) {
		ctx.addIssue({code: 'custom', message: `expected a duration such as 3d, 12h or 90m, got ${JSON.stringify(v)}`});
		return z.NEVER;
	}

	return ms;
});

const size = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
	const bytes = typeof v === 'number' ? v : parseSize(v);
	if (bytes === undefined) {
		ctx.addIssue({code: 'custom', message: `expected a size such as 2GiB or 500MB, got ${JSON.stringify(v)}`});
		return z.NEVER;
	}

	return bytes;
});

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
