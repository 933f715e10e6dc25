import {createHash, timingSafeEqual} from 'node:crypto';

// The bearer token. Both sides are hashed first, so the comparison takes the same time whatever
// the length or content of what was sent; the token itself is never logged or echoed.

export type TokenCheck = (authorization: string | undefined) => boolean;

function digest(text: string): Buffer {
	return createHash('sha256').update(text, 'utf8').digest();
}

/** Undefined token: every request passes. */
export function tokenCheck(token: string | undefined): TokenCheck {
	if (token === undefined) {
		return () => true;
	}

	const want = digest(token);
	return authorization => {
		const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
		const got = digest(m?.[1] ?? '');
		// Always compared (a missing header costs what a wrong one does).
		return timingSafeEqual(got, want) && m !== null;
	};
}
