import {z} from 'zod';

// `forward` entries of type "cloudwatch": only this kind's own fields (config/forward.ts adds the common ones).

export const cloudwatchForwardConfig = z.strictObject({
	type: z.literal('cloudwatch'),
});

export type CloudwatchForwardConfig = z.infer<typeof cloudwatchForwardConfig>;

/** The config a `--forward` URL of this kind means. */
export function cloudwatchForwardFromUrl(url: URL): Record<string, unknown> {
	return {type: 'cloudwatch', url: url.href};
}
