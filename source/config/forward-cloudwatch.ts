import * as z from 'zod';
import {parseDuration} from '../core/alert-rules.js';
import {checkNameTemplate, type NameKind} from '../core/cloudwatch-names.js';
import {durationField} from './common.js';

// `forward` entries of type "cloudwatch": only this kind's own fields (config/forward.ts adds the common ones).
// Credentials come from the standard AWS chain (environment, shared files, instance role), never from here.

/** The retention periods CloudWatch Logs accepts, in days. */
export const retentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const nameTemplate = (kind: NameKind) => z.string().superRefine((text, ctx) => {
	const problem = checkNameTemplate(kind, text);
	if (problem) {
		ctx.addIssue({code: 'custom', message: problem});
	}
});

/** "4s", "500ms", "1m"; a bare number is seconds. */
const delay = durationField('"4s" or 8', {seconds: 'nonnegative', parse: parseDuration, min: 100, max: 600_000, what: 'a delay from 100ms to 10m'});

export const cloudwatchForwardConfig = z.strictObject({
	type: z.literal('cloudwatch'),
	/** Absent: from the AWS chain (AWS_REGION, the shared config file). */
	region: z.string().regex(/^[a-z\d-]+$/, 'expected an AWS region such as us-east-1').optional(),
	/** Another endpoint than AWS's: a private endpoint, or a test server. */
	endpoint: z.url({protocol: /^https?$/, error: 'expected an http(s) URL'}).optional(),
	/** Absent: logmon's host name (as the logspout adapter names groups). */
	group: nameTemplate('group').optional(),
	stream: nameTemplate('stream').default('{service}'),
	/** A batch that is not full goes out this long after its first event (ms once parsed). */
	delay: delay.default(4000),
	/** Set on the groups logmon creates. */
	retentionDays: z.number().refine(v => (retentionDays as readonly number[]).includes(v), {message: `expected one of CloudWatch's retention periods: ${retentionDays.join(', ')}`}).optional(),
	createGroup: z.boolean().default(true),
	createStream: z.boolean().default(true),
});

export type CloudwatchForwardConfig = z.infer<typeof cloudwatchForwardConfig>;

const urlKeys = new Set(['group', 'stream', 'endpoint', 'delay', 'retentionDays', 'createGroup', 'createStream']);

/**
 * The config a `--forward` URL of this kind means: `cloudwatch://REGION?group=…&stream=…`
 * (`cloudwatch://` alone: the region from the AWS chain), with any field of the config as a
 * query parameter.
 */
export function cloudwatchForwardFromUrl(url: URL): Record<string, unknown> {
	const config: Record<string, unknown> = {type: 'cloudwatch'};
	if (url.hostname !== '') {
		config['region'] = decodeURIComponent(url.hostname);
	}

	if (url.pathname !== '' && url.pathname !== '/') {
		throw new Error(`--forward ${url.href}: a cloudwatch URL has no path; name the group with ?group=…`);
	}

	for (const [key, value] of url.searchParams) {
		if (!urlKeys.has(key)) {
			throw new Error(`--forward ${url.href}: unknown parameter ${key}; known: ${[...urlKeys].join(', ')}`);
		}

		if (key === 'createGroup' || key === 'createStream') {
			config[key] = value === 'true' ? true : (value === 'false' ? false : value);
		} else if ((key === 'delay' || key === 'retentionDays') && /^\d+(?:\.\d+)?$/.test(value)) {
			config[key] = Number(value);
		} else {
			config[key] = value;
		}
	}

	return config;
}
