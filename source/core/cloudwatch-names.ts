import {type LogEvent} from './event.js';

// Log group and stream names of CloudWatch Logs from templates over an event (`{service}`,
// `{host}`, `{env.NAME}`, …). The API reference's rules: a group name is 1 to 512 of
// `A-Za-z0-9 . - _ / #`; a stream name is 1 to 512 characters, none of them `:` or `*`.
// A template's own text must obey them (else the config is refused); what the placeholders
// bring in comes from the events, untrusted, so it is cleaned: a character CloudWatch would
// refuse becomes `_`, an empty name `unknown`, a long one is cut at 512.

export type NameKind = 'group' | 'stream';

export const maxNameLength = 512;

const refused: Record<NameKind, RegExp> = {
	group: /[^\w.\-/#]/g,
	// Control characters are refused too: a name is shown in consoles and logs.
	stream: /[:*\p{Cc}]/gu,
};

const placeholder = /\{([^{}]*)\}/g;

/** Why a group or stream name template is unfit, or undefined when it is fine. */
export function checkNameTemplate(kind: NameKind, template: string): string | undefined {
	if (template === '') {
		return `a log ${kind} name template must not be empty`;
	}

	const literal = template.replace(placeholder, '');
	const bad = [...new Set(literal.match(refused[kind]) ?? [])];
	if (bad.length > 0) {
		const allowed = kind === 'group' ? 'letters, digits and . - _ / #' : 'any character but : and *';
		return `log ${kind} name template ${JSON.stringify(template)} has ${bad.map(c => JSON.stringify(c)).join(', ')}: CloudWatch allows ${allowed}`;
	}

	if (literal.length > maxNameLength) {
		return `log ${kind} name template ${JSON.stringify(template)} is longer than ${maxNameLength} characters`;
	}

	try {
		compileTemplate(template);
	} catch (error) {
		return (error as Error).message;
	}

	return undefined;
}

/** A rendered name made acceptable to CloudWatch. */
export function cleanName(kind: NameKind, name: string): string {
	let clean = name.replace(refused[kind], '_');
	if (clean.length > maxNameLength) {
		clean = clean.slice(0, maxNameLength);
		// Never end on half of a surrogate pair.
		if (/[\uD800-\uDBFF]$/.test(clean)) {
			clean = clean.slice(0, -1);
		}
	}

	return clean === '' ? 'unknown' : clean;
}

/** A name template compiled once: the clean name of an event's group or stream. */
export function compileName(kind: NameKind, template: string, env: Readonly<Record<string, string | undefined>> = {}): (event: LogEvent) => string {
	const problem = checkNameTemplate(kind, template);
	if (problem) {
		throw new Error(problem);
	}

	const render = compileTemplate(template, env);
	return event => cleanName(kind, render(event));
}

// Template rendering of the forwarders' names. Placeholders: {service} {host} {source}
// {type} {level} {date} (the event's UTC day, YYYY-MM-DD) {env.NAME} {record.FIELD}.
type Part = string | ((event: LogEvent) => string);

const fields: Record<string, (event: LogEvent) => string> = {
	service: e => e.service,
	host: e => e.host,
	source: e => e.sourceId,
	type: e => e.type,
	level: e => e.level.toLowerCase(),
	date: e => new Date(e.time).toISOString().slice(0, 10),
};

function recordField(record: unknown, name: string): string {
	if (typeof record !== 'object' || record === null) {
		return '';
	}

	const value = (record as Record<string, unknown>)[name];
	return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

export function compileTemplate(text: string, env: Readonly<Record<string, string | undefined>> = {}): (event: LogEvent) => string {
	const parts: Part[] = [];
	let last = 0;
	for (const m of text.matchAll(placeholder)) {
		parts.push(text.slice(last, m.index));
		last = m.index + m[0].length;
		const name = m[1]!;
		const field = fields[name];
		if (field) {
			parts.push(field);
		} else if (/^env\.\w+$/.test(name)) {
			const value = env[name.slice(4)] ?? '';
			parts.push(value);
		} else if (/^record\.[^.]+$/.test(name)) {
			const key = name.slice(7);
			parts.push(e => recordField(e.record, key));
		} else {
			throw new Error(`unknown placeholder {${name}} in ${JSON.stringify(text)}; known: ${[...Object.keys(fields), 'env.NAME', 'record.FIELD'].map(f => `{${f}}`).join(' ')}`);
		}
	}

	parts.push(text.slice(last));
	const kept = parts.filter(p => p !== '');
	return event => kept.map(p => (typeof p === 'string' ? p : p(event))).join('');
}
