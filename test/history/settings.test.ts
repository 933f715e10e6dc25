import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {parseArgs} from '../../source/cli.js';
import {ConfigError} from '../../source/config/errors.js';
import {parseConfig} from '../../source/config/load.js';
import {type ConfigFile} from '../../source/config/schema.js';
import {defaultHistoryDir} from '../../source/history/paths.js';
import {resolveSettings, UsageError} from '../../source/settings.js';

// When the history is on, where it lives and how long it keeps events: flags over config.

const day = 86_400_000;

async function settings(argv: string[], config: unknown = {}, env: {stdinIsTTY?: boolean; env?: NodeJS.ProcessEnv} = {}) {
	const {flags, input} = parseArgs(argv, {name: 'logmon', version: '0'});
	return (await resolveSettings(flags, parseConfig(config, 'c.json', {}) as ConfigFile, {stdinIsTTY: env.stdinIsTTY ?? true, input, env: env.env ?? {XDG_STATE_HOME: '/state'}})).history;
}

describe('history settings', () => {
	test('on with a network source, off for stdin alone, the flags decide otherwise', async () => {
		expect((await settings(['--listen', '7701'])).enabled).toBe(true);
		expect((await settings(['--logio', 'http://h:7702/'])).enabled).toBe(true);
		expect((await settings([])).enabled).toBe(true); // the default source is a logio listener
		expect((await settings(['--stdin'], {}, {stdinIsTTY: false})).enabled).toBe(false);
		expect((await settings([], {}, {stdinIsTTY: false})).enabled).toBe(false);
		expect((await settings(['--history'], {}, {stdinIsTTY: false})).enabled).toBe(true);
		expect((await settings(['--no-history', '--listen', '7701'])).enabled).toBe(false);
		expect((await settings(['--listen', '7701'], {history: {enabled: false}})).enabled).toBe(false);
		expect((await settings(['--demo'])).enabled).toBe(true);
	});

	test('on with OTLP (a network source), off for the journal (it keeps its own, like a file)', async () => {
		expect((await settings(['--otlp', '4318'])).enabled).toBe(true);
		expect((await settings(['--journal'])).enabled).toBe(false);
		expect((await settings(['--journal', '--otlp', ''])).enabled).toBe(true);
	});

	test('defaults: XDG state directory, 3 days, errors 30 days, 2 GiB, 1 s flushes', async () => {
		expect(await settings([])).toEqual({enabled: true, dir: '/state/logmon/history', retentionMs: 3 * day, errorRetentionMs: 30 * day, maxBytes: 2 * 1024 ** 3, flushMs: 1000});
		expect(defaultHistoryDir({HOME: '/home/u'})).toMatch(/\.local\/state\/logmon\/history$/);
		expect(defaultHistoryDir({XDG_STATE_HOME: 'relative'})).toMatch(/\.local\/state\/logmon\/history$/);
	});

	test('flags over config; --demo uses a temporary directory unless one is named', async () => {
		const config = {history: {dir: '/from/config', retention: '7d', errorRetention: '60d', maxSize: '10GiB', flushMs: 500}};
		expect(await settings([], config)).toEqual({enabled: true, dir: '/from/config', retentionMs: 7 * day, errorRetentionMs: 60 * day, maxBytes: 10 * 1024 ** 3, flushMs: 500});
		expect(await settings(['--history-dir', '/flag', '--retention', '12h', '--history-max', '500MB'], config)).toMatchObject({dir: '/flag', retentionMs: 12 * 3_600_000, maxBytes: 500e6});
		expect((await settings(['--history-dir', '~/h'])).dir).toBe(path.join(process.env['HOME'] ?? '', 'h'));
		expect((await settings(['--demo'], config)).dir).toBeUndefined();
		expect((await settings(['--demo', '--history-dir', '/flag'])).dir).toBe('/flag');
		// Errors are never kept shorter than everything else.
		expect((await settings(['--retention', '60d'])).errorRetentionMs).toBe(60 * day);
	});

	test('bad values name the flag or the config path', async () => {
		await expect(settings(['--retention', '3 days'])).rejects.toThrow(UsageError);
		await expect(settings(['--retention', '3 days'])).rejects.toThrow(/--retention: expected a duration such as 3d/);
		await expect(settings(['--history-max', 'lots'])).rejects.toThrow(/--history-max: expected a size such as 2GiB/);
		await expect(settings([], {history: {retention: 'forever'}})).rejects.toThrow(ConfigError);
		await expect(settings([], {history: {retention: 'forever'}})).rejects.toThrow(/c\.json: history\.retention: expected a duration/);
		await expect(settings([], {history: {maxSize: '2 elephants'}})).rejects.toThrow(/history\.maxSize: expected a size/);
		await expect(settings([], {history: {flushMs: 5}})).rejects.toThrow(/history\.flushMs/);
		await expect(settings([], {history: {bogus: 1}})).rejects.toThrow(/history: .*bogus/);
	});
});
