import {type ChalkInstance} from 'chalk';
import {type Level, type LogEvent} from '../core/event.js';
import {escapeJsonText, expandTabs, sanitize} from '../core/sanitize.js';
import {isoTime as iso} from '../core/time.js';

// Output formats for the stdout writer:
//   text      <time> <service>[<proc>] <host> <LEVEL>: <message>   (logio-like)
//   raw       the original line only
//   json      NDJSON, one LogEvent per line
//   template  --template '{time} {service} {message}'

export type OutputFormat = 'text' | 'raw' | 'json' | 'template';

export type FormatOptions = {
	format: OutputFormat;
	template?: string | undefined;
	/** 0 = no colour. */
	colorLevel: 0 | 1 | 2 | 3;
	/** The writer goes to a terminal: raw output is sanitised too, and TABs in event fields become spaces. */
	toTerminal: boolean;
};

/**
 * A raw TAB moves a terminal's cursor by an amount only the terminal knows: text fields bound
 * for one get spaces instead, by the text's display width (string-width).
 */
function tabsOut(width: (text: string) => number): (text: string) => string {
	return text => (text.includes('\t') ? expandTabs(text, width) : text);
}

const same = (text: string): string => text;

export type Formatter = (event: LogEvent) => string;

export class TemplateError extends Error {}

export const templateFields = ['time', 'receivedAt', 'service', 'host', 'proc', 'type', 'level', 'status', 'message', 'raw', 'source', 'kind', 'seq'] as const;
type TemplateField = (typeof templateFields)[number];

const serviceColors = ['cyan', 'magenta', 'blue', 'green', 'yellow', 'cyanBright', 'magentaBright', 'blueBright', 'greenBright'] as const;

/** A stable colour per service name (FNV-1a hash), so a service looks the same in every run. */
export function serviceColorIndex(service: string): number {
	let h = 0x81_1C_9D_C5;
	for (let i = 0; i < service.length; i++) {
		h ^= service.charCodeAt(i);
		h = Math.imul(h, 0x01_00_01_93);
	}

	return (h >>> 0) % serviceColors.length;
}

export function serviceColor(service: string): (typeof serviceColors)[number] {
	return serviceColors[serviceColorIndex(service)]!;
}

function levelPainter(chalk: ChalkInstance): Record<Level, (s: string) => string> {
	return {
		TRACE: chalk.gray,
		DEBUG: chalk.gray,
		INFO: chalk.green,
		NOTICE: chalk.cyan,
		WARN: chalk.yellow,
		ERROR: chalk.red,
		CRITICAL: chalk.bold.red,
	};
}

/** raw for a person to read: a CR that ended the line (CR LF input) is not shown as \x0d. */
function displayRaw(raw: string): string {
	return sanitize(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
}

// Event fields are sanitised at ingest; raw is the original and may hold escapes.
function field(e: LogEvent, name: TemplateField): string {
	switch (name) {
		case 'time': return iso(e.time);
		case 'receivedAt': return iso(e.receivedAt);
		case 'service': return e.service;
		case 'host': return e.host;
		case 'proc': return e.proc;
		case 'type': return e.type;
		case 'level': return e.level;
		case 'status': return e.status === undefined ? '' : String(e.status);
		case 'message': return e.message;
		case 'raw': return displayRaw(e.raw);
		case 'source': return e.sourceId;
		case 'kind': return e.sourceKind;
		case 'seq': return String(e.seq);
	}
}

/** `width`: the display width of text bound for a terminal, whose TABs become spaces; none for a pipe or a file. */
export function compileTemplate(template: string, width?: (text: string) => number): Formatter {
	const out = width ? tabsOut(width) : same;
	// Alternating literal text and field names: [text, field, text, field, ..., text].
	const texts: string[] = [];
	const fields: TemplateField[] = [];
	const re = /\{([^{}]*)\}/g;
	let last = 0;
	for (let m = re.exec(template); m; m = re.exec(template)) {
		const name = m[1]!;
		const known = templateFields.find(f => f === name);
		if (!known) {
			throw new TemplateError(`--template: unknown field {${name}}; fields are ${templateFields.map(f => `{${f}}`).join(' ')}`);
		}

		texts.push(template.slice(last, m.index));
		fields.push(known);
		last = m.index + m[0].length;
	}

	texts.push(template.slice(last));
	return e => {
		let s = texts[0]!;
		for (let i = 0; i < fields.length; i++) {
			s += out(field(e, fields[i]!)) + texts[i + 1]!;
		}

		return s;
	};
}

export function toJson(e: LogEvent): string {
	const out = JSON.stringify({
		seq: e.seq,
		time: iso(e.time),
		receivedAt: iso(e.receivedAt),
		source: e.sourceId,
		kind: e.sourceKind,
		service: e.service,
		host: e.host,
		proc: e.proc,
		type: e.type,
		level: e.level,
		status: e.status,
		message: e.message,
		raw: e.raw,
		marker: e.marker,
		record: e.record,
	});
	return escapeJsonText(out);
}

/** The colour depth for `--color WHEN` on this stream: NO_COLOR and FORCE_COLOR honoured, TERM and COLORTERM read. */
export function colorLevel(mode: 'auto' | 'always' | 'never', isTTY: boolean, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
	if (mode === 'never') {
		return 0;
	}

	if (mode === 'auto') {
		if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') {
			return 0;
		}

		const forced = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0';
		if (!forced && (!isTTY || env['TERM'] === 'dumb')) {
			return 0;
		}
	}

	const term = env['COLORTERM'] ?? '';
	return term === 'truecolor' || term === '24bit' ? 3 : ((env['TERM'] ?? '').includes('256') ? 2 : 1);
}

/**
 * The formatter for stdout. Async because chalk (colour) and string-width (a terminal's TABs)
 * take tens of milliseconds to load: they are loaded only when the format uses them, so
 * `logmon query … | jq` and `-o json` start without them.
 */
export async function createFormatter(options: FormatOptions): Promise<Formatter> {
	const width = options.toTerminal ? (await import('string-width')).default : undefined;
	switch (options.format) {
		case 'raw': {
			// Into a pipe the bytes as they came, a publisher's CR LF included.
			if (width) {
				const out = tabsOut(width);
				return e => out(displayRaw(e.raw));
			}

			return e => e.raw;
		}

		case 'json': {
			return toJson;
		}

		case 'template': {
			if (!options.template) {
				throw new TemplateError('--template: -o template needs --template, e.g. --template \'{time} {service} {message}\'');
			}

			return compileTemplate(options.template, width);
		}

		case 'text': {
			const out = width ? tabsOut(width) : same;
			if (options.colorLevel === 0) {
				return plainText(out);
			}

			const {Chalk} = await import('chalk');
			return colorText(new Chalk({level: options.colorLevel}), out);
		}
	}
}

/** -o text without colour into a pipe or a file: needs neither chalk nor string-width. */
export function plainTextFormatter(): Formatter {
	return plainText(same);
}

function plainText(out: (text: string) => string): Formatter {
	// Lines in a row mostly share their millisecond and their service, proc and host: the
	// time text and the `service[proc] host` part are made once for them.
	let lastTime = Number.NaN;
	let timeText = '';
	let lastService: string | undefined;
	let lastProc = '';
	let lastHost = '';
	let whoText = '';
	return e => {
		if (e.time !== lastTime) {
			lastTime = e.time;
			timeText = iso(e.time);
		}

		if (e.marker) {
			return `${timeText} ~~ ${out(e.message)} ~~`;
		}

		if (e.service !== lastService || e.proc !== lastProc || e.host !== lastHost) {
			lastService = e.service;
			lastProc = e.proc;
			lastHost = e.host;
			whoText = out(e.proc ? `${e.service}[${e.proc}]` : e.service) + (e.host ? ' ' + out(e.host) : '');
		}

		return timeText + ' ' + whoText + ' ' + e.level + ': ' + out(e.message);
	};
}

function colorText(chalk: ChalkInstance, out: (text: string) => string): Formatter {
	const paint = levelPainter(chalk);
	return e => {
		if (e.marker) {
			return chalk.yellow.inverse(`${iso(e.time)} ~~ ${out(e.message)} ~~`);
		}

		const who = out(e.proc ? `${e.service}[${e.proc}]` : e.service);
		const status = e.status === undefined ? undefined : (e.status >= 500 ? chalk.red : e.status >= 400 ? chalk.yellow : undefined);
		const message = status ? status(out(e.message)) : out(e.message);
		return `${chalk.gray(iso(e.time))} ${chalk[serviceColor(e.service)](who)}${e.host ? ' ' + chalk.dim(out(e.host)) : ''} ${paint[e.level](e.level)}: ${message}`;
	};
}
