import {describe, expect, test} from 'vitest';
import {parseArgs} from '../../source/cli.js';
import {ConfigError} from '../../source/config/errors.js';
import {parseConfig} from '../../source/config/load.js';
import {type ConfigFile} from '../../source/config/schema.js';
import {eventOutlets, resolveSettings, UsageError} from '../../source/settings.js';

// `forward` in the config and `--forward URL`: the common fields, names, spool defaults, and
// errors that name the flag or the JSON path.

async function forward(argv: string[], config: unknown = {}) {
	const {flags, input} = parseArgs(argv, {name: 'logmon', version: '0'});
	return (await resolveSettings(flags, parseConfig(config, 'c.json', {}) as ConfigFile, {stdinIsTTY: true, input, env: {XDG_STATE_HOME: '/state'}})).forward;
}

async function errorOf(argv: string[], config: unknown = {}): Promise<string> {
	try {
		await forward(argv, config);
	} catch (error) {
		expect(error instanceof UsageError || error instanceof ConfigError).toBe(true);
		return (error as Error).message;
	}

	throw new Error('expected an error');
}

describe('forward settings', () => {
	test('a file URL: path and options from the URL, the common defaults, no spool for files', async () => {
		const [f] = await forward(['--forward', 'file:///var/log/logmon/all.ndjson?format=text&maxSize=100MiB&rotateEvery=1d&keep=7&gzip=true']);
		expect(f).toMatchObject({
			type: 'file',
			name: 'file',
			path: '/var/log/logmon/all.ndjson',
			format: 'text',
			maxSize: 100 * 1024 ** 2,
			rotateEvery: 86_400_000,
			keep: 7,
			gzip: true,
			spool: false,
			filter: '',
			queue: 20_000,
			spoolMaxSize: 1024 ** 3,
			retry: {initialDelay: 500, maxDelay: 60_000, maxAttempts: 0},
			timeout: 30_000,
		});
	});

	test('config ones first, then flags; names default to the kind and never clash', async () => {
		const all = await forward(['--forward', 'file:///b', '--forward', 'file:///c'], {forward: [{type: 'file', path: '/a', name: 'file-2'}, {type: 'file', path: '/d', spool: true, filter: 'level>=warn !health'}]});
		expect(all.map(f => [f.name, f.type === 'file' ? f.path : '', f.spool])).toEqual([['file-2', '/a', false], ['file', '/d', true], ['file-3', '/b', false], ['file-4', '/c', false]]);
	});

	test('every forwarder is an outlet the no-redaction warning names', async () => {
		const {flags, input} = parseArgs(['--forward', 'file:///b', '--no-history'], {name: 'logmon', version: '0'});
		const settings = await resolveSettings(flags, parseConfig({}, 'c.json', {}) as ConfigFile, {stdinIsTTY: true, input, env: {}});
		expect(eventOutlets(settings)).toEqual(['forwarder file']);
	});

	test('errors name the flag or the JSON path', async () => {
		expect(await errorOf(['--forward', 'ftp://host/x'])).toBe('--forward: unknown scheme "ftp:" in "ftp://host/x"; expected file://, kafka://, http://, https:// or cloudwatch://');
		expect(await errorOf(['--forward', 'not a url'])).toMatch(/^--forward: expected a URL such as file:\/\/\/var\/log\/logmon\/all\.ndjson/);
		expect(await errorOf(['--forward', 'file:///x?colour=red'])).toMatch(/^--forward: file:\/\/\/x\?colour=red: unknown parameter "colour"/);
		expect(await errorOf(['--forward', 'file:///x?maxSize=big'])).toMatch(/^--forward file:\/\/\/x\?maxSize=big: maxSize: expected a size such as 100MiB/);
		expect(await errorOf([], {forward: [{type: 'file', path: '/x', filter: 'level>=loud'}]})).toMatch(/^c\.json: forward\[0\]\.filter: filter: unknown level "loud"/);
		expect(await errorOf([], {forward: [{type: 'file', path: '/x', filter: '(unclosed'}]})).toMatch(/^c\.json: forward\[0\]\.filter: filter: invalid regular expression/);
		expect(await errorOf([], {forward: [{type: 'file'}]})).toMatch(/^c\.json: forward\[0\]\.path: /);
		// Timers' delays: Node runs one past some 24.8 days after 1 ms.
		expect(await errorOf([], {forward: [{type: 'file', path: '/x', timeout: '25d'}]})).toMatch(/^c\.json: forward\[0\]\.timeout: expected a duration up to 24d/);
		expect(await errorOf([], {forward: [{type: 'file', path: '/x', retry: {maxDelay: '30d'}}]})).toMatch(/^c\.json: forward\[0\]\.retry\.maxDelay: expected a duration up to 24d/);
		expect(await errorOf([], {forward: [{type: 'smtp', path: '/x'}]})).toMatch(/^c\.json: forward\[0\]\.type: /);
		expect(await errorOf([], {forward: [{type: 'file', path: '/x', name: 'a b'}]})).toMatch(/^c\.json: forward\[0\]\.name: expected letters, digits/);
		expect(await errorOf([], {forward: [{type: 'file', path: '/x', name: 'a'}, {type: 'file', path: '/y', name: 'a'}]})).toBe('forward[1]: two forwarders are named "a"; give each a unique name');
		expect(await errorOf([], {forward: [{type: 'file', path: '/x', format: 'template'}]})).toMatch(/^c\.json: forward\[0\]\.template: format "template" needs a template/);
	});
});
