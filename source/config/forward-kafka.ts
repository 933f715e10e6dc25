import {z} from 'zod';

// `forward` entries of type "kafka": only this kind's own fields (config/forward.ts adds the common ones).

export const kafkaForwardConfig = z.strictObject({
	type: z.literal('kafka'),
});

export type KafkaForwardConfig = z.infer<typeof kafkaForwardConfig>;

/** The config a `--forward` URL of this kind means. */
export function kafkaForwardFromUrl(url: URL): Record<string, unknown> {
	return {type: 'kafka', url: url.href};
}
