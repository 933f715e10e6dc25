import {type LogEvent} from '../core/event.js';

// The table answers of the Grafana endpoints, pure: events as rows, annotations in simPod's table
// form and in the legacy list form, variable values.

export type Column = {text: string; type: 'time' | 'string' | 'number'};

/** The table shape of the contract; Grafana's toDataFrame keeps the column names and types. */
export type Table = {type: 'table'; columns: Column[]; rows: unknown[][]; refId?: string};

// Annotations: what they show and their two shapes.

export const annotationKinds = ['gaps', 'failures', 'alerts'] as const;
export type AnnotationKind = (typeof annotationKinds)[number];

export type Annotation = {
	kind: AnnotationKind;
	time: number;
	/** The end of a region (a failure's outage); equal to time for a point. */
	timeEnd: number;
	title: string;
	text: string;
	tags: string[];
};

/** simPod's native annotations: a table whose columns Grafana maps by name (tags: comma-separated). */
export function annotationTable(rows: readonly Annotation[]): Table {
	return {
		type: 'table',
		columns: [
			{text: 'time', type: 'time'},
			{text: 'timeEnd', type: 'time'},
			{text: 'title', type: 'string'},
			{text: 'text', type: 'string'},
			{text: 'tags', type: 'string'},
		],
		rows: rows.map(a => [a.time, a.timeEnd, a.title, a.text, a.tags.join(',')]),
	};
}

/** The legacy /annotations answer: each row with the annotation it answers. */
export function annotationList(rows: readonly Annotation[], annotation: unknown): unknown[] {
	return rows.map(a => ({
		annotation,
		time: a.time,
		...(a.timeEnd > a.time ? {timeEnd: a.timeEnd, isRegion: true} : {}),
		title: a.title,
		text: a.text,
		tags: a.tags,
	}));
}

/** The legacy annotation query text: kinds among gaps, failures and alerts (singular too); empty: all. */
export function annotationKindsOf(query: unknown): AnnotationKind[] {
	const words = typeof query === 'string' ? query.toLowerCase().split(/[\s,#]+/).filter(Boolean) : [];
	const kinds = annotationKinds.filter(k => words.some(w => w === k || w + 's' === k));
	return kinds.length > 0 ? kinds : [...annotationKinds];
}

// Tables of events.

export function eventTable(events: readonly LogEvent[]): Table {
	const columns: Column[] = [
		{text: 'Time', type: 'time'},
		{text: 'service', type: 'string'},
		{text: 'level', type: 'string'},
		{text: 'host', type: 'string'},
		{text: 'source', type: 'string'},
		{text: 'type', type: 'string'},
		{text: 'message', type: 'string'},
	];
	return {type: 'table', columns, rows: events.map(e => [Number.isFinite(e.time) ? e.time : e.receivedAt, e.service, e.level, e.host, e.sourceId, e.type, e.message])};
}

/** Values for a variable or a tag key: `[{__text, __value}]` (simPod /variable) and `[{text}]` (/tag-values). */
export function variableRows(values: readonly string[]): Array<{__text: string; __value: string}> {
	return values.map(v => ({__text: v, __value: v}));
}
