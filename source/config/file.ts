import * as z from 'zod';
import {sourceName} from './common.js';
import {multilineConfig} from './multiline.js';

// Source kind "file": follow files named by paths or globs (`*`, `?`, `[...]`, `**`).

export const fileConfig = z.strictObject({
	type: z.literal('file'),
	name: sourceName.optional(),
	/** Files or globs; relative ones from the working directory. */
	paths: z.array(z.string().min(1)).min(1),
	/** The service of every line that does not name its own (default: the file's base name, `access` for access.log.1). */
	service: z.string().min(1).optional(),
	/** Read what the files already hold first (default: follow from their end). Compressed `*.gz` files are read whole. */
	fromBeginning: z.boolean().default(false),
	/** How often every file and glob is checked where change events may not arrive, ms (elsewhere every 10 s, or this if longer: sources/file-poll.ts). */
	pollMs: z.number().int().min(100).max(60_000).default(2000),
	/** A last line without its newline is let go after this long, ms. */
	partialMs: z.number().int().min(10).max(60_000).default(1000),
	multiline: multilineConfig,
});

export type FileConfig = z.infer<typeof fileConfig>;
