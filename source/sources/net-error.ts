// One short, human cause for a failed connection: "connection refused",
// "TLS: certificate has expired", ... Used in source states and retry lines.

const tlsCodes = new Set([
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_HAS_EXPIRED',
	'CERT_NOT_YET_VALID',
	'CERT_REVOKED',
	'CERT_UNTRUSTED',
	'CERT_REJECTED',
	'HOSTNAME_MISMATCH',
	'ERR_TLS_CERT_ALTNAME_INVALID',
	'EPROTO',
]);

type Coded = Error & {code?: unknown; cause?: unknown};

/** The innermost error that carries a code (fetch wraps socket errors in `cause`). */
function root(error: unknown): Coded | undefined {
	let e: unknown = error;
	for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
		const c = e as Coded;
		if (typeof c.code === 'string' || !(c.cause instanceof Error)) {
			return c;
		}

		e = c.cause;
	}

	return e instanceof Error ? e as Coded : undefined;
}

export function isTlsError(error: unknown): boolean {
	const e = root(error);
	const code = typeof e?.code === 'string' ? e.code : '';
	return tlsCodes.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /\b(?:SSL|TLS)\b|certificate/i.test(e?.message ?? '');
}

export function describeNetworkError(error: unknown): string {
	if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
		return 'timed out';
	}

	const e = root(error);
	if (!e) {
		return String(error);
	}

	const code = typeof e.code === 'string' ? e.code : '';
	if (isTlsError(e)) {
		// OpenSSL messages carry a library trace; the reason is the part after "SSL routines:<function>:".
		// Node 24 appends advice on --use-system-ca; logmon's README gives its own (NODE_EXTRA_CA_CERTS).
		const openssl = /SSL routines:[^:]*:([^:]+)/.exec(e.message);
		const message = e.message.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca$/, '');
		return `TLS: ${openssl ? openssl[1]!.trim() : (oneLine(message) || code)}`;
	}

	switch (code) {
		case 'ECONNREFUSED': {
			return 'connection refused';
		}

		case 'ECONNRESET': {
			return 'connection reset';
		}

		case 'ETIMEDOUT': {
			return 'connection timed out';
		}

		case 'ENOTFOUND':
		case 'EAI_AGAIN': {
			const {hostname} = e as {hostname?: unknown};
			return `cannot resolve host${typeof hostname === 'string' ? ' ' + hostname : ''}`;
		}

		case 'EHOSTUNREACH':
		case 'ENETUNREACH': {
			return 'host unreachable';
		}

		default: {
			return oneLine(e.message) || code || 'unknown error';
		}
	}
}

/** Collapse whitespace and control characters, and cap the length, so a cause fits on one line. */
export function oneLine(text: string, max = 200): string {
	const flat = text.replace(/[\u0000-\u001F\u007F-\u009F\s]+/g, ' ').trim();
	return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
