// Bundles the compiled entry (dist/main.js, from tsc) into dist/bundle/, which
// bin/logmon.js runs. Why: Node resolves and reads every file of every package on
// start, and kafkajs alone is some 140 CommonJS files; the bundle starts about
// 50 ms sooner, which matters for `logmon … | jq` run again and again.
//
// Each dynamic import stays a file of its own (code splitting), so pipe mode still
// loads only what it uses. Ink is bundled too, in the UI's chunks: the bundle carries
// patches/ink+6.8.0.patch (bounded text caches), which an install from the registry would
// not. React stays outside (one copy for Ink and logmon) and loads from node_modules only
// when the UI runs; the pipe-mode test sees neither load.
//
// The web dashboard (web/dashboard/) is built first, by scripts/dashboard.mjs, and carried inside.
//
// It also copies the logs `--demo` replays, with the loghub licence notice, into
// dist/demo-logs/, where the demo finds them relative to itself: the npm package ships
// dist/bundle/ and dist/demo-logs/, never the source tree (package.json `files`).
import {copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';
import {awsSdkModules} from './aws-sdk-modules.mjs';
import {buildDashboard} from './dashboard.mjs';
import {inkWithoutDevtools} from './ink-without-devtools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'bundle');
// tsc's output: the list of the demo's logs.
const {demoLogFiles, demoLogNotices, demoLogsName} = await import('../dist/demo-logs.js');

rmSync(outdir, {recursive: true, force: true});
// The web dashboard first: the bundle carries its files.
const dashboard = await buildDashboard(root);
await build({
	// The history's workers are files of their own: a worker thread starts from a file.
	entryPoints: [path.join(root, 'dist', 'main.js'), ...['seal-worker', 'encode-worker', 'reader-worker', 'scan-worker'].map(name => path.join(root, 'dist', 'history', `${name}.js`)), path.join(root, 'dist', 'redact-worker.js')],
	outdir,
	outbase: path.join(root, 'dist'),
	entryNames: '[dir]/[name]',
	chunkNames: 'chunks/[name]-[hash]',
	bundle: true,
	splitting: true,
	format: 'esm',
	platform: 'node',
	target: 'node20',
	// react loads from node_modules, only in UI mode; ws' native helpers are optional.
	external: ['react', 'react/*', 'bufferutil', 'utf-8-validate'],
	// Bundled CommonJS (kafkajs, ws) calls require() for Node's built-in modules.
	banner: {js: 'import {createRequire as logmonCreateRequire} from \'node:module\'; const require = logmonCreateRequire(import.meta.url);'},
	define: dashboard,
	plugins: [awsSdkModules, inkWithoutDevtools],
	keepNames: true,
	logLevel: 'warning',
});

// re2js loads the first time a pattern needs it (source/core/regex.ts): the bundle carries its
// CommonJS build as a file of its own, and the one call that loads it names that file, relative to
// the output file the call landed in.
const re2jsFile = path.join(outdir, 're2js.cjs');
copyFileSync(createRequire(import.meta.url).resolve('re2js'), re2jsFile);
const re2jsCall = /(\(import\.meta\.url\)\()"re2js"\)/g;
const calls = readdirSync(outdir, {recursive: true}).filter(f => f.endsWith('.js')).map(f => path.join(outdir, f))
	.flatMap(file => (readFileSync(file, 'utf8').match(re2jsCall) ?? []).map(() => file));
if (calls.length !== 1) {
	throw new Error(`bundle: the call that loads re2js is in the output ${calls.length} times, not once; scripts/bundle.mjs needs a look`);
}

const relative = path.relative(path.dirname(calls[0]), re2jsFile);
writeFileSync(calls[0], readFileSync(calls[0], 'utf8').replace(re2jsCall, `$1${JSON.stringify(relative.startsWith('.') ? relative : `./${relative}`)})`));

const fixtures = path.join(root, 'test', 'fixtures', 'loghub');
const logs = path.join(root, 'dist', demoLogsName);
rmSync(logs, {recursive: true, force: true});
mkdirSync(logs, {recursive: true});
for (const file of [...demoLogFiles, ...demoLogNotices]) {
	copyFileSync(path.join(fixtures, file), path.join(logs, file));
}
