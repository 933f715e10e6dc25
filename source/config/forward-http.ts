import {z} from 'zod';

// `forward` entries of type "http": only this kind's own fields (config/forward.ts adds the common ones).

export const httpForwardConfig = z.strictObject({
	type: z.literal('http'),
});

export type HttpForwardConfig = z.infer<typeof httpForwardConfig>;

/** The config a `--forward` URL of this kind means. */
export function httpForwardFromUrl(url: URL): Record<string, unknown> {
	return {type: 'http', url: url.href};
}
