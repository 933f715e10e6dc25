import {readFileSync} from 'node:fs';
import {homedir} from 'node:os';
import path from 'node:path';
import type * as z from 'zod';
import {type ConfigFile, configFile} from './schema.js';

// Config lookup: --config PATH, then $XDG_CONFIG_HOME/logmon/config.json
// (default ~/.config/logmon/config.json), then built-in defaults.

export class ConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ConfigError';
	}
}

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
	const base = env['XDG_CONFIG_HOME'] && path.isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : path.join(homedir(), '.config');
	return path.join(base, 'logmon', 'config.json');
}

export function expandHome(p: string): string {
	return p === '~' || p.startsWith('~/') ? path.join(homedir(), p.slice(1)) : p;
}

/** "sources[0].brokers" from a zod path. */
export function jsonPath(parts: ReadonlyArray<PropertyKey>): string {
	let out = '';
	for (const p of parts) {
		out += typeof p === 'number' ? `[${p}]` : (out ? '.' : '') + String(p);
	}

	return out || '(top level)';
}

/** Replace ${NAME} in every string with the environment variable; `$${` escapes a literal `${`. */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv, where: Array<string | number> = []): unknown {
	if (typeof value === 'string') {
		return value.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
			if (whole.startsWith('$$')) {
				return whole.slice(1);
			}

			const v = env[name];
			if (v === undefined) {
				throw new ConfigError(`${jsonPath(where)}: environment variable ${name} is not set`);
			}

			return v;
		});
	}

	if (Array.isArray(value)) {
		return value.map((v, i) => interpolate(v, env, [...where, i]));
	}

	if (value !== null && typeof value === 'object') {
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...where, k])]));
	}

	return value;
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

/** Validate an already-parsed config object. */
export function parseConfig(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): ConfigFile {
	let expanded: unknown;
	try {
		expanded = interpolate(raw, env);
	} catch (error) {
		// Name the file: the same JSON path may be in several configs.
		throw error instanceof ConfigError ? new ConfigError(`${file}: ${error.message}`) : error;
	}

	const result = configFile.safeParse(expanded);
	if (!result.success) {
		throw new ConfigError(formatIssues(file, result.error, expanded));
	}

	return result.data;
}

export type LoadedConfig = {config: ConfigFile; file: string | undefined};

/** Find and load the config. An explicit path must exist; the XDG one may be absent. */
export function loadConfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
	const file = explicit ? expandHome(explicit) : defaultConfigPath(env);
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (!explicit && code === 'ENOENT') {
			return {config: configFile.parse({}), file: undefined};
		}

		throw new ConfigError(`${file}: cannot read config: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
	}

	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch (error) {
		throw new ConfigError(`${file}: not valid JSON: ${(error as Error).message}`);
	}

	return {config: parseConfig(raw, file, env), file};
}
