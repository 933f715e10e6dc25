import * as z from 'zod';
import {durationField, filterField, maxTimerMs, sizeField} from './common.js';
import {cloudwatchForwardConfig, cloudwatchForwardFromUrl} from './forward-cloudwatch.js';
import {fileForwardConfig, fileForwardFromUrl} from './forward-file.js';
import {httpForwardConfig, httpForwardFromUrl} from './forward-http.js';
import {kafkaForwardConfig, kafkaForwardFromUrl} from './forward-kafka.js';

// `forward` in the config: named forwarders, each a filter and a destination. The fields every
// kind shares are here; each kind's own are in config/forward-<kind>.ts.

const size = sizeField('1GiB or 500MB');

/** A bare number is seconds; each is a timer's delay, so at most some 24 days. */
const duration = durationField('500ms, 30s or 5m', {seconds: 'nonnegative', max: maxTimerMs, what: 'a duration up to 24d'});

const commonFields = {
	/** Shown in health and the status bar; the spool directory's name. Default: the kind (file, file-2 …). */
	name: z.string().regex(/^[\w.-]{1,64}$/, 'expected letters, digits, ".", "_" or "-" (at most 64)').optional(),
	/** Which events go: the `f` prompt's grammar, e.g. "level>=warn !healthcheck". Empty: all. */
	filter: filterField('filter').default(''),
	/** Keep undelivered events on disk (at-least-once across outages and restarts). Default: on for kafka, http, cloudwatch; off for file. */
	spool: z.boolean().optional(),
	/** Events held in memory at most; past it (with no spool) new events are dropped and counted. */
	queue: z.number().int().min(100).max(10_000_000).default(20_000),
	/** The spool's size cap (bytes once parsed); past it the oldest spooled events are dropped and counted. */
	spoolMaxSize: size.default(1024 ** 3),
	retry: z.strictObject({
		/** First wait after a failed batch. */
		initialDelay: duration.default(500),
		/** Longest wait between attempts. */
		maxDelay: duration.default(60_000),
		/** Attempts at one batch before it is set aside in the dead-letter file; 0: until it goes (the default). */
		maxAttempts: z.number().int().min(0).default(0),
	}).prefault({}),
	/** A batch not acknowledged within this long counts as a failed attempt (and is tried again). */
	timeout: duration.default(30_000),
};

export const forwardConfig = z.discriminatedUnion('type', [
	fileForwardConfig.safeExtend(commonFields),
	kafkaForwardConfig.safeExtend(commonFields),
	httpForwardConfig.safeExtend(commonFields),
	cloudwatchForwardConfig.safeExtend(commonFields),
]);

export type ForwardConfigInput = z.input<typeof forwardConfig>;
export type ForwardConfig = z.infer<typeof forwardConfig>;
export type ForwardKind = ForwardConfig['type'];

/** A forwarder as this run starts it: named, its spool decided. */
export type ForwardSettings = ForwardConfig & {name: string; spool: boolean};

export const forwardList = z.array(forwardConfig).default([]);

export class ForwardUrlError extends Error {}

/** The raw config a `--forward URL` means, by its scheme; an unknown scheme is an error naming the flag. */
export function forwardFromUrl(text: string, flag = '--forward'): Record<string, unknown> {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new ForwardUrlError(`${flag}: expected a URL such as file:///var/log/logmon/all.ndjson, kafka://host:9092/topic, https://host/path or cloudwatch://eu-west-1, got ${JSON.stringify(text)}`);
	}

	try {
		switch (url.protocol) {
			case 'file:': {
				return fileForwardFromUrl(url);
			}

			case 'kafka:': {
				return kafkaForwardFromUrl(url);
			}

			case 'http:':
			case 'https:': {
				return httpForwardFromUrl(url);
			}

			case 'cloudwatch:': {
				return cloudwatchForwardFromUrl(url);
			}

			default: {
				throw new ForwardUrlError(`unknown scheme ${JSON.stringify(url.protocol)} in ${JSON.stringify(text)}; expected file://, kafka://, http://, https:// or cloudwatch://`);
			}
		}
	} catch (error) {
		throw new ForwardUrlError(`${flag}: ${error instanceof Error ? error.message : String(error)}`);
	}
}

/** Names filled in (the kind, then kind-2 …; a name given twice is an error) and the spool default per kind. */
export function nameForwarders(configs: readonly ForwardConfig[], where: (i: number) => string): ForwardSettings[] {
	const taken = new Set(configs.flatMap(c => (c.name === undefined ? [] : [c.name])));
	const seen = new Set<string>();
	return configs.map((c, i) => {
		let {name} = c;
		if (name === undefined) {
			name = c.type;
			for (let n = 2; taken.has(name); n++) {
				name = `${c.type}-${n}`;
			}

			taken.add(name);
		} else if (seen.has(name)) {
			throw new ForwardUrlError(`${where(i)}: two forwarders are named ${JSON.stringify(name)}; give each a unique name`);
		}

		seen.add(name);
		return {...c, name, spool: c.spool ?? c.type !== 'file'};
	});
}
