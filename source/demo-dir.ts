import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

// The temporary directories `--demo` writes in (its forwarded file, its followed log): each
// holds a `pid-N` file naming the demo that made it, so a later demo removes those of demos
// killed before they could remove their own.

/** A new directory named `prefix…` in the system's temporary directory, after removing dead demos' ones. */
export async function demoDirectory(prefix: string): Promise<string> {
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
	return dir;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
