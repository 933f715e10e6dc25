import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {type Level, type LogEvent} from '../../source/core/event.js';
import {expectSeries, expectTable, expectVariable, sum, toFrame} from '../support/grafana-contract.js';
import {writeHistory} from '../support/history.js';
import {eventually, request, serve, stop, type Served} from '../support/http.js';

// The Grafana endpoints of the built logmon, over real HTTP, with requests shaped as the plugins
// send them: simPod's JSON datasource since 0.6 (payload, filters, /metrics, /variable), before it
// (data, adhocFilters, /search) and the SimpleJSON plugin (type timeserie/table, /annotations).
// A history written before the run (two days, ending three hours ago) and live events from stdin.

const minute = 60_000;
const t0 = Date.now();
const historyEnd = Math.floor((t0 - 3 * 3_600_000) / minute) * minute;
const historyStart = historyEnd - 2 * 86_400_000;

/** One event every 10 minutes per service; every 5th an ERROR, every 7th a CRITICAL (5th wins). */
function oldEvents(): LogEvent[] {
	const out: LogEvent[] = [];
	let seq = 0;
	for (let t = historyStart; t < historyEnd; t += 10 * minute) {
		for (const [k, service] of ['billing', 'web'].entries()) {
			seq++;
			const level: Level = seq % 5 === 0 ? 'ERROR' : (seq % 7 === 0 ? 'CRITICAL' : 'INFO');
			const at = t + (k * 17_000) + (seq % 3 * 1000);
			const message = `${service} #${seq} ${level === 'INFO' ? 'ok' : 'failed'}`;
			out.push({seq, time: at, receivedAt: at + 200, sourceId: 'old-run', sourceKind: 'logio', service, host: 'node-1', proc: '', type: '', level, message, raw: message});
		}
	}

	return out;
}

const history = oldEvents();
const isError = (e: {level: Level}): boolean => e.level === 'ERROR' || e.level === 'CRITICAL';

/** Live events, 40 to 10 seconds ago by event time. */
const liveLines = [
	{level: 'error', service: 'billing', host: 'node-2', message: 'card declined', status: 502},
	{level: 'critical', service: 'checkout', host: 'node-2', message: 'database down'},
	{level: 'info', service: 'web', host: 'node-3', message: 'GET /', status: 200},
	{level: 'info', service: 'web', host: 'node-3', message: 'GET /missing', status: 404},
	{level: 'info', service: 'web', host: 'node-3', message: '10.0.0.1 - - "GET /a HTTP/1.1" 301 12'},
	{level: 'error', service: 'web', host: 'node-3', message: 'upstream timeout status=504'},
].map((o, i) => ({...o, time: new Date(t0 - 40_000 + (i * 5000)).toISOString()}));

const range = {from: new Date(historyStart - 3_600_000).toISOString(), to: new Date(t0 + 60_000).toISOString(), raw: {from: 'now-3d', to: 'now'}};

describe('Grafana endpoints', () => {
	let s: Served;
	let dir: string;
	const post = async (what: string, body: unknown) => request(`${s.base}/api/v1/grafana${what}`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});

	/** simPod >= 0.6's /query body. */
	const simPod = (targets: unknown[], extra: Record<string, unknown> = {}) => ({
		app: 'dashboard',
		requestId: 'Q101',
		timezone: 'browser',
		panelId: 2,
		dashboardUID: 'logmon',
		range,
		timeInfo: '',
		interval: '1m',
		intervalMs: 60_000,
		maxDataPoints: 5000,
		targets: targets.map((t, i) => ({datasource: {type: 'simpod-json-datasource', uid: 'P1'}, editorMode: 'code', refId: String.fromCodePoint(65 + i), ...t as object})),
		scopedVars: {__interval: {text: '1m', value: '1m'}, __interval_ms: {text: '60000', value: 60_000}},
		startTime: t0,
		rangeRaw: range.raw,
		filters: [],
		...extra,
	});

	beforeAll(async () => {
		dir = mkdtempSync(path.join(tmpdir(), 'logmon-grafana-'));
		await writeHistory(dir, history);
		s = await serve(['--history', '--history-dir', dir, '--retention', '7d']);
		s.child.stdin!.write(liveLines.map(l => JSON.stringify(l)).join('\n') + '\n');
		// The earlier run's last segments (all/ and errors/) are sealed at start, each in its own time,
		// the live events counted as they come: wait for both counts.
		const errors = history.filter(e => isError(e)).length + liveLines.filter(l => l.level !== 'info').length;
		await eventually(async () => {
			const r = await post('/query', simPod([{target: 'event_count'}, {target: 'error_count'}]));
			return r.status === 200 && Math.round(sum(r.json[0].datapoints)) === history.length + liveLines.length && Math.round(sum(r.json[1].datapoints)) === errors;
		}, 'the history sealed and the live events counted');
	});
	afterAll(async () => {
		await stop(s);
		rmSync(dir, {recursive: true, force: true});
	});

	it('test connection: GET /api/v1/grafana and /api/v1/grafana/', async () => {
		for (const url of ['/api/v1/grafana', '/api/v1/grafana/']) {
			const r = await request(s.base + url);
			expect(r.status).toBe(200);
			expect(r.json).toMatchObject({status: 'ok', name: 'logmon', from: 'history'});
		}
	});

	it('/search (SimpleJSON, simPod <= 0.5) lists the targets; a key name lists its values', async () => {
		const all = await post('/search', {target: 'select metric'});
		expect(all.status).toBe(200);
		expect(all.json).toEqual(['error_count', 'error_by_service', 'error_by_level', 'event_count', 'event_rate_by_service', 'error_rate_by_service', 'status_by_code', 'recent_errors', 'annotations']);
		expect((await post('/search', {target: ''})).json).toEqual(all.json);
		expect((await post('/search', {target: 'rate'})).json).toEqual(['event_rate_by_service', 'error_rate_by_service']);
		expect((await post('/search', {target: 'services'})).json).toEqual(['billing', 'checkout', 'web']);
	});

	it('/metrics (simPod >= 0.6): every target with its payload fields', async () => {
		const r = await post('/metrics', {});
		expect(r.status).toBe(200);
		expect(r.json.map((m: {value: string}) => m.value)).toContain('error_count');
		for (const m of r.json) {
			expect(m).toMatchObject({label: expect.any(String), value: expect.any(String), payloads: expect.any(Array)});
			for (const p of m.payloads) {
				expect(['select', 'multi-select', 'input', 'textarea']).toContain(p.type);
				expect(typeof p.name).toBe('string');
			}
		}

		const options = await post('/metric-payload-options', {metric: 'error_count', payload: {}, name: 'service'});
		expect(options.json).toEqual([{label: 'billing', value: 'billing'}, {label: 'checkout', value: 'checkout'}, {label: 'web', value: 'web'}]);
		expect((await post('/metrics', {metric: 'error_count', payload: {service: 'web'}})).status).toBe(200);
	});

	it('error_count over the history and the live run, exact to the minute', async () => {
		const r = await post('/query', simPod([{target: 'error_count'}]));
		expect(r.status).toBe(200);
		expect(r.json).toHaveLength(1);
		const series = expectSeries(r.json[0]);
		expect(series.target).toBe('error_count');
		expect(r.json[0].refId).toBe('A');
		const expected = new Map<number, number>();
		for (const e of history.filter(e => isError(e))) {
			const m = Math.floor(e.time / minute) * minute;
			expected.set(m, (expected.get(m) ?? 0) + 1);
		}

		for (const l of liveLines.filter(l => l.level !== 'info')) {
			const m = Math.floor(Date.parse(l.time) / minute) * minute;
			expected.set(m, (expected.get(m) ?? 0) + 1);
		}

		const got = new Map(series.datapoints.filter(([v]) => v! > 0).map(([v, t]) => [t, v]));
		expect(got).toEqual(expected);
		// Buckets are the minutes of the range, aligned.
		expect(series.datapoints[1]![1] - series.datapoints[0]![1]).toBe(minute);
		expect(series.datapoints[0]![1] % minute).toBe(0);
	});

	it('error_by_service and error_by_level: one series each, totals as counted', async () => {
		const r = await post('/query', simPod([{target: 'error_by_service'}, {target: 'error_by_level'}]));
		expect(r.status).toBe(200);
		const totals = Object.fromEntries(r.json.map((s: unknown) => expectSeries(s)).map((s: {target: string; datapoints: Array<[number, number]>}) => [s.target, Math.round(sum(s.datapoints))]));
		const count = (f: (e: LogEvent) => boolean) => history.filter(e => f(e)).length;
		expect(totals).toEqual({
			billing: count(e => isError(e) && e.service === 'billing') + 1,
			web: count(e => isError(e) && e.service === 'web') + 1,
			checkout: 1,
			ERROR: count(e => e.level === 'ERROR') + 2,
			CRITICAL: count(e => e.level === 'CRITICAL') + 1,
		});
		expect(r.json.filter((s: {refId: string}) => s.refId === 'B').map((s: {target: string}) => s.target).sort()).toEqual(['CRITICAL', 'ERROR']);
	});

	it('event_rate_by_service, error_rate_by_service, status_by_code', async () => {
		const r = await post('/query', simPod([{target: 'event_rate_by_service'}, {target: 'error_rate_by_service'}, {target: 'status_by_code'}], {intervalMs: 3_600_000}));
		expect(r.status).toBe(200);
		const series = r.json.map((s: unknown) => expectSeries(s)) as Array<{target: string; refId: string; datapoints: Array<[number | null, number]>; meta?: unknown}>;
		const rate = series.filter(s => s.refId === 'A');
		// Events per second: the count of a bucket over its 3600 s.
		const webEvents = history.filter(e => e.service === 'web').length + 4;
		expect(sum(rate.find(s => s.target === 'web')!.datapoints) * 3600).toBeCloseTo(webEvents, 0);
		const errorRate = series.filter(s => s.refId === 'B');
		for (const s of errorRate) {
			for (const [v] of s.datapoints) {
				expect(v === null || (v >= 0 && v <= 1)).toBe(true);
			}
		}

		const checkout = errorRate.find(s => s.target === 'checkout')!;
		expect(checkout.datapoints.filter(([v]) => v !== null).map(([v]) => v)).toEqual([1]);
		const status = Object.fromEntries(series.filter(s => s.refId === 'C').map(s => [s.target, sum(s.datapoints)]));
		expect(status).toEqual({'2xx': 1, '3xx': 1, '4xx': 1, '5xx': 2});
		// The history's indexes do not hold status classes: the answer says so.
		expect(JSON.stringify(series.find(s => s.refId === 'C')!.meta)).toMatch(/since this logmon started/);
	});

	it('maxDataPoints caps the buckets; intervalMs is widened to a round step', async () => {
		const r = await post('/query', simPod([{target: 'event_count'}], {intervalMs: 60_000, maxDataPoints: 100}));
		const {datapoints} = expectSeries(r.json[0]);
		expect(datapoints.length).toBeLessThanOrEqual(100);
		expect(datapoints[1]![1] - datapoints[0]![1]).toBe(3_600_000);
		expect(Math.round(sum(datapoints))).toBe(history.length + liveLines.length);
	});

	it('filters (simPod >= 0.6.4), adhocFilters (older) and the payload narrow the counts', async () => {
		const billingErrors = history.filter(e => isError(e) && e.service === 'billing').length + 1;
		const viaFilters = await post('/query', simPod([{target: 'error_count'}], {filters: [{key: 'service', operator: '=', value: 'billing'}]}));
		expect(sum(viaFilters.json[0].datapoints)).toBeCloseTo(billingErrors, 6);
		const viaAdhoc = await post('/query', simPod([{target: 'error_count'}], {filters: undefined, adhocFilters: [{key: 'service', operator: '=', value: 'billing'}]}));
		expect(sum(viaAdhoc.json[0].datapoints)).toBeCloseTo(billingErrors, 6);
		const viaPayload = await post('/query', simPod([{target: 'error_count', payload: {service: ['billing']}}]));
		expect(sum(viaPayload.json[0].datapoints)).toBeCloseTo(billingErrors, 6);
		// Negative and regex operators, and a level threshold.
		const notBilling = await post('/query', simPod([{target: 'error_by_service'}], {filters: [{key: 'service', operator: '!=', value: 'billing'}]}));
		expect(notBilling.json.map((x: {target: string}) => x.target).sort()).toEqual(['checkout', 'web']);
		const regex = await post('/query', simPod([{target: 'error_by_service'}], {filters: [{key: 'service', operator: '=~', value: 'check.*'}]}));
		expect(regex.json.map((x: {target: string}) => x.target)).toEqual(['checkout']);
		const critical = await post('/query', simPod([{target: 'event_count', payload: {level: 'critical'}}]));
		expect(Math.round(sum(critical.json[0].datapoints))).toBe(history.filter(e => e.level === 'CRITICAL').length + 1);
		// A host filter: the indexes count by service and level, so only this run is counted, and said.
		const host = await post('/query', simPod([{target: 'error_count'}], {filters: [{key: 'host', operator: '=', value: 'node-3'}]}));
		expect(sum(host.json[0].datapoints)).toBe(1);
		expect(host.json[0].meta.notices[0].text).toMatch(/host apply since this logmon started/);
	});

	it('simPod <= 0.3: targets[].data and adhocFilters', async () => {
		const r = await post('/query', {
			panelId: 1,
			range,
			rangeRaw: range.raw,
			interval: '1m',
			intervalMs: 60_000,
			maxDataPoints: 5000,
			targets: [{target: 'error_count', refId: 'A', type: 'timeseries', data: {service: 'checkout'}}],
			adhocFilters: [],
			format: 'json',
		});
		expect(r.status).toBe(200);
		expect(sum(expectSeries(r.json[0]).datapoints)).toBe(1);
		// `data` given as its JSON text, as some versions send it.
		const text = await post('/query', {range, intervalMs: 60_000, maxDataPoints: 5000, targets: [{target: 'error_count', refId: 'A', data: '{"service": "checkout"}'}]});
		expect(sum(text.json[0].datapoints)).toBe(1);
	});

	it('SimpleJSON: type timeserie and table in one request', async () => {
		const r = await post('/query', {
			panelId: 1,
			range,
			rangeRaw: range.raw,
			interval: '30s',
			intervalMs: 30_000,
			targets: [{target: 'error_count', refId: 'A', type: 'timeserie'}, {target: 'error_by_service', refId: 'B', type: 'table'}],
			adhocFilters: [{key: 'service', operator: '=', value: 'checkout'}],
			format: 'json',
			maxDataPoints: 550,
		});
		expect(r.status).toBe(200);
		expect(r.json).toHaveLength(2);
		const series = expectSeries(r.json[0]);
		expect(series.datapoints.length).toBeLessThanOrEqual(550);
		expect(sum(series.datapoints)).toBe(1);
		const table = expectTable(r.json[1], ['Time', 'service', 'value']);
		expect(table.rows.filter(row => (row[2] as number) > 0)).toEqual([[expect.any(Number), 'checkout', 1]]);
		expect(toFrame(r.json[1]).fields.map(f => f.type)).toEqual(['time', 'string', 'number']);
	});

	it('recent_errors: a table of the newest errors, memory then history', async () => {
		const r = await post('/query', simPod([{target: 'recent_errors', payload: {limit: 5}}]));
		expect(r.status).toBe(200);
		const table = expectTable(r.json[0], ['Time', 'service', 'level', 'host', 'source', 'type', 'message']);
		expect(r.json[0].refId).toBe('A');
		expect(table.rows).toHaveLength(5);
		expect(table.rows.slice(0, 3).map(row => row[6])).toEqual(['upstream timeout status=504', 'database down', 'card declined']);
		const oldErrors = history.filter(e => isError(e)).reverse();
		expect(table.rows.slice(3).map(row => row[6])).toEqual(oldErrors.slice(0, 2).map(e => e.message));
		// The f prompt's grammar in the payload, and a filter.
		const q = await post('/query', simPod([{target: 'recent_errors', payload: {q: 'declined|down', limit: 10}}], {filters: [{key: 'service', operator: '=', value: 'checkout'}]}));
		expect(expectTable(q.json[0]).rows.map(row => row[6])).toEqual(['database down']);
	});

	it('/variable (simPod), /tag-keys and /tag-values', async () => {
		const services = await post('/variable', {payload: {target: 'services'}, range});
		expect(services.status).toBe(200);
		expect(expectVariable(services.json)).toEqual(['billing', 'checkout', 'web']);
		expect(expectVariable((await post('/variable', {payload: 'host', range})).json)).toEqual(['node-1', 'node-2', 'node-3'].filter(h => h !== 'node-1'));
		expect(expectVariable((await post('/variable', {payload: {target: 'level'}, range})).json)).toContain('ERROR');
		const keys = await post('/tag-keys', {});
		expect(keys.json).toEqual(['service', 'level', 'host', 'source', 'type'].map(text => ({type: 'string', text})));
		const values = await post('/tag-values', {key: 'service'});
		expect(values.json).toEqual([{text: 'billing'}, {text: 'checkout'}, {text: 'web'}]);
		expect((await post('/tag-values', {key: 'source'})).json).toEqual([{text: 'stdin'}]);
		const bad = await post('/tag-values', {key: 'colour'});
		expect(bad.status).toBe(400);
		expect(bad.json).toMatchObject({parameter: 'key', message: expect.stringMatching(/^key: expected one of service, level/)});
	});

	it('a request the contract does not allow: 400 naming the field', async () => {
		const noRange = await post('/query', {targets: [{target: 'error_count', refId: 'A'}]});
		expect(noRange.status).toBe(400);
		expect(noRange.json).toMatchObject({parameter: 'range', status: 400});
		const unknown = await post('/query', simPod([{target: 'nope'}]));
		expect(unknown.status).toBe(400);
		expect(unknown.json.parameter).toBe('targets[0].target');
		expect(unknown.json.message).toMatch(/unknown target "nope"; expected one of error_count/);
		const operator = await post('/query', simPod([{target: 'error_count'}], {filters: [{key: 'service', operator: '<>', value: 'x'}]}));
		expect(operator.json.parameter).toBe('filters[0].operator');
		const level = await post('/query', simPod([{target: 'event_count', payload: {level: 'loud'}}]));
		expect(level.json.parameter).toBe('targets[0].payload.level');
		// A new panel's empty target and a hidden one are not answered.
		const empty = await post('/query', simPod([{target: ''}, {target: 'error_count', hide: true}]));
		expect(empty.json).toEqual([]);
		const notJson = await request(`${s.base}/api/v1/grafana/query`, {method: 'POST', body: '{'});
		expect(notJson.status).toBe(400);
		const many = await post('/query', simPod(Array.from({length: 101}, () => ({target: 'error_count'}))));
		expect(many.json).toMatchObject({parameter: 'targets', message: 'targets: at most 100 targets in one request'});
		// Times are ISO 8601 or epoch milliseconds: a looser parse took "1" for 2001-01-01.
		for (const from of ['1', '-1', 'foo 2020', 'May 1']) {
			const loose = await post('/query', simPod([{target: 'error_count'}], {range: {from, to: range.to}})); // eslint-disable-line no-await-in-loop
			expect(loose.status, from).toBe(400);
			expect(loose.json.parameter).toBe('range.from');
		}

		// A bad text filter of a recent_errors target is named by its place in the request, as other fields are.
		const q = await post('/query', simPod([{target: 'error_count'}, {target: 'recent_errors', refId: 'Errs', payload: {q: '/(oops/'}}]));
		expect(q.status).toBe(400);
		expect(q.json.parameter).toBe('targets[1].payload.q');
		// Bucket times stay inside the range a Date holds.
		const edge = await post('/query', simPod([{target: 'event_count'}], {range: {from: -8.64e15, to: 8.64e15}, maxDataPoints: 1}));
		expect(edge.status).toBe(200);
		expect(expectSeries(edge.json[0]).datapoints.every(([, t]) => Math.abs(t) <= 8.64e15)).toBe(true);
	});

	it('one request cannot build an answer past its budget: 100 targets of many series get a wider step, and their table rows share one limit', async () => {
		const r = await post('/query', simPod(Array.from({length: 100}, () => ({target: 'event_rate_by_service'})), {intervalMs: 10_000, maxDataPoints: 20_000}));
		expect(r.status).toBe(200);
		const series = (r.json as unknown[]).map(x => expectSeries(x));
		const points = series.reduce((n, x) => n + x.datapoints.length, 0);
		expect(points).toBeLessThanOrEqual(1_000_000);
		const notices = (r.json as Array<{meta?: {notices: Array<{text: string}>}}>)[0]!.meta!.notices.map(n => n.text);
		expect(notices.join(' ')).toMatch(/past the 1,000,000 points one answer holds: the step is [\d,]+ s instead of 10 s/);
		// The counts are the same, only coarser.
		const one = await post('/query', simPod([{target: 'event_rate_by_service'}], {intervalMs: 60_000, maxDataPoints: 5000}));
		expect(expectSeries(one.json[0]).target).toBe(series[0]!.target);

		const tables = await post('/query', simPod(Array.from({length: 60}, () => ({target: 'recent_errors', payload: {limit: 10_000}}))));
		expect(tables.status).toBe(200);
		const rows = (tables.json as Array<{rows: unknown[]}>).reduce((n, t) => n + t.rows.length, 0);
		const errors = history.filter(e => isError(e)).length + liveLines.filter(l => l.level !== 'info').length;
		expect(60 * errors).toBeGreaterThan(10_000);
		expect(rows).toBe(10_000);
	});
});
