import {compileUserRegex} from '../core/filter.js';

// The UI's search pattern: a test for the scan over the store and match ranges
// for highlighting. Same shape as the core's user regex.

export type Matcher = {
	readonly source: string;
	test(text: string): boolean;
	/** Match ranges, UTF-16 indexes, ascending; at most `limit`. */
	ranges(text: string, limit?: number): Array<[start: number, end: number]>;
};

function fromRegExp(re: RegExp): Matcher {
	const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
	return {
		source: re.source,
		test: text => re.test(text),
		ranges(text, limit = 200) {
			const out: Array<[number, number]> = [];
			global.lastIndex = 0;
			for (let m = global.exec(text); m && out.length < limit; m = global.exec(text)) {
				if (m[0].length === 0) {
					global.lastIndex++;
					continue;
				}

				out.push([m.index, m.index + m[0].length]);
			}

			return out;
		},
	};
}

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
		return fromRegExp(compileUserRegex(ci ? `(?i)${text}` : text, 'search'));
	} catch {
		return fromRegExp(new RegExp(text.replaceAll(/[\\^$.*+?()[\]{}|/]/g, String.raw`\$&`), ci ? 'i' : ''));
	}
}
