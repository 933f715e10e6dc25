import {expect, test} from 'vitest';
import {sourceConfig} from '../source/config/schema.js';
import {eventOutlets, unredactedWarning} from '../source/settings.js';

// With redaction off, logmon says so once on stderr when events go on past its own view: the places
// are listed by name, and the list is where later outlets (history, the HTTP server, forwarders)
// add themselves.

const listener = (extra: Record<string, unknown>) => sourceConfig.parse({type: 'logio-listen', ...extra});
const off = {enabled: false, dir: undefined, retentionMs: 0, errorRetentionMs: 0, maxBytes: 0, flushMs: 1000};

test('the places that keep or send events are named, and only they make --no-redact warn', () => {
	expect(eventOutlets({sources: [listener({})], history: off})).toEqual([]);
	expect(eventOutlets({sources: [listener({})], history: {...off, enabled: true}})).toEqual(['the history files']);
	expect(eventOutlets({sources: [listener({serveSubscribers: '127.0.0.1:0'})], history: off})).toEqual(['logio subscribers']);

	expect(unredactedWarning(false, [])).toBeUndefined();
	expect(unredactedWarning(true, ['logio subscribers'])).toBeUndefined();
	expect(unredactedWarning(false, ['logio subscribers'])).toBe('redaction is off (--no-redact or redact.enabled: false): logio subscribers get every line as it came, secrets included');
	expect(unredactedWarning(false, ['history', 'the HTTP API', 'logio subscribers'])).toMatch(/: history, the HTTP API and logio subscribers get every line as it came/);
});
