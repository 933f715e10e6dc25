import {closeSync, openSync, readSync} from 'node:fs';
import {ConfigError, formatIssues, jsonPath} from './errors.js';
import {defaultConfigPath, expandHome} from './locate.js';
import {type ConfigFile, configFile} from './schema.js';

// Config lookup: --config PATH, then $XDG_CONFIG_HOME/logmon/config.json
// (default ~/.config/logmon/config.json), then built-in defaults.

/** Deeper than any setting goes: a config nested past it is a mistake (or a file that is not one). */
const maxDepth = 64;

/** A config is a few KiB; one past this is not a config (`--config /dev/zero`, a log file). */
const maxConfigBytes = 16 * 1024 * 1024;

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

	if (where.length > maxDepth) {
		throw new ConfigError(`${jsonPath(where.slice(0, 3))}…: nested more than ${maxDepth} levels deep; no setting is`);
	}

	if (Array.isArray(value)) {
		return value.map((v, i) => interpolate(v, env, [...where, i]));
	}

	if (value !== null && typeof value === 'object') {
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...where, k])]));
	}

	return value;
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
		text = readCapped(file);
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

/** The file's text, refused past maxConfigBytes: read a piece at a time, so a device that never ends is refused too. */
function readCapped(file: string): string {
	const fd = openSync(file, 'r');
	try {
		const chunks: Buffer[] = [];
		let size = 0;
		for (;;) {
			const chunk = Buffer.allocUnsafe(64 * 1024);
			const n = readSync(fd, chunk, 0, chunk.length, null);
			if (n === 0) {
				return Buffer.concat(chunks, size).toString('utf8');
			}

			size += n;
			if (size > maxConfigBytes) {
				throw Object.assign(new Error(`larger than ${maxConfigBytes / 1024 / 1024} MiB; not a config file`), {code: 'EFBIG'});
			}

			chunks.push(chunk.subarray(0, n));
		}
	} finally {
		closeSync(fd);
	}
}
