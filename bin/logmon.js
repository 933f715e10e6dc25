#!/usr/bin/env node
// Thin launcher: production React build, then the bundled entry (npm run build makes it).
process.env.NODE_ENV ??= 'production';

// Node 22.1 and later keep the compiled bundle on disk, so the next start skips most of the
// compile (about 14 ms of each `logmon query` on Node 24); earlier versions have no such call.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const {default: module} = await import('node:module');
if (module.enableCompileCache) {
	const {homedir} = await import('node:os');
	const {join} = await import('node:path');
	module.enableCompileCache(join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'logmon', 'compile-cache'));
}

const {main} = await import('../dist/bundle/main.js').catch(error => {
	if (error?.code === 'ERR_MODULE_NOT_FOUND') {
		process.stderr.write('logmon: dist/ is missing; run `npm run build` first\n');
		process.exit(1);
	}

	throw error;
});

try {
	const code = await main();
	if (code === 129) {
		// Hung up: end by the signal itself. Node's exit-time restore of a terminal that is gone aborts (EIO).
		process.removeAllListeners('SIGHUP');
		process.kill(process.pid, 'SIGHUP');
	}

	process.exitCode = code;
	// Sockets and timers of stopped sources must not hold the process open.
	setTimeout(() => process.exit(code), 100).unref();
} catch (error) {
	process.stderr.write(`logmon: internal error: ${error?.stack ?? error}\n`);
	process.exit(70);
}
