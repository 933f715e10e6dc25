import * as z from 'zod';
import {compileUserRegex, FilterError} from '../core/regex.js';

// Multi-line events (core/multiline.ts), for files and stdin alike.

export const multilineConfig = z.strictObject({
	/** Join stack traces and indented continuation lines into the event they belong to. */
	enabled: z.boolean().default(true),
	/** An RE2 regex: lines matching it start an event, all others continue it (instead of the built-in rules). */
	start: z.string().min(1).optional().superRefine((v, ctx) => {
		if (v === undefined) {
			return;
		}

		try {
			compileUserRegex(v, 'multiline.start');
		} catch (error) {
			ctx.addIssue({code: 'custom', message: error instanceof FilterError ? error.message.replace(/^multiline\.start: /, '') : String(error)});
		}
	}),
	/** A held event is let go after this long without a line that continues it, ms. */
	timeoutMs: z.number().int().min(10).max(60_000).default(250),
	/** Lines in one event at most; past it the event is cut. */
	maxLines: z.number().int().min(2).max(100_000).default(500),
}).prefault({});

export type MultilineConfig = z.infer<typeof multilineConfig>;
