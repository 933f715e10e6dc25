import {z} from 'zod';
import {hostPort, sourceName} from './common.js';

// Source kinds "logio-listen" (be a logio server) and "logio" (subscribe to one), protocols.md §2.

export const logioListenConfig = z.strictObject({
	type: z.literal('logio-listen'),
	name: sourceName.optional(),
	/** Where publishers connect. Anything but loopback must be given explicitly. */
	listen: hostPort.default('127.0.0.1:7701'),
	/** Serve logio HTTP subscribers here (drop-in logio server). */
	serveSubscribers: hostPort.optional(),
	/** Largest single JSON value from a publisher, bytes. */
	maxValue: z.number().int().positive().default(1024 * 1024),
	/** Events buffered per HTTP subscriber before it loses lines. */
	subscriberBuffer: z.number().int().positive().default(10_000),
});

export const logioConfig = z.strictObject({
	type: z.literal('logio'),
	name: sourceName.optional(),
	/** http://host:7702/?app=…&proc=…&host=…&log=… */
	url: z.string().url(),
	app: z.string().optional(),
	proc: z.string().optional(),
	host: z.string().optional(),
	log: z.string().optional(),
});

export type LogioListenConfig = z.infer<typeof logioListenConfig>;
export type LogioConfig = z.infer<typeof logioConfig>;
