import * as z from 'zod';
import {sourceName} from './common.js';
import {multilineConfig} from './multiline.js';

export const stdinConfig = z.strictObject({
	type: z.literal('stdin'),
	name: sourceName.optional(),
	service: z.string().default('stdin'),
	/** Join stack traces and continuation lines (core/multiline.ts). */
	multiline: multilineConfig,
});

export type StdinConfig = z.infer<typeof stdinConfig>;
