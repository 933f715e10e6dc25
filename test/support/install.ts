import {execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {root} from './logmon.js';

// logmon as users get it, made from the clone: the npm package packed and installed from its
// tarball, and the single executable. Used by test/e2e/package.test.ts, executable.test.ts and
// bench/cases/startup.ts.

/** What `npm pack --json` says of the tarball. */
export type Packed = {filename: string; size: number; unpackedSize: number; entryCount: number; files: Array<{path: string; size: number}>};

export type Installed = {
	packed: Packed;
	tarball: string;
	/** The global prefix it was installed into. */
	prefix: string;
	/** The installed package's folder. */
	packageDir: string;
	/** The `logmon` command the install put in the prefix's bin/. */
	bin: string;
};

/** The environment for npm itself: this process's, less what `npm test` or `npm run` set for the clone. */
export function npmEnv(): NodeJS.ProcessEnv {
	return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
}

/**
 * `npm pack` the clone (from the dist/ already built: --ignore-scripts leaves prepack's build
 * out), then `npm install --global --prefix` the tarball under `dir`, run from a folder there,
 * as `npm install -g logmon` would install it. react comes from the registry (or npm's cache); Ink is in the bundle.
 */
export function packAndInstall(dir: string): Installed {
	mkdirSync(dir, {recursive: true});
	const packed = (JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {cwd: root, env: npmEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})) as Packed[])[0]!;
	const tarball = path.join(dir, packed.filename);
	const prefix = path.join(dir, 'prefix');
	execFileSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {cwd: dir, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe']});
	return {packed, tarball, prefix, packageDir: path.join(prefix, 'lib', 'node_modules', 'logmon'), bin: path.join(prefix, 'bin', 'logmon')};
}

/** Build the single executable unless build/ holds one made from the same dist/ (scripts/build-exe.mjs keeps a stamp). */
export function buildExecutable(): string {
	execFileSync(process.execPath, [path.join(root, 'scripts', 'build-exe.mjs')], {cwd: root, env: npmEnv(), stdio: ['ignore', 'inherit', 'inherit']});
	return path.join(root, 'build', 'logmon-linux-x64');
}
