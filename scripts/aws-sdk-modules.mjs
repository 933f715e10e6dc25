// An esbuild plugin for the AWS SDK (the cloudwatch forwarder's, a chunk of its own loaded only
// when one is configured). Its packages ship CommonJS as "main" and ES modules as "module";
// esbuild takes "main" for Node, and a CommonJS chunk behind `await import()` exports only a
// default, not the SDK's names. The ES modules give real named exports, and let esbuild keep
// only the few commands logmon sends instead of all of them.
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';

export const awsSdkModules = {
	name: 'aws-sdk-modules',
	setup(build) {
		build.onResolve({filter: /^@(?:aws-sdk|smithy|aws-crypto)\/[^/]+$/}, args => {
			let manifest;
			try {
				manifest = createRequire(path.join(args.resolveDir, 'index.js')).resolve(`${args.path}/package.json`);
			} catch {
				return undefined;
			}

			const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
			// A package with an exports map is resolved by esbuild itself, by its import condition.
			if (pkg.exports || typeof pkg.module !== 'string') {
				return undefined;
			}

			return {path: path.join(path.dirname(manifest), pkg.module)};
		});
	},
};
