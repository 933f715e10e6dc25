import {z} from 'zod';

/** `host:port` or `port`; the host defaults to loopback. */
export const hostPort = z.string().regex(/^(?:\[[^\]]+\]|[^:\s]+)?:?\d{1,5}$/, 'expected [host:]port, e.g. 127.0.0.1:7701');

export const sourceName = z.string().min(1).max(64).regex(/^[\w.@-]+$/, 'expected letters, digits, . _ - or @');
