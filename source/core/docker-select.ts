// Which containers the Docker source follows, and what their events are called. Pure: no I/O.

/** What the source knows of a container, from the engine's inspect answer. */
export type Container = {
	id: string;
	/** Without Docker's leading slash. */
	name: string;
	image: string;
	labels: Record<string, string>;
	env: string[];
	/** Config.Tty: a raw stream instead of frames. */
	tty: boolean;
	running: boolean;
};

export type Match = {names: string[]; labels: string[]; images: string[]};

export type Selection = {
	include?: Match | undefined;
	exclude?: Match | undefined;
	excludeLabel: string;
};

/** The compose service label: the service name of a container run by docker compose. */
export const composeServiceLabel = 'com.docker.compose.service';

/** The service its events carry: the compose service, else the container's name. */
export function containerService(c: Pick<Container, 'name' | 'labels'>): string {
	return c.labels[composeServiceLabel] || c.name;
}

function glob(pattern: string): RegExp {
	const body = pattern.split('*').map(part => part.replaceAll(/[\\^$.|?+()[\]{}]/g, '\\$&')).join('.*');
	return new RegExp(`^${body}$`);
}

function nameMatches(pattern: string, name: string): boolean {
	return glob(pattern.replace(/^\//, '')).test(name);
}

function labelMatches(rule: string, labels: Record<string, string>): boolean {
	const eq = rule.indexOf('=');
	if (eq === -1) {
		return Object.hasOwn(labels, rule);
	}

	const key = rule.slice(0, eq);
	return Object.hasOwn(labels, key) && labels[key] === rule.slice(eq + 1);
}

/**
 * `nginx` matches nginx:1.27 and registry.example/nginx:latest; `shop/nginx` matches
 * registry.example/shop/nginx; `nginx:1.27` only that tag.
 */
function imageMatches(pattern: string, image: string): boolean {
	const reference = image.split('@')[0]!;
	const lastSlash = reference.lastIndexOf('/');
	const colon = reference.lastIndexOf(':');
	const repository = colon > lastSlash ? reference.slice(0, colon) : reference;
	const tag = colon > lastSlash ? reference.slice(colon) : '';
	const parts = repository.split('/');
	// The repository, without its registry host, and its last part alone.
	const names = [repository, ...(parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!) ? [parts.slice(1).join('/')] : []), parts.at(-1)!];
	const re = glob(pattern);
	return re.test(image) || names.some(n => re.test(pattern.includes(':') ? `${n}${tag}` : n));
}

function matches(m: Match, c: Container): boolean {
	return m.names.some(p => nameMatches(p, c.name))
		|| m.labels.some(l => labelMatches(l, c.labels))
		|| m.images.some(p => imageMatches(p, c.image));
}

function isEmpty(m: Match | undefined): boolean {
	return !m || (m.names.length === 0 && m.labels.length === 0 && m.images.length === 0);
}

/** logspout's exclude label: `key` (skipped when its value is "true") or `key=value` / `key:value`. */
function excludedByLabel(rule: string, labels: Record<string, string>): boolean {
	const sep = /[=:]/.exec(rule);
	if (!sep) {
		return labels[rule]?.toLowerCase() === 'true';
	}

	const key = rule.slice(0, sep.index);
	return Object.hasOwn(labels, key) && labels[key] === rule.slice(sep.index + 1);
}

/** Why the container is not followed, or undefined when it is. */
export function skipReason(c: Container, s: Selection): string | undefined {
	if (c.env.some(e => e === 'LOGSPOUT=ignore')) {
		return 'LOGSPOUT=ignore in its environment';
	}

	if (excludedByLabel(s.excludeLabel, c.labels)) {
		return `the label ${s.excludeLabel}`;
	}

	if (!isEmpty(s.include) && !matches(s.include!, c)) {
		return 'not in docker.include';
	}

	if (!isEmpty(s.exclude) && matches(s.exclude!, c)) {
		return 'in docker.exclude';
	}

	return undefined;
}
