import * as z from 'zod';
import {hostPort, sourceName} from './common.js';

// Source kinds "logio-listen" (be a logio server) and "logio" (subscribe to one), protocols.md §2.

export const defaultListen = '127.0.0.1:7701';

export const logioListenConfig = z.strictObject({
	type: z.literal('logio-listen'),
	name: sourceName.optional(),
	/** Where publishers connect. Anything but loopback must be given explicitly. */
	listen: hostPort.default(defaultListen),
	/** Serve logio HTTP subscribers here (drop-in logio server). */
	serveSubscribers: hostPort.optional(),
	/** Largest single JSON value from a publisher, bytes. */
	maxValue: z.number().int().positive().default(1024 * 1024),
	/** Publishers connected at once; more are told so and closed until some leave. */
	maxPublishers: z.number().int().positive().default(1024),
	/** A connection that has not sent its topic within this many ms is closed. */
	topicTimeoutMs: z.number().int().positive().default(5000),
	/** Bytes of unfinished values held across all publishers; past it the one holding the most is closed. */
	maxPartialBytes: z.number().int().positive().default(64 * 1024 * 1024),
	/** Bytes an HTTP subscriber's socket may hold unsent once it has stopped draining; past that it loses lines. */
	subscriberBufferBytes: z.number().int().positive().default(4 * 1024 * 1024),
});

export const logioConfig = z.strictObject({
	type: z.literal('logio'),
	name: sourceName.optional(),
	/** http://host:7702/?app=…&proc=…&host=…&log=… */
	url: z.string().url().refine(u => /^https?:/i.test(u), 'expected an http:// or https:// URL'),
	/** Regexes; when set they replace the same parameter of the URL. */
	app: z.string().optional(),
	proc: z.string().optional(),
	host: z.string().optional(),
	log: z.string().optional(),
});

export type LogioListenConfig = z.infer<typeof logioListenConfig>;
export type LogioConfig = z.infer<typeof logioConfig>;

export type HostPort = {host: string; port: number};

/** `[host:]port` as the flags and config take it; the host defaults to loopback. */
export function parseHostPort(value: string, defaultHost = '127.0.0.1'): HostPort {
	const m = /^(?:(?:\[([^\]]+)\]|([^:\s]*)):)?(\d{1,5})$/.exec(value.trim());
	const port = Number(m?.[3]);
	if (!m || port > 65_535) {
		throw new Error(`expected [host:]port, e.g. 127.0.0.1:7701, got ${JSON.stringify(value)}`);
	}

	const host = m[1] ?? m[2] ?? '';
	return {host: host === '' ? defaultHost : host, port};
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
	return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

/** host:port for messages, with IPv6 in brackets. */
export function formatHostPort(host: string, port: number): string {
	return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
