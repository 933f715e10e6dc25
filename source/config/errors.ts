import type * as z from 'zod';

// Config errors and how they name the place at fault; free of zod at run time, so a run
// without a config file reports flag errors without loading the schema.

export class ConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ConfigError';
	}
}

/** "sources[0].brokers" from a zod path. */
export function jsonPath(parts: ReadonlyArray<PropertyKey>): string {
	let out = '';
	for (const p of parts) {
		out += typeof p === 'number' ? `[${p}]` : (out ? '.' : '') + String(p);
	}

	return out || '(top level)';
}

/** The path with each alert rule named: `alerts.rules[2] ("db-errors").count.window`. */
function namedPath(parts: ReadonlyArray<PropertyKey>, raw: unknown): string {
	let out = '';
	let at: unknown = raw;
	for (const [i, p] of parts.entries()) {
		out += typeof p === 'number' ? `[${p}]` : (out ? '.' : '') + String(p);
		at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[p] : undefined;
		const name = at !== null && typeof at === 'object' ? (at as {name?: unknown}).name : undefined;
		if (typeof p === 'number' && parts[i - 1] === 'rules' && typeof name === 'string') {
			out += ` (${JSON.stringify(name)})`;
		}
	}

	return out || '(top level)';
}

/** One line per issue: `file: path: message`; with `raw`, alert rules are named in the path. */
export function formatIssues(file: string, error: z.ZodError, raw?: unknown): string {
	return error.issues.map(i => `${file}: ${raw === undefined ? jsonPath(i.path) : namedPath(i.path, raw)}: ${i.message}`).join('\n');
}
