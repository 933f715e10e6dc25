import {describe, expect, test} from 'vitest';
import {parseArgs} from '../../source/cli.js';
import {parseConfig} from '../../source/config/load.js';
import {type ConfigFile} from '../../source/config/schema.js';
import {UsageError, resolveSettings} from '../../source/settings.js';

// --otlp and --journal to source configs, and the errors that name the flag.

function sources(argv: string[]) {
	const {flags, input} = parseArgs(argv, {name: 'logmon', version: '0'});
	return resolveSettings(flags, parseConfig({}, 'c.json', {}) as ConfigFile, {stdinIsTTY: true, input, env: {XDG_STATE_HOME: '/state'}}).sources;
}

describe('--otlp and --journal', () => {
	test('--otlp alone is loopback port 4318; a port or host:port is taken as given', () => {
		expect(sources(['--otlp'])).toMatchObject([{type: 'otlp', listen: '127.0.0.1:4318', maxBodyBytes: 64 * 1024 * 1024, retryAfterSeconds: 1}]);
		expect(sources(['--otlp', '14318'])).toMatchObject([{type: 'otlp', listen: '14318'}]);
		expect(sources(['--otlp', '0.0.0.0:4318'])).toMatchObject([{type: 'otlp', listen: '0.0.0.0:4318'}]);
		expect(() => sources(['--otlp', 'nope'])).toThrow(UsageError);
		expect(() => sources(['--otlp', 'nope'])).toThrow(/--otlp: listen/);
	});

	test('--journal alone follows the whole journal; a list names units; an option is not a unit', () => {
		expect(sources(['--journal'])).toMatchObject([{type: 'journald', units: [], journalctl: 'journalctl'}]);
		expect(sources(['--journal', 'nginx.service,ssh.service'])).toMatchObject([{type: 'journald', units: ['nginx.service', 'ssh.service']}]);
		expect(() => sources(['--journal=--since=today'])).toThrow(/--journal: units\[0\]: expected a unit name/);
	});
});
