import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

// The real logs `--demo` replays (from the loghub collection, test/fixtures/loghub), and
// where they are found at run time, whatever runs logmon:
//   - the single executable (npm run build:exe): its embedded assets `demo-logs/<file>`;
//   - the npm package and the clone's build: dist/demo-logs/, which the build fills
//     (scripts/bundle.mjs), found relative to this module (dist/, dist/bundle/ or a chunk
//     below it), never through the source tree;
//   - the sources run directly (tsx): test/fixtures/loghub.
// The loghub licence notice (LICENSE, README.md, CITATION) travels with every copy.

/** The fixture logs the demo replays (HealthApp_2k.log is not one of them). */
export const demoLogFiles = [
	'Apache_2k.log',
	'BGL_2k.log',
	'HDFS_2k.log',
	'Hadoop_2k.log',
	'Linux_2k.log',
	'OpenSSH_2k.log',
	'OpenStack_2k.log',
	'Spark_2k.log',
	'Zookeeper_2k.log',
] as const;

export type DemoLogFile = typeof demoLogFiles[number];

/** The loghub notice, copied beside the logs wherever they go. */
export const demoLogNotices = ['LICENSE', 'README.md', 'CITATION'] as const;

/** The folder name in dist/ and the asset prefix in the single executable. */
export const demoLogsName = 'demo-logs';

type Sea = {isSea(): boolean; getAsset(key: string, encoding: string): string};

function embedded(): Sea | undefined {
	// node:sea exists from Node 20.12; getBuiltinModule from 20.16 (undefined before: plain files then).
	const sea = process.getBuiltinModule?.('node:sea') as Sea | undefined;
	return sea?.isSea() ? sea : undefined;
}

function folder(): string {
	const here = path.dirname(fileURLToPath(import.meta.url));
	const candidates = [
		path.join(here, demoLogsName),
		path.join(here, '..', demoLogsName),
		path.join(here, '..', '..', demoLogsName),
		path.join(here, '..', 'test', 'fixtures', 'loghub'),
	];
	const found = candidates.find(dir => existsSync(path.join(dir, demoLogFiles[0])));
	if (!found) {
		throw new Error(`the demo's logs are missing: none of ${candidates.join(', ')} holds them (npm run build copies them into dist/${demoLogsName})`);
	}

	return found;
}

/** The text of one of the demo's logs. */
export function readDemoLog(file: DemoLogFile): string {
	const sea = embedded();
	return sea ? sea.getAsset(`${demoLogsName}/${file}`, 'utf8') : readFileSync(path.join(folder(), file), 'utf8');
}
