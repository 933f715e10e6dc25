import {readFileSync} from 'node:fs';

// An esbuild plugin for the bundles that carry Ink (scripts/bundle.mjs, scripts/build-exe.mjs).
// With DEV=true, Ink's reconciler imports react-devtools-core (a development aid, not installed)
// and reads its own package.json beside itself, which a bundle does not have beside it: logmon
// then ended with ENOENT as the UI started. DEV is a common name, set for other reasons too, so
// both reads are left out: the UI runs whatever DEV holds.
export const inkWithoutDevtools = {
	name: 'ink-without-devtools',
	setup(b) {
		b.onLoad({filter: /[\\/]ink[\\/]build[\\/]reconciler\.js$/}, args => {
			const edits = [
				['await import(\'./devtools.js\')', 'undefined'],
				['await loadPackageJson()', '{name: undefined, version: undefined}'],
			];
			let contents = readFileSync(args.path, 'utf8');
			for (const [from, to] of edits) {
				if (contents.split(from).length !== 2) {
					throw new Error(`ink changed: ${from} is not in ${args.path} once; scripts/ink-without-devtools.mjs needs a look`);
				}

				contents = contents.replace(from, to);
			}

			return {contents, loader: 'js'};
		});
	},
};
