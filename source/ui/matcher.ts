import {type UserRegex, compileLiteralSearch, compileUserRegex} from '../core/regex.js';

// The UI's search pattern: a test for the scan over the store and match ranges
// for highlighting, in linear time (core/regex.ts).

export type Matcher = UserRegex;

/**
 * The search typed at `/`: a regex, smart case (all lower case ignores case);
 * a half-typed regex ("foo(") searches for the literal text meanwhile.
 */
export function compileSearch(text: string): Matcher | undefined {
	if (text === '') {
		return undefined;
	}

	const ci = text === text.toLowerCase() && !text.startsWith('(?i)');
	try {
		return compileUserRegex(ci ? `(?i)${text}` : text, 'search');
	} catch {
		return compileLiteralSearch(text, ci);
	}
}
