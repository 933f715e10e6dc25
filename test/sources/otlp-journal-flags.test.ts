import {describe, expect, test} from 'vitest';
import {parseArgs} from '../../source/cli.js';
import {parseConfig} from '../../source/config/load.js';
import {type ConfigFile} from '../../source/config/schema.js';
import {UsageError, resolveSettings} from '../../source/settings.js';

// --otlp and --journal to source configs, and the errors that name the flag.

async function sources(argv: string[]) {
	const {flags, input} = parseArgs(argv, {name: 'logmon', version: '0'});
	return (await resolveSettings(flags, parseConfig({}, 'c.json', {}) as ConfigFile, {stdinIsTTY: true, input, env: {XDG_STATE_HOME: '/state'}})).sources;
}

describe('--otlp and --journal', () => {
	test('--otlp alone is loopback port 4318; a port or host:port is taken as given', async () => {
		expect(await sources(['--otlp'])).toMatchObject([{type: 'otlp', listen: '127.0.0.1:4318', maxBodyBytes: 64 * 1024 * 1024, retryAfterSeconds: 1}]);
		expect(await sources(['--otlp', '14318'])).toMatchObject([{type: 'otlp', listen: '14318'}]);
		expect(await sources(['--otlp', '0.0.0.0:4318'])).toMatchObject([{type: 'otlp', listen: '0.0.0.0:4318'}]);
		await expect(sources(['--otlp', 'nope'])).rejects.toThrow(UsageError);
		await expect(sources(['--otlp', 'nope'])).rejects.toThrow(/--otlp: listen/);
	});

	test('--journal alone follows the whole journal; a list names units; an option is not a unit', async () => {
		expect(await sources(['--journal'])).toMatchObject([{type: 'journald', units: [], journalctl: 'journalctl'}]);
		expect(await sources(['--journal', 'nginx.service,ssh.service'])).toMatchObject([{type: 'journald', units: ['nginx.service', 'ssh.service']}]);
		await expect(sources(['--journal=--since=today'])).rejects.toThrow(/--journal: units\[0\]: expected a unit name/);
	});
});
