import {homedir} from 'node:os';
import path from 'node:path';

// Where the config file is: --config PATH, else $XDG_CONFIG_HOME/logmon/config.json
// (default ~/.config/logmon/config.json).

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
	const base = env['XDG_CONFIG_HOME'] && path.isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : path.join(homedir(), '.config');
	return path.join(base, 'logmon', 'config.json');
}

export function expandHome(p: string): string {
	return p === '~' || p.startsWith('~/') ? path.join(homedir(), p.slice(1)) : p;
}
