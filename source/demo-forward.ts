import {rm} from 'node:fs/promises';
import path from 'node:path';
import {forwardConfig, nameForwarders} from './config/forward.js';
import {demoDirectory} from './demo-dir.js';
import {type Settings} from './settings.js';

// `logmon --demo` forwards every event to an NDJSON file in a temporary directory (its spool
// and dead-letter file beside it), so forwarding is seen working: `tail -f` the path it prints.

const prefix = 'logmon-demo-forward-';

export type DemoForward = {dir: string; file: string; remove(): Promise<void>};

/** Add the demo's file forwarder to the settings' and say where it writes. */
export async function demoForwarder(settings: Settings): Promise<DemoForward> {
	const dir = await demoDirectory(prefix);
	const file = path.join(dir, 'forwarded.ndjson');
	const config = forwardConfig.parse({type: 'file', name: 'demo', path: file, maxSize: '20MiB', keep: 2});
	const taken = settings.forward.some(f => f.name === 'demo');
	settings.forward.push(...nameForwarders([{...config, name: taken ? 'demo-file' : 'demo'}], () => '--demo'));
	return {
		dir,
		file,
		async remove() {
			await rm(dir, {recursive: true, force: true});
		},
	};
}

