import {main} from './main.js';

// The entry of the single executable (`npm run build:exe`, scripts/build-exe.mjs), in place of
// bin/logmon.js: the same launch and exit. No package.json travels with the executable, so the
// build embeds the fields --version and the process title need (LOGMON_PACKAGE), and React's
// production build is chosen at bundle time (process.env.NODE_ENV is defined there).

declare const LOGMON_PACKAGE: Record<string, unknown>;

async function run(): Promise<void> {
	try {
		const code = await main(process.argv.slice(2), {pkg: LOGMON_PACKAGE});
		process.exitCode = code;
		// Sockets and timers of stopped sources must not hold the process open.
		setTimeout(() => process.exit(code), 100).unref();
	} catch (error) {
		process.stderr.write(`logmon: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
		process.exit(70);
	}
}

void run();
