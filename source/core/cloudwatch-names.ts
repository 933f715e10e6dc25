import {type LogEvent} from './event.js';
import {compileTemplate} from './forward-template.js';

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

/** The probe a template's own text is read with: every field empty, so only literals (and `{env.…}`) show. */
const blank: LogEvent = {seq: 0, time: 0, receivedAt: 0, sourceId: '', sourceKind: 'stdin', service: '', host: '', proc: '', type: '', level: 'INFO', message: '', raw: ''};

/** Why a group or stream name template is unfit, or undefined when it is fine. */
export function checkNameTemplate(kind: NameKind, template: string, env?: Readonly<Record<string, string | undefined>>): string | undefined {
	if (template === '') {
		return `a log ${kind} name template must not be empty`;
	}

	let literal: string;
	try {
		// The probe's `{date}` and `{level}` (digits, dashes, a word) are allowed in both kinds.
		literal = compileTemplate(template, env ? {env} : {})(blank);
	} catch (error) {
		return (error as Error).message;
	}

	const bad = [...new Set(literal.match(refused[kind]) ?? [])];
	if (bad.length > 0) {
		const allowed = kind === 'group' ? 'letters, digits and . - _ / #' : 'any character but : and *';
		return `log ${kind} name template ${JSON.stringify(template)} has ${bad.map(c => JSON.stringify(c)).join(', ')}: CloudWatch allows ${allowed}`;
	}

	if (literal.length > maxNameLength) {
		return `log ${kind} name template ${JSON.stringify(template)} is longer than ${maxNameLength} characters`;
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
export function compileName(kind: NameKind, template: string, env?: Readonly<Record<string, string | undefined>>): (event: LogEvent) => string {
	const problem = checkNameTemplate(kind, template, env);
	if (problem) {
		throw new Error(problem);
	}

	const render = compileTemplate(template, env ? {env} : {});
	return event => cleanName(kind, render(event));
}
