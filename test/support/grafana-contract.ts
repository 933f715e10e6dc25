import {expect} from 'vitest';

// The Grafana JSON datasource contract, as the plugins read answers: the shapes of the research
// note's table (simPod 0.6 README and openapi.yaml with its four known bugs fixed; SimpleJSON's
// README), and what @grafana/data's toDataFrame makes of each item of a /query answer (simPod maps
// every item through it; anything else throws "Unsupported data format"). No @grafana/data here.

export type Frame = {name?: string; refId?: string; fields: Array<{name: string; type: 'time' | 'number' | 'string' | 'other'; values: unknown[]}>};

/** toDataFrame's choice for one item of a /query answer: a time series, a table, or refused. */
export function toFrame(item: unknown): Frame {
	const o = item as Record<string, unknown>;
	if (o && typeof o === 'object' && Array.isArray(o['datapoints'])) {
		const points = o['datapoints'] as Array<[number | null, number]>;
		return {
			name: o['target'] as string,
			refId: o['refId'] as string | undefined,
			fields: [
				{name: 'Time', type: 'time', values: points.map(p => p[1])},
				{name: 'Value', type: 'number', values: points.map(p => p[0])},
			],
		};
	}

	if (o && typeof o === 'object' && Array.isArray(o['columns']) && Array.isArray(o['rows'])) {
		const columns = o['columns'] as Array<{text: string; type?: string}>;
		const rows = o['rows'] as unknown[][];
		return {
			refId: o['refId'] as string | undefined,
			fields: columns.map((c, i) => ({name: c.text, type: (c.type ?? 'other') as Frame['fields'][number]['type'], values: rows.map(r => r[i])})),
		};
	}

	throw new Error('Unsupported data format');
}

/** A time series item: `{"target", "datapoints": [[value or null, epoch ms], …]}`, times ascending. */
export function expectSeries(item: unknown): {target: string; datapoints: Array<[number | null, number]>} {
	const s = item as {target: unknown; datapoints: unknown};
	expect(typeof s.target).toBe('string');
	expect(Array.isArray(s.datapoints)).toBe(true);
	const points = s.datapoints as unknown[];
	let last = Number.NEGATIVE_INFINITY;
	for (const p of points) {
		expect(Array.isArray(p) && p.length === 2).toBe(true);
		const [v, t] = p as [unknown, unknown];
		expect(v === null || (typeof v === 'number' && Number.isFinite(v))).toBe(true);
		expect(Number.isInteger(t)).toBe(true);
		expect(t as number).toBeGreaterThan(last);
		last = t as number;
	}

	expect(toFrame(item).fields.map(f => f.name)).toEqual(['Time', 'Value']);
	return s as {target: string; datapoints: Array<[number | null, number]>};
}

/** A table item: `{"type": "table", "columns": [{text, type}], "rows": [[…]]}`, each row as wide as the columns. */
export function expectTable(item: unknown, columns?: string[]): {columns: Array<{text: string; type: string}>; rows: unknown[][]} {
	const t = item as {type: unknown; columns: Array<{text: string; type: string}>; rows: unknown[][]};
	expect(t.type).toBe('table');
	for (const c of t.columns) {
		expect(typeof c.text).toBe('string');
		expect(['time', 'string', 'number']).toContain(c.type);
	}

	if (columns) {
		expect(t.columns.map(c => c.text)).toEqual(columns);
	}

	for (const row of t.rows) {
		expect(row).toHaveLength(t.columns.length);
		for (const [i, c] of t.columns.entries()) {
			const v = row[i];
			if (c.type === 'time') {
				expect(Number.isInteger(v)).toBe(true);
			} else if (c.type === 'number') {
				expect(v === null || typeof v === 'number').toBe(true);
			} else {
				expect(typeof v).toBe('string');
			}
		}
	}

	toFrame(item);
	return t;
}

/** simPod's /variable answer: `[{__text, __value}]`, which becomes two fields. */
export function expectVariable(answer: unknown): string[] {
	expect(Array.isArray(answer)).toBe(true);
	for (const row of answer as unknown[]) {
		expect(Object.keys(row as object).sort()).toEqual(['__text', '__value']);
	}

	return (answer as Array<{__value: string}>).map(r => r.__value);
}

export function sum(points: Array<[number | null, number]>): number {
	return points.reduce((a, [v]) => a + (v ?? 0), 0);
}
