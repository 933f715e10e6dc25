import {LEVELS} from '../core/event.js';
import {type HttpContext} from './context.js';
import {type TagKey, GrafanaRequestError, metricsList, readQuery, readRange, tagKeyOf, tagKeys, targets} from './grafana-model.js';
import {grafanaState} from './grafana-live.js';
import {annotationRows, answerQuery} from './grafana-query.js';
import {annotationKindsOf, annotationList, variableRows} from './grafana-tables.js';
import {type Reply} from './reply.js';
import {type HttpRequest, type Router} from './router.js';

// The Grafana JSON datasource endpoints under /api/v1/grafana: one superset for the SimpleJSON
// plugin (deprecated), simPod's JSON plugin (before and since 0.6) and plain JSON readers such as
// Infinity. The URL to give Grafana is http://HOST:5004/api/v1/grafana.

const base = '/api/v1/grafana';

/** Values listed for a tag key or a variable, at most. */
const maxValues = 1000;

type Body = Record<string, unknown>;

async function body(request: HttpRequest): Promise<Body> {
	const b = await request.json();
	return b !== null && typeof b === 'object' && !Array.isArray(b) ? b as Body : {};
}

/** A request the contract does not allow: 400 with `error` (logmon's) and `message` (what Grafana shows). */
function refused(error: unknown): Reply {
	if (error instanceof GrafanaRequestError) {
		return {status: 400, json: {error: error.message, message: error.message, status: 400, parameter: error.field}};
	}

	throw error;
}

async function guarded(run: () => Promise<Reply>): Promise<Reply> {
	try {
		return await run();
	} catch (error) {
		return refused(error);
	}
}

/** The values of a tag key seen in this run's counts and the history's sidecars, sorted. */
async function tagValues(context: HttpContext, key: TagKey): Promise<string[]> {
	if (key === 'level') {
		return [...LEVELS];
	}

	const state = grafanaState(context);
	const values = new Set<string>();
	for (const c of state.live.allCombos()) {
		values.add(c[key]);
	}

	if (key === 'service' && state.sidecars) {
		for (const s of (await state.sidecars.names()).services) {
			values.add(s);
		}
	}

	for (const h of key === 'source' ? context.bus.health() : []) {
		values.add(h.id);
	}

	values.delete('(other)');
	return [...values].sort().slice(0, maxValues);
}

/** The key a variable query or a legacy /search text names: `services`, `{"target": "host"}`. */
function keyOfQuery(value: unknown): TagKey | undefined {
	if (typeof value === 'string') {
		return tagKeyOf(value);
	}

	if (value !== null && typeof value === 'object') {
		const o = value as Body;
		for (const f of ['target', 'key', 'query']) {
			if (typeof o[f] === 'string') {
				return tagKeyOf(o[f]);
			}
		}
	}

	return undefined;
}

/** Sidecars that could not be read, and why the last listing failed: what a test connection should show. */
function historyIndexes(context: HttpContext): Record<string, unknown> {
	const sidecars = grafanaState(context).sidecars;
	return sidecars && (sidecars.damaged > 0 || sidecars.failed) ? {historyIndexes: {damaged: sidecars.damaged, failed: sidecars.failed}} : {};
}

export function registerGrafana(router: Router): void {
	// Test connection: simPod calls the base URL without a trailing slash, SimpleJSON with one (the router takes both).
	router.get(base, (_request, context) => ({json: {
		status: 'ok',
		name: 'logmon',
		version: context.version,
		// Without the history the series start when this logmon started.
		from: context.reader ? 'history' : 'memory',
		targets: targets.map(t => t.name),
		...historyIndexes(context),
	}}));

	// Target names: /search (SimpleJSON, simPod <= 0.5; also its variable queries) and /metrics (simPod >= 0.6).
	router.post(`${base}/search`, async (request, context) => guarded(async () => {
		const b = await body(request);
		const key = keyOfQuery(b['target']);
		if (key) {
			return {json: await tagValues(context, key)};
		}

		const text = typeof b['target'] === 'string' ? b['target'].trim().toLowerCase() : '';
		const names = targets.map(t => t.name);
		const some = names.filter(n => text !== '' && n.includes(text));
		return {json: some.length > 0 ? some : names};
	}));
	router.post(`${base}/metrics`, async request => guarded(async () => {
		await body(request);
		return {json: metricsList()};
	}));
	router.post(`${base}/metric-payload-options`, async (request, context) => guarded(async () => {
		const b = await body(request);
		const key = typeof b['name'] === 'string' ? tagKeyOf(b['name']) : undefined;
		return {json: key ? (await tagValues(context, key)).map(v => ({label: v, value: v})) : []};
	}));

	router.post(`${base}/query`, async (request, context) => guarded(async () => {
		const plan = readQuery(await request.json());
		return {json: await answerQuery(plan, context, grafanaState(context))};
	}));

	// Legacy annotations: the query text picks kinds (gaps, failures, alerts); empty: all of them.
	router.post(`${base}/annotations`, async (request, context) => guarded(async () => {
		const b = await body(request);
		const {from, to} = readRange(b);
		const annotation = b['annotation'] ?? {};
		const query = annotation !== null && typeof annotation === 'object' ? (annotation as Body)['query'] : undefined;
		const rows = annotationRows(grafanaState(context), from, to, annotationKindsOf(query), undefined, context.now());
		return {json: annotationList(rows, annotation)};
	}));

	// Variables (simPod): {"payload": {"target": "services"}} -> [{__text, __value}].
	router.post(`${base}/variable`, async (request, context) => guarded(async () => {
		const b = await body(request);
		const key = keyOfQuery(b['payload']) ?? keyOfQuery(b);
		if (!key) {
			throw new GrafanaRequestError('payload.target', `expected one of ${tagKeys.join(', ')}`);
		}

		return {json: variableRows(await tagValues(context, key))};
	}));
	router.post(`${base}/tag-keys`, async request => guarded(async () => {
		await body(request);
		return {json: tagKeys.map(text => ({type: 'string', text}))};
	}));
	router.post(`${base}/tag-values`, async (request, context) => guarded(async () => {
		const b = await body(request);
		const key = typeof b['key'] === 'string' ? tagKeyOf(b['key']) : undefined;
		if (!key) {
			throw new GrafanaRequestError('key', `expected one of ${tagKeys.join(', ')}`);
		}

		return {json: (await tagValues(context, key)).map(text => ({text}))};
	}));
}
