import path from 'node:path';

// What a file's name says (pure): its service, and whether it is a rotated copy of another.

/** `.1`, `.2.gz`, `-20240501`, `.2024-05-01`, `-20240501.gz`, `.gz`, `.old`: what rotation adds to a name. */
const rotationSuffix = /(?:[.-](?:\d{1,8}|\d{4}-?\d\d-?\d\d(?:-?\d{2,6})?|old|bak))?(?:\.(?:gz|bz2|xz|zst))?$/;

/** `app.log.3.gz` -> `app.log`: the name before any rotation suffix. */
export function unrotatedName(name: string): string {
	const stripped = name.replace(rotationSuffix, '');
	return stripped === '' ? name : stripped;
}

/** The service of a file's lines: `/var/log/nginx/access.log.1` -> `access`, `syslog` -> `syslog`. */
export function serviceOfFile(file: string): string {
	const name = unrotatedName(path.basename(file));
	const dot = name.indexOf('.', 1);
	return dot === -1 ? name : name.slice(0, dot);
}

/** Is `name` a rotation of `of` (`app.log.1`, `app.log-20240501.gz` of `app.log`), and not `of` itself? */
export function isRotationOf(name: string, of: string): boolean {
	return name !== of && name.startsWith(of) && unrotatedName(name) === of;
}

/** The one of `files` (by the path each was first followed under) that `file` is named as a rotation of. */
export function rotationOfOne<T extends {firstPath: string}>(file: string, files: Iterable<T>): T | undefined {
	const dir = path.dirname(file);
	const name = path.basename(file);
	for (const f of files) {
		if (path.dirname(f.firstPath) === dir && isRotationOf(name, path.basename(f.firstPath))) {
			return f;
		}
	}

	return undefined;
}

export function isGzip(file: string): boolean {
	return file.endsWith('.gz');
}

/** A rotated file beside a followed one, and when it was last written (ms). */
export type RotatedCopy = {path: string; mtime: number};

/**
 * Oldest first among rotations written at the same instant (timestamps are coarse): `app.log.2`
 * before `app.log.1` (a higher number is older), dated names in the order of their dates.
 */
export function compareRotations(a: RotatedCopy, b: RotatedCopy): number {
	if (a.mtime !== b.mtime) {
		return a.mtime - b.mtime;
	}

	const na = rotationNumber(a.path);
	const nb = rotationNumber(b.path);
	if (na !== undefined && nb !== undefined && na !== nb) {
		return nb - na;
	}

	return a.path < b.path ? -1 : (a.path > b.path ? 1 : 0);
}

function rotationNumber(file: string): number | undefined {
	const m = /\.(\d{1,4})(?:\.gz)?$/.exec(file);
	return m ? Number(m[1]) : undefined;
}
