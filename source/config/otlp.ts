import * as z from 'zod';
import {hostPort, sourceName} from './common.js';

// Source kind "otlp": receive OpenTelemetry logs over OTLP/HTTP (POST /v1/logs, protobuf or JSON).

export const defaultOtlpListen = '127.0.0.1:4318';

export const otlpConfig = z.strictObject({
	type: z.literal('otlp'),
	name: sourceName.optional(),
	/** Where exporters send. Anything but loopback must be given explicitly. */
	listen: hostPort.default(defaultOtlpListen),
	/** The service of records whose resource has no service.name. */
	service: z.string().min(1).default('otlp'),
	/** Largest request body after gzip is undone, bytes (the OTLP recommendation: 64 MiB); past it, 413. */
	maxBodyBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
	/** Log records in one request; past it, 413. */
	maxRecords: z.number().int().positive().default(100_000),
	/** What Retry-After says, seconds, when logmon cannot take more (429) or is stopping (503). */
	retryAfterSeconds: z.number().int().min(1).max(3600).default(1),
});

export type OtlpConfig = z.infer<typeof otlpConfig>;
