import {homedir} from 'node:os';
import path from 'node:path';

// Where the history lives unless --history-dir or history.dir says otherwise.

/** $XDG_STATE_HOME/logmon/history, default ~/.local/state/logmon/history. */
export function defaultHistoryDir(env: NodeJS.ProcessEnv = process.env): string {
	const state = env['XDG_STATE_HOME'];
	const base = state && path.isAbsolute(state) ? state : path.join(homedir(), '.local', 'state');
	return path.join(base, 'logmon', 'history');
}
