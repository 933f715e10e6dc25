import {type LogEvent, eventChars} from '../core/event.js';
import {type Filter, FilterError, compileFilter, emptySpec, parseFilterExpression} from '../core/filter.js';
import {errorLevels} from '../history/types.js';
import {grepWords} from '../query-tokens.js';
import {indexWordRule} from '../query-store.js';
import {type HttpContext} from './context.js';
import {maxAnswerChars} from './read-events.js';
import {type DimensionTest, type QueryPlan, type TargetRequest, GrafanaRequestError} from './grafana-model.js';
import {type Annotation, type AnnotationKind, annotationKinds, annotationTable, eventTable} from './grafana-tables.js';
import {type GrafanaState} from './grafana-live.js';
import {type Series, targetSeries} from './grafana-series.js';

// POST /query: each target answered by its kind. Series from counts (grafana-series.ts), the
// recent_errors table from memory then the history's errors stream (newest first, stopping at
// the limit), annotations from this run's record. Every answer carries its target's refId.

export async function answerQuery(plan: QueryPlan, context: HttpContext, state: GrafanaState): Promise<unknown[]> {
	const out: unknown[] = [];
	const now = context.now();
	// The rows of every recent_errors target together: many targets cannot multiply an answer's size.
	let rowsLeft = context.limits.maxLimit;
	for (const target of plan.targets) {
		const {info} = target;
		if (info.kind === 'series') {
			// Error targets read the errors stream (kept longer); the error rate needs all events.
			const stream = info.errorsOnly ? 'errors' : 'all';
			const history = state.sidecars ? await state.sidecars.view(stream, state.live.since) : undefined;
			const series = targetSeries({target, buckets: plan.buckets, live: state.live, history, now});
			const failed = state.sidecars?.failed;
			if (failed) {
				for (const s of series) {
					s.meta = {notices: [...(s.meta?.notices ?? []), {severity: 'warning', text: `The history's indexes could not be listed (${failed}): counts from before this run may be missing.`}]};
				}
			}

			if (plan.widened) {
				for (const s of series) {
					s.meta = {notices: [...(s.meta?.notices ?? []), {severity: 'info', text: plan.widened}]};
				}
			}

			out.push(...(target.asTable ? [seriesTable(target, series)] : series));
		} else if (info.name === 'recent_errors') {
			const asked = Math.min(target.payload.limit ?? context.limits.defaultLimit, context.limits.maxLimit);
			const rows = rowsLeft > 0 ? await recentErrors(plan, target, context, Math.min(asked, rowsLeft)) : [];
			rowsLeft -= rows.length;
			const cut = asked > rows.length && rowsLeft <= 0;
			out.push({...eventTable(rows), refId: target.refId, ...(cut ? {meta: {notices: [{severity: 'warning', text: `The recent_errors targets of one request hold ${context.limits.maxLimit} rows at most together; this one may be short.`}]}} : {})});
		} else {
			const kinds = (target.payload.kinds ?? [...annotationKinds]) as AnnotationKind[];
			out.push({...annotationTable(annotationRows(state, plan.from, plan.to, kinds, target.test, now)), refId: target.refId});
		}
	}

	return out;
}

/** A series target as a table (SimpleJSON's `type: "table"`): one row per bucket and series. */
function seriesTable(target: TargetRequest, series: Series[]): unknown {
	const by = target.info.by ?? 'target';
	const rows: Array<[number, string, number | null]> = [];
	for (const s of series) {
		for (const [value, time] of s.datapoints) {
			rows.push([time, s.target, value]);
		}
	}

	rows.sort((a, b) => a[0] - b[0]);
	return {
		type: 'table',
		refId: target.refId,
		columns: [{text: 'Time', type: 'time'}, {text: by, type: 'string'}, {text: 'value', type: 'number'}],
		rows,
		...(series[0]?.meta ? {meta: series[0].meta} : {}),
	};
}

export function annotationRows(state: GrafanaState, from: number, to: number, kinds: readonly AnnotationKind[], test: DimensionTest | undefined, now: number): Annotation[] {
	const want = new Set(kinds);
	// Filters name services, hosts and sources; an annotation names a source (its tags' second word).
	const sources = test && !test.all && test.keys.has('source') ? test : undefined;
	return state.annotations(now)
		.filter(a => want.has(a.kind) && a.timeEnd >= from && a.time <= to)
		.filter(a => !sources || a.kind === 'alerts' || sources.test({service: '', level: 'INFO', host: '', source: a.tags[1] ?? '', type: ''}))
		.sort((a, b) => a.time - b.time);
}

/** The recent_errors filter: the payload's `q` (the `f` prompt grammar) and the conditions. */
function errorsFilter(target: TargetRequest, field: string): Filter {
	try {
		return compileFilter(target.payload.q ? parseFilterExpression(target.payload.q) : emptySpec(), {grep: field, exclude: field});
	} catch (error) {
		throw new GrafanaRequestError(field, error instanceof FilterError ? error.message.replace(/^[^:]+: /, '') : String(error));
	}
}

function passes(e: LogEvent, filter: Filter, test: DimensionTest, from: number, to: number): boolean {
	return !e.marker
		&& errorLevels.has(e.level)
		&& e.time >= from && e.time <= to
		&& (filter.all || filter.test(e))
		&& (test.all || test.test({service: e.service, level: e.level, host: e.host, source: e.sourceId, type: e.type}));
}

/** The newest errors in the range: the memory first, then the history's errors stream before the memory's oldest. */
async function recentErrors(plan: QueryPlan, target: TargetRequest, context: HttpContext, limit: number): Promise<LogEvent[]> {
	const filter = errorsFilter(target, `${target.payloadAt}.q`);
	const {from, to} = plan;
	const out: LogEvent[] = [];
	if (limit <= 0) {
		return out;
	}

	// A table's rows hold at most maxAnswerChars of text, as an API answer does.
	let chars = 0;
	const take = (e: LogEvent): boolean => {
		out.push(e);
		chars += eventChars(e);
		return out.length >= limit || chars >= maxAnswerChars;
	};

	const {store, reader} = context;
	for (let i = store.size - 1; i >= 0; i--) {
		const e = store.at(i)!;
		if (passes(e, filter, target.test, from, to) && take(e)) {
			return out;
		}
	}

	const oldest = store.at(0);
	if (!reader) {
		return out;
	}

	const words = grepWords(filter.spec.grep, indexWordRule);
	const abort = new AbortController();
	let scanned = 0;
	for await (const e of reader.scan({
		errorsOnly: true,
		reverse: true,
		since: from,
		until: to,
		filter: filter.all ? undefined : filter,
		tokens: words.length > 0 ? words : undefined,
		signal: abort.signal,
	})) {
		// The newest of the history are still in memory, and already looked at.
		const held = oldest && (e.receivedAt > oldest.receivedAt || (e.receivedAt === oldest.receivedAt && e.seq >= oldest.seq));
		const done = !held && passes(e, filter, target.test, from, to) && take(e);
		if (done || ++scanned >= context.limits.maxScan) {
			abort.abort();
			break;
		}
	}

	return out;
}
