import * as z from 'zod';
import {compileTemplate, ForwardTemplateError} from '../core/forward-template.js';
import {durationField, maxTimerMs, sizeField} from './common.js';

// `forward` entries of type "http": only this kind's own fields (config/forward.ts adds the common ones).
// Batched POSTs in one of three shapes: NDJSON, the Loki push API, Elasticsearch/OpenSearch `_bulk`.
// Header values may hold ${ENV} (expanded when the config is read) and are treated as secrets.

export const httpShapes = ['ndjson', 'loki', 'bulk'] as const;
export type HttpShape = (typeof httpShapes)[number];

/** RFC 9110's token. */
const headerName = /^[!#$%&'*+.^`|~\w-]+$/;

/** Loki's label names; `__` names are Loki's own. */
const labelName = /^(?!__)[A-Za-z_]\w*$/;

const template = z.string().min(1).superRefine((v, ctx) => {
	try {
		compileTemplate(v);
	} catch (error) {
		if (error instanceof ForwardTemplateError) {
			ctx.addIssue({code: 'custom', message: error.message});
			return;
		}

		throw error;
	}
});

/** A bare number is seconds. */
const duration = durationField('"2s" or "500ms"', {seconds: 'positive', max: maxTimerMs, what: 'a duration up to 24d'});

const size = sizeField('1MiB or 500KB');

export const defaultLokiLabels: Readonly<Record<string, string>> = {service: '{service}', host: '{host}', level: '{level}', source: '{source}'};

export const httpForwardConfig = z.strictObject({
	type: z.literal('http'),
	/** Where batches are POSTed; user:password in it becomes Basic authentication. */
	url: z.string().url().refine(u => /^https?:\/\//i.test(u), 'expected an http:// or https:// URL'),
	/** Absent: from the URL's path (`/loki/api/v1/push` loki, `/_bulk` bulk, else ndjson). */
	shape: z.enum(httpShapes).optional(),
	/** Sent with every request; values are secrets (never shown), `${ENV}` expanded. */
	headers: z.record(z.string(), z.string()).superRefine((headers, ctx) => {
		for (const name of Object.keys(headers).filter(n => !headerName.test(n))) {
			ctx.addIssue({code: 'custom', path: [name], message: `${JSON.stringify(name)} is not an HTTP header name`});
		}
	}).default({}),
	/** Compress request bodies (Content-Encoding: gzip). */
	gzip: z.boolean().default(false),
	/** loki: each label's value from a template; events with the same labels share a stream. */
	labels: z.record(z.string(), template).superRefine((labels, ctx) => {
		const names = Object.keys(labels);
		if (names.length === 0) {
			ctx.addIssue({code: 'custom', message: 'expected at least one label'});
		}

		for (const name of names.filter(n => !labelName.test(n))) {
			ctx.addIssue({code: 'custom', path: [name], message: `${JSON.stringify(name)} is not a Loki label name: letters, digits and _, not starting with a digit or __`});
		}
	}).default({...defaultLokiLabels}),
	/** loki: the log line of each entry: the original text, the message, or the whole event as JSON. */
	line: z.enum(['raw', 'message', 'json']).default('raw'),
	/** bulk: the index of each document, from a template; made lowercase and stripped of characters indices may not hold. */
	index: template.default('logs-{service}-{date}'),
	/** bulk: `create` for data streams. */
	action: z.enum(['index', 'create']).default('index'),
	/** Where batches are cut; defaults by shape (sinks/forward/http.ts). */
	batch: z.strictObject({
		events: z.number().int().min(1).max(100_000).optional(),
		bytes: size.optional(),
		delay: duration.optional(),
	}).optional(),
	/** https: PEM file of the CA that signed the server's certificate, when it is not a public one. */
	ca: z.string().min(1).optional(),
	rejectUnauthorized: z.boolean().default(true),
});

export type HttpForwardConfig = z.infer<typeof httpForwardConfig>;

/** The shape a URL's path means when none is given. */
export function shapeOfUrl(url: URL): HttpShape {
	const p = url.pathname.replace(/\/+$/, '');
	if (p.endsWith('/loki/api/v1/push')) {
		return 'loki';
	}

	return p.endsWith('/_bulk') ? 'bulk' : 'ndjson';
}

/** The shape of a parsed config: given, or from its URL. */
export function httpShape(config: Pick<HttpForwardConfig, 'shape' | 'url'>): HttpShape {
	return config.shape ?? shapeOfUrl(new URL(config.url));
}

/**
 * The config a `--forward` URL of this kind means: `http(s)://host/path`, the shape from
 * `?shape=ndjson|loki|bulk` or else from the path; `?gzip=1` compresses. Both parameters are
 * logmon's own and are taken off the URL that is posted to.
 */
export function httpForwardFromUrl(url: URL): Record<string, unknown> {
	const target = new URL(url.href);
	const out: Record<string, unknown> = {type: 'http'};
	const shape = target.searchParams.get('shape');
	if (shape !== null) {
		// Left as given: the schema names the allowed values when it is not one of them.
		out['shape'] = shape;
		target.searchParams.delete('shape');
	}

	const gzip = target.searchParams.get('gzip');
	if (gzip !== null) {
		out['gzip'] = gzip === '' || gzip === '1' || gzip === 'true';
		target.searchParams.delete('gzip');
	}

	out['url'] = target.href;
	out['shape'] ??= shapeOfUrl(target);
	return out;
}
