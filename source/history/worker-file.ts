import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

// The history's worker threads start from compiled files next to this module in the build
// (dist/history/), or in the bundle's history/ folder. Where there is none (the single
// executable, tests run from the TypeScript source) their work runs in the calling thread.

export function workerFile(name: string): string | undefined {
	if (!import.meta.url.endsWith('.js')) {
		return undefined; // the single executable (its own path) or TypeScript run from source
	}

	for (const rel of [`./${name}`, `./history/${name}`, `../history/${name}`]) {
		const url = new URL(rel, import.meta.url);
		if (url.protocol === 'file:' && existsSync(url)) {
			return fileURLToPath(url);
		}
	}

	return undefined;
}
