// Builds logmon as one executable file for machines without Node (`npm run build:exe`,
// after `npm run build`): Node's single executable applications support, on the Node 24
// binary of the npm registry's `node@24` package (scripts/node24.sh), nothing else downloaded.
//
//   1. esbuild bundles dist/sea.js (tsc's output of source/sea.ts) and everything it uses,
//      ink, react, yoga-layout, kafkajs, ws and the rest, into one CommonJS file, the form
//      Node 24 runs as an executable's main script;
//   2. Node 24 turns it, with the demo's logs as assets, into a preparation blob
//      (--experimental-sea-config, with a V8 code cache so it starts sooner);
//   3. postject (a pinned devDependency) injects the blob into a copy of the Node 24 binary.
//
// Output: build/logmon-linux-x64 (build/sea/ holds the intermediate files). A stamp of the
// inputs lets a second run with nothing changed return at once; --force rebuilds.
import {createHash} from 'node:crypto';
import {execFileSync, spawnSync} from 'node:child_process';
import {chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';
import {awsSdkModules} from './aws-sdk-modules.mjs';
import {dashboardDefine} from './dashboard.mjs';
import {inkWithoutDevtools} from './ink-without-devtools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, 'build', 'sea');
const executable = path.join(root, 'build', 'logmon-linux-x64');
const stampFile = `${executable}.stamp`;
const fuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

if (process.platform !== 'linux' || process.arch !== 'x64') {
	process.stderr.write(`build-exe: building for ${process.platform}-${process.arch}; only linux-x64 is tested\n`);
}

if (!existsSync(path.join(root, 'dist', 'sea.js'))) {
	process.stderr.write('build-exe: dist/sea.js is missing; run `npm run build` first\n');
	process.exit(1);
}

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const {demoLogFiles, demoLogNotices, demoLogsName} = await import('../dist/demo-logs.js');

// yoga-layout (ink's layout engine, WebAssembly) awaits its module at the top level, which a
// CommonJS file cannot do. The wasm is inlined there as base64 and small, so it is compiled and
// instantiated synchronously instead, through the Emscripten loader's instantiateWasm hook.
const yogaSync = {
	name: 'yoga-sync',
	setup(b) {
		b.onLoad({filter: /[\\/]yoga-layout[\\/]dist[\\/]src[\\/]index\.js$/}, args => {
			const dir = path.dirname(args.path);
			const glue = readFileSync(path.join(dir, '..', 'binaries', 'yoga-wasm-base64-esm.js'), 'utf8');
			const wasm = [...glue.matchAll(/"data:application\/octet-stream;base64,([A-Za-z\d+/=]+)"/g)];
			if (wasm.length !== 1 || !readFileSync(args.path, 'utf8').includes('wrapAssembly(await loadYoga())')) {
				throw new Error('yoga-layout changed: the synchronous loader of build-exe.mjs needs a look');
			}

			return {
				resolveDir: dir,
				loader: 'js',
				contents: `
import loadYoga from '../binaries/yoga-wasm-base64-esm.js';
import wrapAssembly from './wrapAssembly.js';
const bytes = Buffer.from(${JSON.stringify(wasm[0][1])}, 'base64');
const module = {
	instantiateWasm(imports, receive) {
		const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
		receive(instance);
		return instance.exports;
	},
};
loadYoga(module);
if (!module.calledRun) {
	throw new Error('yoga-layout did not load synchronously');
}
const Yoga = wrapAssembly(module);
export default Yoga;
export * from './generated/YGEnums.js';
`,
			};
		});
		// The loader keeps its own copy of the wasm for the asynchronous path, never taken now.
		b.onLoad({filter: /[\\/]yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/}, args => ({
			loader: 'js',
			contents: readFileSync(args.path, 'utf8').replace(/"data:application\/octet-stream;base64,[A-Za-z\d+/=]+"/, '"data:application/octet-stream;base64,"'),
		}));
	},
};

// logmon loads re2js the first time a pattern needs it, from beside its module
// (source/core/regex.ts); the executable has nothing beside it: a plain require() bundles it in,
// still run only when first needed.
const re2jsInside = {
	name: 're2js-inside',
	setup(b) {
		b.onLoad({filter: /[\\/]dist[\\/]core[\\/]regex\.js$/}, args => {
			const from = 'createRequire(import.meta.url)(\'re2js\')';
			const contents = readFileSync(args.path, 'utf8');
			if (contents.split(from).length !== 2) {
				throw new Error(`regex.js changed: ${from} is not in ${args.path} once; build-exe.mjs needs a look`);
			}

			return {contents: contents.replace(from, 'require(\'re2js\')'), loader: 'js'};
		});
	},
};

rmSync(work, {recursive: true, force: true});
mkdirSync(work, {recursive: true});
const main = path.join(work, 'logmon.cjs');
await build({
	entryPoints: [path.join(root, 'dist', 'sea.js')],
	outfile: main,
	bundle: true,
	format: 'cjs',
	platform: 'node',
	target: 'node24',
	// Modules found relative to themselves see the executable's path.
	banner: {js: 'var logmonModuleUrl = require(\'node:url\').pathToFileURL(__filename).href, logmonImportMeta = {url: logmonModuleUrl};'},
	define: {
		'import.meta.url': 'logmonModuleUrl',
		'import.meta': 'logmonImportMeta',
		'process.env.NODE_ENV': '"production"',
		LOGMON_PACKAGE: JSON.stringify({name: pkg.name, version: pkg.version, description: pkg.description, bin: pkg.bin}),
		// The web dashboard, as `npm run build` left it in dist/dashboard/.
		...dashboardDefine(root),
	},
	// ws' native helpers are optional (it catches their absence).
	external: ['bufferutil', 'utf-8-validate'],
	plugins: [yogaSync, inkWithoutDevtools, re2jsInside, awsSdkModules],
	keepNames: true,
	legalComments: 'none',
	logLevel: 'warning',
});

const fixtures = path.join(root, 'dist', demoLogsName);
const assets = Object.fromEntries([...demoLogFiles, ...demoLogNotices].map(file => [`${demoLogsName}/${file}`, path.join(fixtures, file)]));
const node24 = execFileSync(path.join(root, 'scripts', 'node24.sh'), {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']}).trim();
const node = path.join(node24, 'node');

const hash = createHash('sha256');
hash.update(readFileSync(path.join(root, 'scripts', 'build-exe.mjs')));
hash.update(execFileSync(node, ['--version']));
hash.update(readFileSync(main));
for (const [key, file] of Object.entries(assets)) {
	hash.update(key).update(readFileSync(file));
}

const stamp = hash.digest('hex');
if (!process.argv.includes('--force') && existsSync(executable) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
	process.stderr.write(`build-exe: ${path.relative(root, executable)} is up to date\n`);
	process.exit(0);
}

const blob = path.join(work, 'sea-prep.blob');
const config = path.join(work, 'sea-config.json');
writeFileSync(config, JSON.stringify({main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets}, undefined, '\t'));
execFileSync(node, ['--experimental-sea-config', config], {cwd: work, stdio: 'inherit'});

const temporary = path.join(work, 'logmon');
copyFileSync(node, temporary);
chmodSync(temporary, 0o755);
// postject warns of ELF note sections it cannot name, harmlessly: its output is shown only on failure.
const injected = spawnSync(process.execPath, [path.join(root, 'node_modules', 'postject', 'dist', 'cli.js'), temporary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', fuse], {encoding: 'utf8'});
if (injected.status !== 0) {
	process.stderr.write(`${injected.stdout}${injected.stderr}build-exe: postject failed (${injected.status ?? injected.signal})\n`);
	process.exit(1);
}

rmSync(stampFile, {force: true});
renameSync(temporary, executable);
writeFileSync(stampFile, stamp);
process.stderr.write(`build-exe: ${path.relative(root, executable)} (${(readFileSync(executable).length / 2 ** 20).toFixed(1)} MiB)\n`);
