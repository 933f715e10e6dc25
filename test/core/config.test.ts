import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {ConfigError} from '../../source/config/errors.js';
import {loadConfig, parseConfig} from '../../source/config/load.js';
import {defaultConfigPath} from '../../source/config/locate.js';
import {configFile, sourceConfig} from '../../source/config/schema.js';
import {defaultConfig, defaultListenSource} from '../../source/config/defaults.js';
import {readConfig} from '../../source/config/read.js';
import {root} from '../support/logmon.js';
import {readFileSync} from 'node:fs';

function errorOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
	try {
		parseConfig(raw, 'c.json', env);
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigError);
		return (error as Error).message;
	}

	throw new Error('expected a ConfigError');
}

describe('config validation', () => {
	it('names the JSON path and what was expected', () => {
		expect(errorOf({sources: [{type: 'kafka', brokers: 'a:9092'}]})).toMatch(/^c\.json: sources\[0\]\.brokers: .*expected array/);
		expect(errorOf({sources: [{type: 'carrier-pigeon'}]})).toMatch(/^c\.json: sources\[0\]\.type: .*logstream/);
		expect(errorOf({sources: [{type: 'logstream'}]})).toMatch(/sources\[0\]: .*"acquia".*"url" and "auth"/);
		expect(errorOf({buffer: 'big'})).toMatch(/^c\.json: buffer: .*expected number/);
		expect(errorOf({output: 'xml'})).toMatch(/^c\.json: output: .*"text"/);
		expect(errorOf({filter: {level: 'loud'}})).toMatch(/^c\.json: filter\.level: expected one of trace/);
		expect(errorOf({sources: [{type: 'stdin', bogus: 1}]})).toMatch(/sources\[0\]: .*bogus/);
		expect(errorOf({sources: [{type: 'logio-listen', listen: 'nope'}]})).toMatch(/sources\[0\]\.listen: expected \[host:\]port/);
	});

	it('interpolates ${ENV} and names a missing variable with its path', () => {
		const c = parseConfig({sources: [{type: 'kafka', brokers: ['${BROKER}'], sasl: {mechanism: 'plain', username: 'u', password: '${KAFKA_PASSWORD}'}}]}, 'c.json', {BROKER: 'b:9092', KAFKA_PASSWORD: 's3cret'});
		const kafka = c.sources[0];
		expect(kafka?.type === 'kafka' && kafka.brokers).toEqual(['b:9092']);
		expect(kafka?.type === 'kafka' && kafka.sasl?.password).toBe('s3cret');
		expect(errorOf({sources: [{type: 'kafka', brokers: ['${NOPE_NOT_SET}']}]})).toBe('c.json: sources[0].brokers[0]: environment variable NOPE_NOT_SET is not set');
		const escaped = parseConfig({template: '$${literal}'}, 'c.json', {});
		expect(escaped.template).toBe('${literal}');
	});

	it('looks in --config, then XDG_CONFIG_HOME, then uses defaults', () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-config-'));
		expect(defaultConfigPath({XDG_CONFIG_HOME: dir})).toBe(path.join(dir, 'logmon', 'config.json'));
		expect(loadConfig(undefined, {XDG_CONFIG_HOME: dir}).file).toBeUndefined();
		const file = path.join(dir, 'explicit.json');
		writeFileSync(file, JSON.stringify({buffer: 1234}));
		expect(loadConfig(file, {}).config.buffer).toBe(1234);
		expect(() => loadConfig(path.join(dir, 'missing.json'), {})).toThrow(/missing\.json: cannot read config: no such file/);
		writeFileSync(file, '{"buffer": ');
		expect(() => loadConfig(file, {})).toThrow(/explicit\.json: not valid JSON/);
	});

	it('a config nested past any setting, or larger than any config, is an error naming the file, not a crash', () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-config-'));
		const deep = path.join(dir, 'deep.json');
		writeFileSync(deep, `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
		expect(() => loadConfig(deep, {})).toThrow(/^[^\n]*deep\.json: a\[0\]\[0\]…: nested more than 64 levels deep/);
		const large = path.join(dir, 'large.json');
		writeFileSync(large, `{"buffer":1000,"pad":"${'x'.repeat(17 * 1024 * 1024)}"}`);
		expect(() => loadConfig(large, {})).toThrow(/large\.json: cannot read config: larger than 16 MiB; not a config file/);
		// A device that never ends is refused as it is read.
		expect(() => loadConfig('/dev/zero', {})).toThrow(/\/dev\/zero: cannot read config: larger than 16 MiB/);
	});

	it('the defaults of a run without a config file are what the schema gives', () => {
		expect(defaultConfig()).toEqual(configFile.parse({}));
		expect(defaultListenSource()).toEqual(sourceConfig.parse({type: 'logio-listen'}));
		expect(defaultConfig()).not.toBe(defaultConfig());
	});

	it('readConfig: the defaults without a file, loadConfig\'s answer and errors with one', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-config-'));
		expect(await readConfig(undefined, {XDG_CONFIG_HOME: dir})).toEqual({config: configFile.parse({}), file: undefined});
		const xdg = path.join(dir, 'logmon', 'config.json');
		mkdirSync(path.dirname(xdg));
		writeFileSync(xdg, JSON.stringify({buffer: 4321}));
		expect(await readConfig(undefined, {XDG_CONFIG_HOME: dir})).toMatchObject({config: {buffer: 4321}, file: xdg});
		writeFileSync(xdg, JSON.stringify({buffer: 'many'}));
		await expect(readConfig(undefined, {XDG_CONFIG_HOME: dir})).rejects.toThrow(ConfigError);
		await expect(readConfig(path.join(dir, 'missing.json'), {})).rejects.toThrow(/missing\.json: cannot read config: no such file/);
	});

	it('config.example.json is valid and shows every source kind', () => {
		const raw = JSON.parse(readFileSync(path.join(root, 'config.example.json'), 'utf8')) as {sources: Array<{type: string}>};
		const env = {KAFKA_PASSWORD: 'x', LOGSTREAM_HMAC: 'x', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x', HOOK_TOKEN: 'x', SMTP_PASSWORD: 'x', LOGMON_HTTP_TOKEN: '0123456789abcdef0123'};
		const c = parseConfig(raw, 'config.example.json', env);
		// Every kind of the schema's union, so that a new kind cannot be left out of the example.
		expect(new Set(c.sources.map(s => s.type))).toEqual(new Set(sourceConfig.options.map(o => o.shape.type.value)));
		expect(new Set(Object.values(c.alerts.sinks).map(s => s.type))).toEqual(new Set(['terminal', 'slack', 'webhook', 'alertmanager', 'email', 'command']));
		expect(c.alerts.rules.map(r => ['count', 'rate', 'spike', 'flatline', 'newTerm'].find(k => k in r && r[k as keyof typeof r] !== undefined) ?? 'match'))
			.toEqual(['match', 'count', 'rate', 'spike', 'flatline', 'newTerm']);
		expect(c.forward.map(f => [f.name, f.type])).toEqual([['archive', 'file'], ['errors', 'file']]);
		expect(c.http).toEqual({listen: '127.0.0.1:5004', token: '0123456789abcdef0123', cors: ['https://grafana.example.com'], maxStreamClients: 64, streamQueue: 10_000, streamStuckMs: 10_000});
	});
});
