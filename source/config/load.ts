import {readFileSync} from 'node:fs';
import {ConfigError, formatIssues, jsonPath} from './errors.js';
import {defaultConfigPath, expandHome} from './locate.js';
import {type ConfigFile, configFile} from './schema.js';

// Config lookup: --config PATH, then $XDG_CONFIG_HOME/logmon/config.json
// (default ~/.config/logmon/config.json), then built-in defaults.

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
