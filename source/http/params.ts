import {parseSince} from '../core/since.js';
import {type Filter, type FilterSpec, FilterError, compileFilter, emptySpec, parseFilterExpression, parseLevel} from '../core/filter.js';
import {grepWords} from '../query-tokens.js';
import {indexWordRule} from '../query-store.js';
import {type HttpLimits} from './context.js';
import {badParameter} from './reply.js';

// The query parameters every /api/v1/logs endpoint and the stream take, checked and turned into
// a filter: since, until (event time: 10m, 2h, 3d before now, or RFC 3339), level (that level and
// above), service, host, type, source (exact; repeatable or comma-separated), q (the UI's `f`
// prompt grammar: `timeout !health level>=warn service=web "two words"`) and limit (clamped).

export type EventParams = {
	filter: Filter;
	since: number | undefined;
	until: number | undefined;
	/** Words every match holds (from the q regexes): lets the history skip segments. */
	tokens: string[] | undefined;
	limit: number;
	/** The limit asked for was above the maximum and was lowered to it. */
	clamped: boolean;
};

function values(query: URLSearchParams, name: string): string[] {
	return query.getAll(name).flatMap(v => v.split(',')).map(v => v.trim()).filter(Boolean);
}

export function timeParam(query: URLSearchParams, name: string, now: number): number | undefined {
	const text = query.get(name);
	if (text === null || text === '') {
		return undefined;
	}

	const ms = /^\d{12,14}$/.test(text) ? Number(text) : parseSince(text, now);
	if (ms === undefined) {
		throw badParameter(name, `expected a duration before now like 30s, 10m, 2h, 3d, an RFC 3339 time like 2025-05-01T10:00:00Z, or epoch milliseconds, got ${JSON.stringify(text)}`);
	}

	return ms;
}

/** `limit`: a whole number from 1; above `max` it is lowered to `max` (said in the answer). */
export function limitParam(query: URLSearchParams, limits: Pick<HttpLimits, 'maxLimit'>, fallback: number): {limit: number; clamped: boolean} {
	const text = query.get('limit');
	if (text === null || text === '') {
		return {limit: Math.min(fallback, limits.maxLimit), clamped: false};
	}

	if (!/^\d{1,15}$/.test(text) || Number(text) < 1) {
		throw badParameter('limit', `expected a whole number from 1 to ${limits.maxLimit}, got ${JSON.stringify(text)}`);
	}

	const n = Number(text);
	return n > limits.maxLimit ? {limit: limits.maxLimit, clamped: true} : {limit: n, clamped: false};
}

/** The filter of the parameters; `service` may come from the path. */
export function filterParams(query: URLSearchParams, extra: {service?: string | undefined} = {}): {spec: FilterSpec; filter: Filter; tokens: string[] | undefined} {
	let spec = emptySpec();
	const q = query.get('q');
	if (q !== null && q.trim() !== '') {
		try {
			spec = parseFilterExpression(q, spec);
		} catch (error) {
			throw badParameter('q', error instanceof FilterError ? error.message.replace(/^filter: /, '') : String(error));
		}
	}

	const level = query.get('level');
	if (level !== null && level !== '') {
		try {
			spec.minLevel = parseLevel(level, 'level');
		} catch (error) {
			throw badParameter('level', (error as Error).message.replace(/^level: /, ''));
		}
	}

	spec.services.push(...values(query, 'service'), ...(extra.service === undefined ? [] : [extra.service]));
	spec.hosts.push(...values(query, 'host'));
	spec.types.push(...values(query, 'type'));
	spec.sources.push(...values(query, 'source'));
	let filter: Filter;
	try {
		filter = compileFilter(spec, {grep: 'q', exclude: 'q'});
	} catch (error) {
		throw badParameter('q', (error as Error).message.replace(/^q: /, ''));
	}

	const tokens = grepWords(spec.grep, indexWordRule);
	return {spec, filter, tokens: tokens.length > 0 ? tokens : undefined};
}

export function eventParams(query: URLSearchParams, limits: HttpLimits, now: number, extra: {service?: string | undefined; defaultLimit?: number} = {}): EventParams {
	const since = timeParam(query, 'since', now);
	const until = timeParam(query, 'until', now);
	if (since !== undefined && until !== undefined && since > until) {
		throw badParameter('until', `${query.get('until')!} is before since ${query.get('since')!}: nothing can match`);
	}

	const {filter, tokens} = filterParams(query, extra);
	const {limit, clamped} = limitParam(query, limits, extra.defaultLimit ?? limits.defaultLimit);
	return {filter, since, until, tokens, limit, clamped};
}
