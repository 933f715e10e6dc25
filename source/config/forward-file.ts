import {z} from 'zod';

// `forward` entries of type "file": only this kind's own fields (config/forward.ts adds the common ones).

export const fileForwardConfig = z.strictObject({
	type: z.literal('file'),
});

export type FileForwardConfig = z.infer<typeof fileForwardConfig>;

/** The config a `--forward` URL of this kind means. */
export function fileForwardFromUrl(url: URL): Record<string, unknown> {
	return {type: 'file', url: url.href};
}
