import {z} from 'zod';
import {sourceName} from './common.js';

export const stdinConfig = z.strictObject({
	type: z.literal('stdin'),
	name: sourceName.optional(),
	service: z.string().default('stdin'),
});

export type StdinConfig = z.infer<typeof stdinConfig>;
