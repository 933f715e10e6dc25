import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {forwardConfig, nameForwarders} from './config/forward.js';
import {type Settings} from './settings.js';

// `logmon --demo` forwards every event to an NDJSON file in a temporary directory (its spool
// and dead-letter file beside it), so forwarding is seen working: `tail -f` the path it prints.

const prefix = 'logmon-demo-forward-';

export type DemoForward = {dir: string; file: string; remove(): Promise<void>};

/** Add the demo's file forwarder to the settings' and say where it writes. */
export async function demoForwarder(settings: Settings): Promise<DemoForward> {
	// Directories of demos killed before they could remove theirs.
	const names = await readdir(tmpdir()).catch(() => []);
	await Promise.all(names.filter(n => n.startsWith(prefix)).map(async n => {
		const dir = path.join(tmpdir(), n);
		const pid = Number((await readdir(dir).catch(() => [])).find(f => f.startsWith('pid-'))?.slice(4));
		if (pid > 0 && !alive(pid)) {
			await rm(dir, {recursive: true, force: true});
		}
	}));
	const dir = await mkdtemp(path.join(tmpdir(), prefix));
	// Tells a later demo whether this one is still running.
	await writeFile(path.join(dir, `pid-${process.pid}`), '');
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

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
