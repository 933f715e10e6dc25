import {expect, test} from 'vitest';
import {Bus} from '../../source/core/bus.js';
import {configSecrets} from '../../source/config/secrets.js';

test('configured secrets are blanked out of diagnostics, source states, parse errors and details', () => {
	const bus = new Bus();
	for (const s of configSecrets({type: 'kafka', brokers: ['b:9092'], sasl: {mechanism: 'plain', username: 'u', password: 'hunter2"x'}, auth: {site: 's', d: 'abcdef0123'}})) {
		bus.diagnostics.secrets.add(s);
	}

	const handle = bus.addSource('kafka', 'kafka', {});
	handle.setState('failed', 'SASL refused for password hunter2"x');
	handle.parseError('server said {"d":"abcdef0123","echo":"hunter2\\"x"}');
	handle.detail('url', 'https://u:hunter2%22x@host/');
	bus.diagnostics.add('warn', 'kafka', 'again: hunter2"x');
	expect(handle.health.reason).toBe('SASL refused for password [redacted]');
	expect(handle.health.lastParseError).toBe('server said {"d":"[redacted]","echo":"[redacted]"}');
	expect(handle.health.details['url']).toBe('https://u:[redacted]@host/');
	expect(bus.diagnostics.recent(10).map(d => d.text)).not.toContainEqual(expect.stringContaining('hunter2'));
	expect(configSecrets({username: 'u', brokers: ['x']})).toEqual([]);
});
