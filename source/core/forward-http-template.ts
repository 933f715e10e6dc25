import {type LogEvent} from './event.js';

// Name templates of the http destination (Loki labels, `_bulk` index names): `{service}`,
// `{host}`, `{source}`, `{type}`, `{level}`, `{env.NAME}`, `{record.FIELD}`, `{date}` (the
// event's UTC day, YYYY-MM-DD). An unknown placeholder is an error when the template is compiled.

export class TemplateError extends Error {}

type Part = string | ((event: LogEvent) => string);

function recordField(record: unknown, name: string): string {
	if (record === null || typeof record !== 'object') {
		return '';
	}

	const v = (record as Record<string, unknown>)[name];
	return typeof v === 'string' ? v : (typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
}

function day(ms: number): string {
	const d = new Date(ms);
	return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

function placeholder(name: string, env: Readonly<Record<string, string | undefined>>): Part {
	switch (name) {
		case 'service': return e => e.service;
		case 'host': return e => e.host;
		case 'source': return e => e.sourceId;
		case 'type': return e => e.type;
		case 'level': return e => e.level.toLowerCase();
		case 'date': return e => day(e.time);
		default: {
			if (name.startsWith('env.') && name.length > 4) {
				return env[name.slice(4)] ?? '';
			}

			if (name.startsWith('record.') && name.length > 7) {
				const field = name.slice(7);
				return e => recordField(e.record, field);
			}

			throw new TemplateError(`unknown placeholder {${name}}; known: {service} {host} {source} {type} {level} {date} {env.NAME} {record.FIELD}`);
		}
	}
}

export function compileTemplate(text: string, env: Readonly<Record<string, string | undefined>> = {}): (event: LogEvent) => string {
	const parts: Part[] = [];
	const re = /\{([^{}]*)\}/g;
	let last = 0;
	for (let m = re.exec(text); m; m = re.exec(text)) {
		parts.push(text.slice(last, m.index), placeholder(m[1]!, env));
		last = m.index + m[0].length;
	}

	parts.push(text.slice(last));
	const kept = parts.filter(p => p !== '');
	return e => {
		let s = '';
		for (const p of kept) {
			s += typeof p === 'string' ? p : p(e);
		}

		return s;
	};
}
