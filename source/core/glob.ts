// File globs as a shell writes them: `*` and `?` within one path segment, `[...]` classes
// (`[!...]` or `[^...]` negated, `a-z` ranges), and `**` for any number of directories.
// Pure: expansion against a directory tree lives in sources/file-glob.ts.
//
// Matching is a loop over the name with one saved position per `*` (the classic wildcard
// matcher): time bounded by name length × pattern length, whatever the pattern.

export type Glob = {
	readonly pattern: string;
	/** The directory the pattern's first wildcard segment is read from ('/' or '.' at the least). */
	readonly base: string;
	/** The segments after `base`, each plain text, a wildcard segment, or `**`. */
	readonly segments: readonly string[];
	/** No wildcard at all: one file, named. */
	readonly literal: boolean;
};

const magic = /[*?[]/;

export function hasMagic(segment: string): boolean {
	return magic.test(segment);
}

export function parseGlob(pattern: string): Glob {
	const absolute = pattern.startsWith('/');
	const parts = pattern.split('/').filter(p => p !== '' && p !== '.');
	const firstMagic = parts.findIndex(p => hasMagic(p));
	if (firstMagic === -1) {
		return {pattern, base: pattern, segments: [], literal: true};
	}

	const head = parts.slice(0, firstMagic).join('/');
	const base = absolute ? `/${head}` : (head === '' ? '.' : head);
	return {pattern, base, segments: parts.slice(firstMagic), literal: false};
}

/** Does one path segment (no `/`) match a wildcard segment? Names starting with a dot need a dot in the pattern. */
export function matchSegment(pattern: string, name: string): boolean {
	if (name.startsWith('.') && !pattern.startsWith('.')) {
		return false;
	}

	let p = 0;
	let n = 0;
	let starP = -1;
	let starN = 0;
	while (n < name.length) {
		if (p < pattern.length) {
			const c = pattern[p]!;
			if (c === '*') {
				starP = p++;
				starN = n;
				continue;
			}

			if (c === '?') {
				p++;
				n++;
				continue;
			}

			if (c === '[') {
				const cls = matchClass(pattern, p, name[n]!);
				if (cls.end !== -1) {
					if (cls.matched) {
						p = cls.end;
						n++;
						continue;
					}
				} else if (name[n] === '[') {
					// An unclosed `[` is plain text.
					p++;
					n++;
					continue;
				}
			} else if (c === name[n]) {
				p++;
				n++;
				continue;
			}
		}

		if (starP === -1) {
			return false;
		}

		// Let the last `*` take one more character and try again from there.
		p = starP + 1;
		n = ++starN;
	}

	while (pattern[p] === '*') {
		p++;
	}

	return p === pattern.length;
}

/** A `[...]` class at `at`: whether `ch` is in it, and where the class ends (-1: not a class). */
function matchClass(pattern: string, at: number, ch: string): {matched: boolean; end: number} {
	let i = at + 1;
	const negated = pattern[i] === '!' || pattern[i] === '^';
	if (negated) {
		i++;
	}

	let matched = false;
	let first = true;
	while (i < pattern.length && (pattern[i] !== ']' || first)) {
		first = false;
		const lo = pattern[i]!;
		if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
			const hi = pattern[i + 2]!;
			if (ch >= lo && ch <= hi) {
				matched = true;
			}

			i += 3;
		} else {
			if (ch === lo) {
				matched = true;
			}

			i++;
		}
	}

	if (i >= pattern.length) {
		return {matched: false, end: -1};
	}

	return {matched: matched !== negated, end: i + 1};
}

/** Does a path (relative to the glob's base, split at `/`) match the glob's segments? */
export function matchRelative(segments: readonly string[], parts: readonly string[]): boolean {
	return matchFrom(segments, 0, parts, 0);
}

function matchFrom(segments: readonly string[], s: number, parts: readonly string[], p: number): boolean {
	for (;;) {
		if (s === segments.length) {
			return p === parts.length;
		}

		const seg = segments[s]!;
		if (seg === '**') {
			// Zero or more directories, none of them hidden.
			for (let k = p; k <= parts.length; k++) {
				if (matchFrom(segments, s + 1, parts, k)) {
					return true;
				}

				if (k < parts.length && parts[k]!.startsWith('.')) {
					return false;
				}
			}

			return false;
		}

		if (p === parts.length) {
			return false;
		}

		if (!segmentMatches(seg, parts[p]!)) {
			return false;
		}

		s++;
		p++;
	}
}

function segmentMatches(seg: string, part: string): boolean {
	return hasMagic(seg) ? matchSegment(seg, part) : seg === part;
}

/** The path's parts below the glob's base, or undefined when it is not under the base. */
function partsBelow(glob: Glob, file: string): string[] | undefined {
	const prefix = glob.base === '/' ? '/' : `${glob.base}/`;
	return file.startsWith(prefix) ? file.slice(prefix.length).split('/').filter(Boolean) : undefined;
}

/** Does an absolute or relative path match the glob? The path must be spelled from the same base. */
export function matchPath(glob: Glob, file: string): boolean {
	if (glob.literal) {
		return file === glob.pattern;
	}

	const parts = partsBelow(glob, file);
	return parts !== undefined && matchRelative(glob.segments, parts);
}

/**
 * Could files matching the glob lie under `dir` (a directory made after the glob was expanded)?
 * True when `dir` matches the glob's leading segments with at least one segment left after them.
 */
export function mayHoldMatches(glob: Glob, dir: string): boolean {
	if (glob.literal) {
		return false;
	}

	const parts = partsBelow(glob, dir);
	if (parts === undefined) {
		return false;
	}

	const {segments} = glob;
	for (let i = 0; i < parts.length; i++) {
		const seg = segments[i];
		if (seg === '**') {
			return !parts.slice(i).some(p => p.startsWith('.'));
		}

		// The last segment names files, not the directories above them.
		if (seg === undefined || i === segments.length - 1 || !segmentMatches(seg, parts[i]!)) {
			return false;
		}
	}

	return parts.length < segments.length;
}
