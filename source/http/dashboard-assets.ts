import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

// The dashboard's page, script and style sheet (web/dashboard/, built by scripts/dashboard.mjs).
// The bundles (dist/bundle/ and the single executable) carry them inside, put there at build time
// as LOGMON_DASHBOARD (their JSON text); tsc's output run directly reads the build's copy in dist/dashboard/.
// Nothing is ever fetched from elsewhere: the box may be offline.

export type DashboardAssets = {html: string; js: string; css: string};

declare const LOGMON_DASHBOARD: string | undefined;

/** The folder the build writes them to, under dist/. */
export const dashboardName = 'dashboard';

let cached: DashboardAssets | undefined;

/** Undefined when logmon was not built (`npm run build` makes them). */
export function dashboardAssets(): DashboardAssets | undefined {
	if (cached) {
		return cached;
	}

	if (typeof LOGMON_DASHBOARD === 'string') {
		cached = JSON.parse(LOGMON_DASHBOARD) as DashboardAssets;
		return cached;
	}

	const here = path.dirname(fileURLToPath(import.meta.url));
	const dir = [path.join(here, '..', dashboardName), path.join(here, '..', '..', 'dist', dashboardName)].find(d => existsSync(path.join(d, 'index.html')));
	if (!dir) {
		return undefined;
	}

	const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
	cached = {html: read('index.html'), js: read('dashboard.js'), css: read('dashboard.css')};
	return cached;
}
