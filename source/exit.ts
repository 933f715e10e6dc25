// Exit codes, documented in --help and the README.
export const exitCodes = {
	ok: 0,
	/** Every source failed. */
	failed: 1,
	/** Bad flag, config or regex. */
	usage: 2,
	/** Hung up: the UI's terminal went away. */
	sighup: 129,
	sigint: 130,
	sigterm: 143,
} as const;

/** A usage error: `logmon: message` on stderr, and the exit code for it. */
export function failUsage(stderr: NodeJS.WritableStream, message: string): number {
	stderr.write(`logmon: ${message}\n`);
	return exitCodes.usage;
}

/**
 * Exit now. A hang-up ends by SIGHUP itself (the shell sees 129 all the same):
 * at exit Node puts back the terminal modes it found, and on a terminal that
 * is gone that fails (EIO) and aborts the process with a native stack trace.
 */
export function exitNow(code: number): never {
	if (code === exitCodes.sighup) {
		process.removeAllListeners('SIGHUP');
		process.kill(process.pid, 'SIGHUP');
	}

	process.exit(code);
}
