import {describe, expect, test} from 'vitest';
import {toRule} from '../../source/config/alerts.js';
import {ConfigError} from '../../source/config/errors.js';
import {parseConfig} from '../../source/config/load.js';
import {parseArgs} from '../../source/cli.js';
import {resolveSettings} from '../../source/settings.js';

// `alerts` in the config: defaults, every kind, errors that name the rule and the field.

function errorOf(alerts: unknown): string {
	try {
		parseConfig({alerts}, 'c.json', {});
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigError);
		return (error as Error).message;
	}

	throw new Error('expected a ConfigError');
}

describe('alerts config', () => {
	test('every kind, with the defaults applied', () => {
		const c = parseConfig({alerts: {
			defaults: {cooldown: '2m', groupBy: 'service'},
			rules: [
				{name: 'm', when: 'level>=critical'},
				{name: 'c', count: {atLeast: 10, window: '5m'}, groupBy: ['host', 'user.id']},
				{name: 'r', rate: {above: '2/s', for: 30}},
				{name: 's', spike: {factor: 3, window: '10m'}, cooldown: '1h'},
				{name: 'f', flatline: {window: '10m'}, resolve: false},
				{name: 'n', newTerm: {}},
			],
		}}, 'c.json', {});
		const rules = c.alerts.rules.map(r => toRule(r, c.alerts.defaults));
		expect(rules.map(r => r.spec)).toEqual([
			{kind: 'match', resolveAfterMs: 120_000},
			{kind: 'count', atLeast: 10, windowMs: 300_000},
			{kind: 'rate', perMinute: 120, windowMs: 60_000, forMs: 30_000},
			{kind: 'spike', factor: 3, windowMs: 600_000, minCurrent: 1, minReference: 1},
			{kind: 'flatline', below: 1, windowMs: 600_000},
			{kind: 'newTerm', field: 'fingerprint', warmupMs: 600_000, resolveAfterMs: 120_000, maxTerms: 10_000},
		]);
		expect(rules[0]).toMatchObject({groupBy: ['service'], notify: ['terminal'], cooldownMs: 120_000, resolve: true, severity: 'warning'});
		expect(rules[1]!.groupBy).toEqual(['host', 'user.id']);
		expect(rules[3]!.cooldownMs).toBe(3_600_000);
		expect(rules[4]!.resolve).toBe(false);
	});

	test('errors name the rule and the field', () => {
		expect(errorOf({rules: [{name: 'a'}, {name: 'db', count: {atLeast: 0, window: '5m'}}]})).toMatch(/^c\.json: alerts\.rules\[1\] \("db"\)\.count\.atLeast: /);
		expect(errorOf({rules: [{name: 'db', when: 'level>=loud'}]})).toMatch(/^c\.json: alerts\.rules\[0\] \("db"\)\.when: .*unknown level "loud"/);
		expect(errorOf({rules: [{name: 'db', when: '(unclosed'}]})).toMatch(/alerts\.rules\[0\] \("db"\)\.when: /);
		expect(errorOf({rules: [{name: 'db', count: {atLeast: 1, window: '5m'}, rate: {above: 1}}]})).toMatch(/alerts\.rules\[0\] \("db"\): give one kind of rule, not count and rate/);
		expect(errorOf({rules: [{name: 'db', notify: ['pager']}]})).toBe('c.json: alerts.rules[0] ("db").notify[0]: no sink named "pager"; the sinks are: terminal');
		expect(errorOf({rules: [{name: 'x'}, {name: 'x'}]})).toMatch(/alerts\.rules\[1\] \("x"\)\.name: two rules are named "x"/);
		expect(errorOf({rules: [{name: 'db', rate: {above: 'lots'}}]})).toMatch(/rate\.above: expected events per minute/);
		expect(errorOf({rules: [{name: 'db', count: {atLeast: 1, window: '500ms'}}]})).toMatch(/count\.window: a window is at least 1s/);
		expect(errorOf({sinks: {pager: {url: 'http://x'}}})).toMatch(/alerts\.sinks\.pager\.type: /);
		expect(errorOf({sinks: {slack: {url: 'ftp://x'}}})).toMatch(/alerts\.sinks\.slack\.url: expected an http/);
		expect(errorOf({sinks: {page: {type: 'command', argv: []}}})).toMatch(/alerts\.sinks\.page\.argv: /);
		// Delays are timers', which Node runs after 1 ms past some 24.8 days; a resend of 0 would post without pause.
		expect(errorOf({sinks: {am: {type: 'alertmanager', url: 'http://h', resend: '30d'}}})).toMatch(/alerts\.sinks\.am\.resend: expected a duration from 1s to 24d/);
		expect(errorOf({sinks: {am: {type: 'alertmanager', url: 'http://h', resend: 0}}})).toMatch(/alerts\.sinks\.am\.resend: /);
		expect(errorOf({sinks: {hook: {type: 'webhook', url: 'http://h', timeout: '25d'}}})).toMatch(/alerts\.sinks\.hook\.timeout: expected a duration up to 24d/);
	});

	test('a sink named after its kind needs no type; ${ENV} in its values', () => {
		const c = parseConfig({alerts: {sinks: {slack: {url: '${SLACK_URL}'}, webhook: {url: 'http://h/x', headers: {authorization: 'Bearer ${T}'}}}}}, 'c.json', {SLACK_URL: 'https://hooks.slack.com/services/A/B/C', T: 'tok'});
		expect(c.alerts.sinks['slack']).toMatchObject({type: 'slack', url: 'https://hooks.slack.com/services/A/B/C', rateLimit: 60});
		expect(c.alerts.sinks['webhook']).toMatchObject({type: 'webhook', format: 'logmon', headers: {authorization: 'Bearer tok'}, retries: 5, timeout: 10_000});
	});

	test('--alert and --no-bell; --demo adds its two rules', async () => {
		const config = parseConfig({}, 'c.json', {});
		const settings = await resolveSettings(parseArgs(['--alert', 'level>=critical', '--alert', 'level>=critical', '--no-bell', '--demo']).flags, config, {stdinIsTTY: true, input: []});
		expect(settings.alerts.bell).toBe(false);
		expect(settings.alerts.rules.map(r => [r.name, r.spec.kind, r.notify])).toEqual([
			['level>=critical', 'match', ['terminal']],
			['level>=critical (2)', 'match', ['terminal']],
			['demo-critical', 'match', ['terminal']],
			['demo-5xx-rate', 'rate', ['terminal']],
		]);
		expect((await resolveSettings(parseArgs([]).flags, config, {stdinIsTTY: true, input: []})).alerts).toEqual({rules: [], sinks: {}, bell: true});
	});
});
