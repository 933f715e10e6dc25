import * as z from 'zod';
import {type AlertRule, type KindSpec, parseDuration, parseRate, ruleKinds, severities} from '../core/alert-rules.js';
import {durationField, filterField, maxTimerMs} from './common.js';

// `alerts` in the config: rules over the live stream and the sinks they notify.
// Durations are "90s", "5m", "1h" (a bare number is seconds); rates "20/min", "2/s".
// A sink named after its kind (slack, webhook, email, alertmanager, command, terminal)
// needs no "type".

/** A bare number is seconds; rules take compound durations ("1h30m") and "0s". */
const duration = durationField('"90s", "5m" or "1h"', {seconds: 'nonnegative', parse: parseDuration});
/** A timer's delay: at most some 24 days. */
const delay = durationField('"10s" or "1m"', {seconds: 'nonnegative', parse: parseDuration, max: maxTimerMs, what: 'a duration up to 24d'});

const perMinute = z.union([z.string(), z.number()]).transform((v, ctx) => {
	const rate = typeof v === 'number' ? v : parseRate(v);
	if (rate === undefined || rate < 0) {
		ctx.addIssue({code: 'custom', message: `expected events per minute, or a rate such as "20/min", "2/s" or "100/h", got ${JSON.stringify(v)}`});
		return z.NEVER;
	}

	return rate;
});

const groupBy = z.union([z.string().min(1), z.array(z.string().min(1))]).transform(v => (typeof v === 'string' ? [v] : v));

const kinds = {
	match: z.strictObject({resolveAfter: duration.optional()}),
	count: z.strictObject({atLeast: z.number().int().min(1), window: duration}),
	rate: z.strictObject({above: perMinute, window: duration.default(60_000), for: duration.default(0)}),
	spike: z.strictObject({
		factor: z.number().gt(1),
		window: duration,
		minCurrent: z.number().int().min(1).default(1),
		minReference: z.number().int().min(0).default(1),
	}),
	flatline: z.strictObject({below: z.number().int().min(1).default(1), window: duration}),
	newTerm: z.strictObject({
		field: z.string().min(1).default('fingerprint'),
		warmup: duration.default(600_000),
		resolveAfter: duration.optional(),
		maxTerms: z.number().int().min(1).default(10_000),
	}),
};

export const ruleConfig = z.strictObject({
	name: z.string().min(1).max(100),
	when: filterField('when').default(''),
	groupBy: groupBy.optional(),
	notify: z.array(z.string().min(1)).optional(),
	cooldown: duration.optional(),
	resolve: z.boolean().optional(),
	severity: z.enum(severities).default('warning'),
	labels: z.record(z.string(), z.string()).default({}),
	description: z.string().optional(),
	match: kinds.match.optional(),
	count: kinds.count.optional(),
	rate: kinds.rate.optional(),
	spike: kinds.spike.optional(),
	flatline: kinds.flatline.optional(),
	newTerm: kinds.newTerm.optional(),
}).superRefine((r, ctx) => {
	const given = ruleKinds.filter(k => r[k] !== undefined);
	if (given.length > 1) {
		ctx.addIssue({code: 'custom', message: `give one kind of rule, not ${given.join(' and ')}`});
	}

	const windowMs = r.count?.window ?? r.rate?.window ?? r.spike?.window ?? r.flatline?.window;
	if (windowMs !== undefined && windowMs < 1000) {
		ctx.addIssue({code: 'custom', path: [given[0]!, 'window'], message: 'a window is at least 1s'});
	}
});

export type RuleConfig = z.infer<typeof ruleConfig>;

const url = z.string().url().refine(u => /^https?:/i.test(u), 'expected an http:// or https:// URL');
const headers = z.record(z.string(), z.string()).default({});

/** What every sink that sends shares: its queue, retries and rate limit. */
const delivery = {
	/** Messages per second at most (Slack's default: 1). */
	rateLimit: perMinute.optional(),
	/** Attempts after the first, for 5xx, 429 and network errors. */
	retries: z.number().int().min(0).max(100).default(5),
	timeout: delay.default(10_000),
	/** Notices waiting at most; past it the oldest is dropped (and counted). */
	queue: z.number().int().min(1).max(100_000).default(1000),
};

export const sinkKinds = ['terminal', 'webhook', 'alertmanager', 'slack', 'email', 'command'] as const;

export const sinkConfig = z.discriminatedUnion('type', [
	z.strictObject({type: z.literal('terminal'), bell: z.boolean().default(true)}),
	z.strictObject({type: z.literal('webhook'), url, format: z.enum(['logmon', 'alertmanager']).default('logmon'), headers, ...delivery}),
	z.strictObject({
		type: z.literal('alertmanager'),
		/** The Alertmanager's base URL; logmon posts to <url>/api/v2/alerts. */
		url,
		headers,
		/** Firing alerts are posted again this often, so Alertmanager does not time them out. */
		resend: durationField('"30s" or "1m"', {seconds: 'positive', parse: parseDuration, min: 1000, max: maxTimerMs, what: 'a duration from 1s to 24d'}).default(60_000),
		...delivery,
	}),
	z.strictObject({type: z.literal('slack'), url, ...delivery, rateLimit: perMinute.default(60)}),
	z.strictObject({
		type: z.literal('email'),
		host: z.string().min(1),
		port: z.number().int().min(1).max(65_535).default(587),
		/** starttls: upgrade or refuse to send; tls: TLS from the first byte (port 465); none: plain text (tests, local relays). */
		tls: z.enum(['starttls', 'tls', 'none']).default('starttls'),
		user: z.string().optional(),
		password: z.string().optional(),
		from: z.string().min(1),
		to: z.array(z.string().min(1)).min(1),
		/** PEM file of the CA that signed the server's certificate, when it is not a public one. */
		ca: z.string().optional(),
		rejectUnauthorized: z.boolean().default(true),
		...delivery,
	}),
	z.strictObject({
		type: z.literal('command'),
		/** The program and its arguments; never run through a shell. */
		argv: z.array(z.string()).min(1),
		env: z.record(z.string(), z.string()).default({}),
		...delivery,
		retries: z.number().int().min(0).max(100).default(0),
	}),
]);

export type SinkConfig = z.infer<typeof sinkConfig>;

const sinkName = z.string().min(1).max(64).regex(/^[\w.@-]+$/, 'expected letters, digits, . _ - or @');

/** `"slack": {"url": …}` means `{"type": "slack", "url": …}`. */
function withTypes(value: unknown): unknown {
	if (value === null || typeof value !== 'object' || !('sinks' in value)) {
		return value;
	}

	const {sinks} = value as {sinks: unknown};
	if (sinks === null || typeof sinks !== 'object' || Array.isArray(sinks)) {
		return value;
	}

	const typed = Object.fromEntries(Object.entries(sinks).map(([name, s]) => [
		name,
		s !== null && typeof s === 'object' && !('type' in s) && (sinkKinds as readonly string[]).includes(name) ? {type: name, ...s} : s,
	]));
	return {...value, sinks: typed};
}

export const alertsConfig = z.preprocess(withTypes, z.strictObject({
	/** What a rule has unless it says otherwise. */
	defaults: z.strictObject({
		cooldown: duration.default(600_000),
		groupBy: groupBy.default([]),
		resolve: z.boolean().default(true),
		notify: z.array(z.string().min(1)).default(['terminal']),
	}).prefault({}),
	rules: z.array(ruleConfig).default([]),
	sinks: z.record(sinkName, sinkConfig).default({}),
}).superRefine((a, ctx) => {
	const seen = new Set<string>();
	for (const [i, r] of a.rules.entries()) {
		if (seen.has(r.name)) {
			ctx.addIssue({code: 'custom', path: ['rules', i, 'name'], message: `two rules are named ${JSON.stringify(r.name)}`});
		}

		seen.add(r.name);
		for (const [j, name] of (r.notify ?? a.defaults.notify).entries()) {
			if (name !== 'terminal' && !(name in a.sinks)) {
				const known = ['terminal', ...Object.keys(a.sinks).filter(n => n !== 'terminal')].join(', ');
				ctx.addIssue({code: 'custom', path: r.notify ? ['rules', i, 'notify', j] : ['defaults', 'notify', j], message: `no sink named ${JSON.stringify(name)}; the sinks are: ${known}`});
			}
		}
	}
})).prefault({});

export type AlertsConfig = z.infer<typeof alertsConfig>;

/** What a run does about alerts: the rules (config, `--alert`, `--demo`), the sinks, the bell. */
export type AlertSettings = {
	rules: AlertRule[];
	sinks: Record<string, SinkConfig>;
	/** Ring the terminal bell when an alert fires in the UI. */
	bell: boolean;
};

/** A validated rule with the defaults applied. */
export function toRule(r: RuleConfig, defaults: AlertsConfig['defaults']): AlertRule {
	const cooldownMs = r.cooldown ?? defaults.cooldown;
	let spec: KindSpec;
	if (r.count) {
		spec = {kind: 'count', atLeast: r.count.atLeast, windowMs: r.count.window};
	} else if (r.rate) {
		spec = {kind: 'rate', perMinute: r.rate.above, windowMs: r.rate.window, forMs: r.rate.for};
	} else if (r.spike) {
		spec = {kind: 'spike', factor: r.spike.factor, windowMs: r.spike.window, minCurrent: r.spike.minCurrent, minReference: r.spike.minReference};
	} else if (r.flatline) {
		spec = {kind: 'flatline', below: r.flatline.below, windowMs: r.flatline.window};
	} else if (r.newTerm) {
		spec = {kind: 'newTerm', field: r.newTerm.field, warmupMs: r.newTerm.warmup, resolveAfterMs: r.newTerm.resolveAfter ?? cooldownMs, maxTerms: r.newTerm.maxTerms};
	} else {
		spec = {kind: 'match', resolveAfterMs: r.match?.resolveAfter ?? cooldownMs};
	}

	return {
		name: r.name,
		when: r.when,
		groupBy: r.groupBy ?? defaults.groupBy,
		notify: r.notify ?? defaults.notify,
		cooldownMs,
		resolve: r.resolve ?? defaults.resolve,
		severity: r.severity,
		labels: r.labels,
		description: r.description,
		spec,
	};
}
