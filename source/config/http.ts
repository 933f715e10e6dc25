import * as z from 'zod';

// The `http` object of the config: where `logmon serve` listens, the API token, CORS origins.

export const httpConfig = z.strictObject({
	/** `[HOST:]PORT` for `logmon serve` (default 127.0.0.1:5004); other runs serve HTTP only with --http. */
	listen: z.string().min(1).optional(),
	/** Bearer token every API call must carry; `${LOGMON_HTTP_TOKEN}` keeps it out of the file. Needed off loopback. */
	token: z.string().min(16, 'expected at least 16 characters (e.g. the output of `openssl rand -hex 32`, in an environment variable)').optional(),
	/** Origins a browser may call the API from (Grafana in browser mode): `"*"` or a list such as ["https://grafana.example.com"]. */
	cors: z.union([z.literal('*'), z.array(z.string().min(1))]).optional(),
	/** SSE clients served at once; one more gets a 503. */
	maxStreamClients: z.number().int().min(1).max(10_000).default(64),
	/** Events queued per SSE client before it loses some (counted, and said in its stream). */
	streamQueue: z.number().int().min(10).max(1_000_000).default(10_000),
	/** A client whose socket takes nothing this long (ms) is disconnected. */
	streamStuckMs: z.number().int().min(100).max(600_000).default(10_000),
}).prefault({});
