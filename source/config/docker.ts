import * as z from 'zod';
import {sourceName} from './common.js';
import {parseSince} from './kafka.js';

// Source kind "docker": every running container's output, read from the Docker Engine API
// over its unix socket (source/sources/docker.ts), as logspout reads it.

export const defaultDockerSocket = 'unix:///var/run/docker.sock';

/** `unix:///path`, a bare `/path`, or `tcp://host:port` (plain HTTP: no TLS). */
export const dockerSocket = z.string().refine(v => /^(?:unix:\/\/)?\//.test(v) || /^(?:tcp|http):\/\/[^/\s:]+:\d{1,5}\/?$/.test(v), 'expected unix:///var/run/docker.sock, a socket path, or tcp://host:port');

/** Which containers: a container matches when any one entry of any list matches it. */
const containerMatch = z.strictObject({
	/** Container names; `*` matches any run of characters: `web-*`. */
	names: z.array(z.string().min(1)).default([]),
	/** `key` (the label is set) or `key=value`. */
	labels: z.array(z.string().min(1)).default([]),
	/** Image names; without a tag any tag matches (`nginx` matches `nginx:1.27`); `*` as for names. */
	images: z.array(z.string().min(1)).default([]),
});

export const dockerConfig = z.strictObject({
	type: z.literal('docker'),
	name: sourceName.optional(),
	/** The engine's socket; default $DOCKER_HOST, else unix:///var/run/docker.sock. */
	socket: dockerSocket.optional(),
	/** Only these containers (default: all). */
	include: containerMatch.optional(),
	/** Never these containers. */
	exclude: containerMatch.optional(),
	/** logspout's EXCLUDE_LABEL: `key` (skipped when its value is true) or `key=value`. `LOGSPOUT=ignore` in a container's environment always skips it. */
	excludeLabel: z.string().min(1).default('logspout.exclude'),
	/** The first read of the containers running at start: from this time (10m, 2h, RFC 3339) on. */
	since: z.string().refine(v => parseSince(v) !== undefined, 'expected a duration like 30s, 10m, 2h, 1d or an RFC 3339 time').optional(),
	/** The first read of the containers running at start: their last N lines (default 0 without since, all with it). */
	tail: z.number().int().min(0).optional(),
});

export type DockerConfig = z.infer<typeof dockerConfig>;
export type ContainerMatch = z.infer<typeof containerMatch>;

/** The socket to use: the config's, else $DOCKER_HOST, else the default. */
export function dockerSocketUrl(config: Pick<DockerConfig, 'socket'>, env: NodeJS.ProcessEnv = process.env): {url: string; from: string} {
	if (config.socket) {
		return {url: config.socket, from: 'socket'};
	}

	const fromEnv = env['DOCKER_HOST'];
	return fromEnv ? {url: fromEnv, from: 'DOCKER_HOST'} : {url: defaultDockerSocket, from: 'default'};
}

/** `since` (10m, 2h, RFC 3339) to ms since the epoch. */
export function parseDockerSince(text: string, now = Date.now()): number | undefined {
	return parseSince(text, now);
}
