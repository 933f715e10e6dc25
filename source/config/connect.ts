import * as z from 'zod';
import {sourceName} from './common.js';

// Source kind "connect": the live stream of another logmon (`logmon serve` or `--http`) over its
// HTTP API, so the terminal UI runs against a remote or local service (source/sources/connect.ts).

export const connectConfig = z.strictObject({
	type: z.literal('connect'),
	name: sourceName.optional(),
	/**
	 * http://host:5004, or a path under which a proxy serves it (https://logs.example/logmon/).
	 * Query parameters (`level`, `service`, `q`, …) are passed on: the remote sends only what matches.
	 */
	url: z.string().url().refine(u => /^https?:/i.test(u), 'expected an http:// or https:// URL, e.g. http://127.0.0.1:5004'),
	/** The remote's `http.token`; `${LOGMON_HTTP_TOKEN}` keeps it out of the file. */
	token: z.string().min(1).optional(),
	/** Recent events fetched once at the first connection, so the view starts with context. 0: live only. At most the API's page limit. */
	backlog: z.number().int().min(0).max(10_000).default(1000),
	/** How often the remote's /api/v1/health is read for the status bar, ms. */
	healthIntervalMs: z.number().int().min(500).default(10_000),
	/** A stream that sends nothing (not even its keep-alive comment) this long is dropped and reopened, ms. */
	deadAfterMs: z.number().int().min(1000).default(45_000),
});

export type ConnectConfig = z.infer<typeof connectConfig>;
