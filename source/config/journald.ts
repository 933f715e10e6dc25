import * as z from 'zod';
import {sourceName} from './common.js';

// Source kind "journald": follow the systemd journal through `journalctl -f -o json`.

export const journaldConfig = z.strictObject({
	type: z.literal('journald'),
	name: sourceName.optional(),
	/** Only these units (journalctl -u); all of the journal when empty. */
	units: z.array(z.string().min(1).regex(/^[^-\s][^\s]*$/, 'expected a unit name such as nginx.service')).default([]),
	/** The journalctl to run: a name looked up on PATH, or a path. */
	journalctl: z.string().min(1).default('journalctl'),
	/** The service of entries with neither SYSLOG_IDENTIFIER nor _SYSTEMD_UNIT. */
	service: z.string().min(1).default('journald'),
});

export type JournaldConfig = z.infer<typeof journaldConfig>;
