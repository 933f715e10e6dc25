import {statSync} from 'node:fs';
import {defaultConfig} from './defaults.js';
import {type LoadedConfig} from './load.js';
import {defaultConfigPath} from './locate.js';

/**
 * The config for a run: loadConfig's answer, but the schema (zod, and every source's and
 * sink's checks) loads only when there is a file to check. Without one, and without flags
 * that need the schema, a run such as `logmon query` starts tens of ms sooner.
 */
export async function readConfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
	if (!explicit && absent(defaultConfigPath(env))) {
		return {config: defaultConfig(), file: undefined};
	}

	const {loadConfig} = await import('./load.js');
	return loadConfig(explicit, env);
}

/** No such file (ENOENT) only: any other failure is loadConfig's to report. */
function absent(file: string): boolean {
	try {
		return statSync(file, {throwIfNoEntry: false}) === undefined;
	} catch {
		return false;
	}
}
