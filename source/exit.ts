// Exit codes, documented in --help and the README.
export const exitCodes = {
	ok: 0,
	/** Every source failed. */
	failed: 1,
	/** Bad flag, config or regex. */
	usage: 2,
	sigint: 130,
	sigterm: 143,
} as const;
