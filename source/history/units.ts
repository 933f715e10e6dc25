// Durations (`3d`, `12h`, `90m`) and sizes (`2GiB`, `500MB`) as the history flags and config take them.

const durationUnits: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000};

/** `3d` → ms; undefined when it is not a positive duration. */
export function parseDuration(text: string): number | undefined {
	const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(text);
	if (!m) {
		return undefined;
	}

	const ms = Number(m[1]) * durationUnits[m[2]!.toLowerCase()]!;
	return ms > 0 && Number.isFinite(ms) ? Math.round(ms) : undefined;
}

const sizeUnits: Record<string, number> = {
	b: 1,
	k: 1000,
	kb: 1000,
	kib: 1024,
	m: 1e6,
	mb: 1e6,
	mib: 1024 ** 2,
	g: 1e9,
	gb: 1e9,
	gib: 1024 ** 3,
	t: 1e12,
	tb: 1e12,
	tib: 1024 ** 4,
};

/** `2GiB` → bytes; a bare number is bytes; undefined when it is not a positive size. */
export function parseSize(text: string): number | undefined {
	const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
	if (!m) {
		return undefined;
	}

	const unit = sizeUnits[(m[2] ?? '').toLowerCase() || 'b'];
	if (unit === undefined) {
		return undefined;
	}

	const bytes = Math.floor(Number(m[1]) * unit);
	return bytes > 0 && Number.isFinite(bytes) ? bytes : undefined;
}

/** 2147483648 → `2.0 GiB`. */
export function formatBytes(n: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	while (n >= 1024 && i < units.length - 1) {
		n /= 1024;
		i++;
	}

	return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}
