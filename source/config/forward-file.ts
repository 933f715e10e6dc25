import {fileURLToPath} from 'node:url';
import * as z from 'zod';
import {durationField, sizeField} from './common.js';

// `forward` entries of type "file": only this kind's own fields (config/forward.ts adds the common ones).

const size = sizeField('100MiB or 1GB');

/** A bare number is seconds. */
const duration = durationField('1h or 1d', {seconds: 'positive'});

export const fileFormats = ['json', 'text', 'raw', 'template'] as const;

export const fileForwardConfig = z.strictObject({
	type: z.literal('file'),
	/** The file written to; rotated files sit beside it as PATH.1, PATH.2 … (PATH.1.gz with gzip). */
	path: z.string().min(1),
	/** json: NDJSON, the `-o json` shape; text, raw, template: as pipe mode writes them. */
	format: z.enum(fileFormats).default('json'),
	/** For format "template", e.g. "{time} {service} {level} {message}". */
	template: z.string().min(1).optional(),
	/** Rotate once the file is this big (bytes once parsed). */
	maxSize: size.optional(),
	/** Rotate this often (ms once parsed), e.g. "1h", "1d". */
	rotateEvery: duration.optional(),
	/** Rotated files kept. */
	keep: z.number().int().min(0).max(1000).default(5),
	/** Compress rotated files with gzip. */
	gzip: z.boolean().default(false),
}).superRefine((c, ctx) => {
	if (c.format === 'template' && !c.template) {
		ctx.addIssue({code: 'custom', path: ['template'], message: 'format "template" needs a template, e.g. "{time} {service} {message}"'});
	}
});

export type FileForwardConfig = z.infer<typeof fileForwardConfig>;

const queryKeys = new Set(['format', 'template', 'maxSize', 'rotateEvery', 'keep', 'gzip']);

/**
 * The config a `--forward` URL of this kind means: `file:///var/log/logmon/all.ndjson`, with
 * the other fields as query parameters (`?maxSize=100MiB&keep=3&gzip=true`).
 */
export function fileForwardFromUrl(url: URL): Record<string, unknown> {
	if (url.host !== '' && url.host !== 'localhost') {
		throw new Error(`${url.href}: a file URL names a local path, file:///path (three slashes)`);
	}

	const out: Record<string, unknown> = {type: 'file', path: fileURLToPath(url)};
	for (const [key, value] of url.searchParams) {
		if (!queryKeys.has(key)) {
			throw new Error(`${url.href}: unknown parameter ${JSON.stringify(key)}; expected ${[...queryKeys].join(', ')}`);
		}

		out[key] = key === 'keep' ? Number(value) : (key === 'gzip' ? value === 'true' || value === '1' : value);
	}

	return out;
}
