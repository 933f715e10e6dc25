import {type LogEvent} from './event.js';

// Names built from an event, for every forwarding destination: a CloudWatch group and
// stream, a Loki label, an index name, a Kafka key. `{service}`, `{host}`, `{source}`,
// `{type}`, `{level}`, `{proc}`, `{env.NAME}` (read once, when the template is compiled),
// `{record.FIELD}` (a dotted path into the event's structured record), `{date}` (the
// event's UTC day, 2026-12-02). A `{{` or `}}` is a literal brace.

export class ForwardTemplateError extends Error {}

export const templatePlaceholders = ['service', 'host', 'source', 'type', 'level', 'proc', 'env.NAME', 'record.FIELD', 'date'] as const;

export type EventTemplate = ((event: LogEvent) => string) & {
	/** The template's text, for messages. */
	readonly text: string;
	/** True when the result is the same for every event (only literals and `{env.…}`). */
	readonly constant: boolean;
};

type Part = string | ((event: LogEvent) => string);

export type TemplateOptions = {
	/** Where `{env.NAME}` is read; default process.env. */
	env?: Readonly<Record<string, string | undefined>>;
	/** Where the error message says the template is, e.g. `forward[0].group`. */
	where?: string;
};

function recordField(path: string[]): (event: LogEvent) => string {
	return event => {
		let at: unknown = event.record;
		for (const key of path) {
			if (at === null || typeof at !== 'object') {
				return '';
			}

			at = (at as Record<string, unknown>)[key];
		}

		if (at === undefined || at === null) {
			return '';
		}

		return typeof at === 'object' ? JSON.stringify(at) : String(at as string | number | boolean);
	};
}

function utcDay(time: number): string {
	const d = new Date(time);
	const pad = (n: number): string => String(n).padStart(2, '0');
	return Number.isNaN(d.getTime()) ? '1970-01-01' : `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function placeholder(name: string, options: TemplateOptions, fail: (why: string) => never): Part {
	switch (name) {
		case 'service': return e => e.service;
		case 'host': return e => e.host;
		case 'source': return e => e.sourceId;
		case 'type': return e => e.type;
		case 'level': return e => e.level;
		case 'proc': return e => e.proc;
		case 'date': return e => utcDay(e.time);
		default: {
			break;
		}
	}

	const env = /^env\.([A-Za-z_]\w*)$/.exec(name);
	if (env) {
		const variables = options.env ?? (globalThis as {process?: {env: Record<string, string | undefined>}}).process?.env ?? {};
		return variables[env[1]!] ?? '';
	}

	const record = /^record\.(.*)$/.exec(name);
	if (record) {
		const path = record[1]!.split('.');
		if (path.some(p => p === '')) {
			fail(`{${name}}: an empty field name`);
		}

		return recordField(path);
	}

	return fail(`unknown placeholder {${name}}; placeholders are ${templatePlaceholders.map(p => `{${p}}`).join(' ')}`);
}

/** Compile once; the function it returns is called per event. Throws a ForwardTemplateError naming the placeholder at fault. */
export function compileTemplate(text: string, options: TemplateOptions = {}): EventTemplate {
	const fail = (why: string): never => {
		throw new ForwardTemplateError(`${options.where ? `${options.where}: ` : ''}template ${JSON.stringify(text)}: ${why}`);
	};

	const parts: Part[] = [];
	let literal = '';
	for (let i = 0; i < text.length; i++) {
		const ch = text[i]!;
		if ((ch === '{' || ch === '}') && text[i + 1] === ch) {
			literal += ch;
			i++;
			continue;
		}

		if (ch === '}') {
			fail(`a lone "}" at ${i} (write }} for a literal one)`);
		}

		if (ch !== '{') {
			literal += ch;
			continue;
		}

		const end = text.indexOf('}', i + 1);
		if (end < 0) {
			fail(`"{" at ${i} is not closed`);
		}

		const part = placeholder(text.slice(i + 1, end).trim(), options, fail);
		if (typeof part === 'string') {
			literal += part;
		} else {
			if (literal) {
				parts.push(literal);
			}

			literal = '';
			parts.push(part);
		}

		i = end;
	}

	if (literal || parts.length === 0) {
		parts.push(literal);
	}

	const constant = parts.every(p => typeof p === 'string');
	const render = constant
		? () => parts.join('')
		: (event: LogEvent): string => {
			let out = '';
			for (const p of parts) {
				out += typeof p === 'string' ? p : p(event);
			}

			return out;
		};
	return Object.assign(render, {text, constant});
}
