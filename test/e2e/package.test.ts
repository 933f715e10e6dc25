import {readdirSync, readFileSync, realpathSync, statSync} from 'node:fs';
import path from 'node:path';
import {beforeAll, describe, expect, test} from 'vitest';
import {demoLogFiles, demoLogNotices} from '../../source/demo-logs.js';
import {distChecks, type Launcher, makeDir, scratch, skipDist} from '../support/dist.js';
import {type Installed, packAndInstall} from '../support/install.js';
import {root} from '../support/logmon.js';

// The npm package as users install it: `npm pack`, then `npm install --global` of the tarball
// into a temporary prefix, run from a folder outside the clone with only node on the PATH.

/** Every file below `dir`, node_modules left out. */
function files(dir: string): string[] {
	return readdirSync(dir, {withFileTypes: true}).flatMap(e => {
		const p = path.join(dir, e.name);
		return e.isDirectory() ? (e.name === 'node_modules' ? [] : files(p)) : [p];
	});
}

describe.skipIf(skipDist())('the npm package, packed and installed from its tarball', () => {
	let install: Installed;
	let installed: string;
	let launcher: Launcher;

	beforeAll(() => {
		const dir = scratch('package');
		// `npm test` has just built dist/, which the tarball takes.
		install = packAndInstall(dir);
		installed = install.packageDir;
		launcher = {command: install.bin, env: {HOME: makeDir(path.join(dir, 'home')), PATH: path.dirname(process.execPath)}, cwd: makeDir(path.join(dir, 'work'))};
	}, 300_000);

	test('the tarball: README, bin, the bundle and the demo\'s logs beside the loghub notice; nothing else', () => {
		const paths = install.packed.files.map(f => f.path);
		for (const p of paths) {
			expect(p).toMatch(/^(package\.json|README\.md|bin\/logmon\.js|dist\/bundle\/[\w/-]+\.js|dist\/bundle\/re2js\.cjs|dist\/demo-logs\/[\w.-]+)$/);
			expect(p).not.toMatch(/(^|\/)(test|source|scripts|patches|\.cache|node_modules)\/|\.map$|\.env|\.npmrc|\.pem$|\.key$/);
		}

		for (const file of [...demoLogFiles, ...demoLogNotices]) {
			expect(paths).toContain(`dist/demo-logs/${file}`);
		}

		expect(paths).toContain('README.md');
		// About 1.45 MiB, Ink and yoga-layout's WebAssembly inside.
		expect(install.packed.size).toBeLessThan(1.75 * 2 ** 20);
	});

	test('the install: react from the registry, everything else inside the bundle, nothing of the clone', () => {
		const deps = readdirSync(path.join(installed, 'node_modules'));
		expect(deps).toContain('react');
		for (const bundled of ['ink', 'yoga-layout', 'kafkajs', 'zod', 'meow', 're2js', 'p-retry', 'patch-package', 'typescript', 'esbuild', 'vitest', 'tsx', 'postject']) {
			expect(deps).not.toContain(bundled);
		}

		expect(realpathSync(installed).startsWith(root)).toBe(false);
		const own = files(installed);
		expect(own.filter(f => readFileSync(f, 'utf8').includes(root))).toEqual([]);
		// patches/kafkajs+2.2.4.patch is inside the bundle (its decoder's readSmallVarLong): the only
		// kafkajs of the install, since none is installed beside it. The Kafka round trip runs it.
		expect(own.filter(f => f.includes(`${path.sep}bundle${path.sep}`) && readFileSync(f, 'utf8').includes('readSmallVarLong'))).toHaveLength(1);
		// patches/ink+6.8.0.patch (Ink's text caches bounded) is inside too, in the UI's chunk: an Ink
		// installed from the registry would keep every text the UI ever laid out.
		expect(own.filter(f => f.includes(`${path.sep}bundle${path.sep}`) && readFileSync(f, 'utf8').includes('maxCachedChars'))).toHaveLength(1);
		expect(statSync(path.join(installed, 'dist', 'demo-logs', 'LICENSE')).size).toBeGreaterThan(0);
	});

	test('the package runs no script at install time (npm 11 asks users to allow any, prepare too)', () => {
		const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {scripts?: Record<string, string>};
		for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
			expect(pkg.scripts?.[hook], hook).toBeUndefined();
		}
	});

	distChecks(() => launcher);
});
