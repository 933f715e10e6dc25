import * as z from 'zod';
import {FilterError, compileFilter, emptySpec, parseFilterExpression} from '../core/filter.js';
import {parseDuration, parseSize} from '../history/units.js';

/** `host:port` or `port`; the host defaults to loopback. */
export const hostPort = z.string().regex(/^(?:\[[^\]]+\]|[^:\s]+)?:?\d{1,5}$/, 'expected [host:]port, e.g. 127.0.0.1:7701');

export const sourceName = z.string().min(1).max(64).regex(/^[\w.@-]+$/, 'expected letters, digits, . _ - or @');

/** A size such as "2GiB" or "500MB", or a positive number of bytes; bytes once parsed. `example` goes in the error, e.g. "1GiB or 500MB". */
export const sizeField = (example: string) => z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
	const bytes = typeof v === 'number' ? v : parseSize(v);
	if (bytes === undefined) {
		ctx.addIssue({code: 'custom', message: `expected a size such as ${example}, got ${JSON.stringify(v)}`});
		return z.NEVER;
	}

	return bytes;
});

export type DurationOptions = {
	/** Whether a bare number (seconds) is taken, and from where. Absent: strings only. */
	seconds?: 'positive' | 'nonnegative';
	/** The string grammar; default logmon's units (`500ms`, `3d`, positive only). */
	parse?: (text: string) => number | undefined;
	/** Bounds on the result in ms, inclusive. */
	min?: number;
	max?: number;
	/** What the error says is expected; default "a duration". */
	what?: string;
};

/** The longest delay a timer takes (2^31 - 1 ms, some 24.8 days): Node runs a longer one after 1 ms. */
export const maxTimerMs = 2_147_483_647;

/** A duration such as "30s"; ms once parsed. `example` goes in the error, e.g. "500ms, 30s or 5m". */
export const durationField = (example: string, options: DurationOptions = {}) => {
	const {seconds, parse = parseDuration, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, what = 'a duration'} = options;
	const input = seconds ? z.union([z.number(), z.string()]) : z.string();
	return input.transform((v, ctx) => {
		const ms = typeof v === 'number'
			? ((seconds === 'positive' ? v > 0 : v >= 0) ? Math.round(v * 1000) : undefined)
			: parse(v);
		if (ms === undefined || ms < min || ms > max) {
			ctx.addIssue({code: 'custom', message: `expected ${what} such as ${example}, got ${JSON.stringify(v)}`});
			return z.NEVER;
		}

		return ms;
	});
};

/** The grammar of the UI's `f` prompt (`level>=warn !healthcheck`), checked so a typo is a config error, not a silent no-op. `name` is the field named in errors. */
export const filterField = (name: string) => z.string().superRefine((v, ctx) => {
	try {
		compileFilter(parseFilterExpression(v, emptySpec()), {grep: name, exclude: name});
	} catch (error) {
		if (error instanceof FilterError) {
			ctx.addIssue({code: 'custom', message: error.message});
			return;
		}

		throw error;
	}
});
