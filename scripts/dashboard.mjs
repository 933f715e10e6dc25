// Builds the web dashboard (web/dashboard/: TypeScript, one style sheet, one page) into
// dist/dashboard/, with esbuild: one script file for the browser, no framework, nothing
// fetched at run time. scripts/bundle.mjs and scripts/build-exe.mjs then carry the three files
// inside logmon as LOGMON_DASHBOARD (source/http/dashboard-assets.ts), so the npm package and the
// single executable serve them without files of their own.
import {copyFileSync, mkdirSync, readFileSync, rmSync} from 'node:fs';
import path from 'node:path';
import {build} from 'esbuild';

export async function buildDashboard(root) {
	const web = path.join(root, 'web', 'dashboard');
	const outdir = path.join(root, 'dist', 'dashboard');
	rmSync(outdir, {recursive: true, force: true});
	mkdirSync(outdir, {recursive: true});
	await build({
		entryPoints: [path.join(web, 'main.ts')],
		outfile: path.join(outdir, 'dashboard.js'),
		bundle: true,
		format: 'esm',
		platform: 'browser',
		target: ['chrome120', 'firefox121', 'safari17'],
		minify: true,
		legalComments: 'none',
		logLevel: 'warning',
	});
	copyFileSync(path.join(web, 'style.css'), path.join(outdir, 'dashboard.css'));
	copyFileSync(path.join(web, 'index.html'), path.join(outdir, 'index.html'));
	return dashboardDefine(root);
}

/**
 * The esbuild `define` that puts the built files inside a bundle: one string literal (JSON text),
 * inlined where it is read; an object would become a module every chunk initialises.
 */
export function dashboardDefine(root) {
	const dir = path.join(root, 'dist', 'dashboard');
	const read = file => readFileSync(path.join(dir, file), 'utf8');
	return {LOGMON_DASHBOARD: JSON.stringify(JSON.stringify({html: read('index.html'), js: read('dashboard.js'), css: read('dashboard.css')}))};
}
