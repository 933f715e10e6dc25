// The two rules `--demo` brings, so a first run shows an alert without a config:
// every CRITICAL line (the demo's PHP fatal errors), and the 5xx rate of the demo's
// Apache requests (about 200 a minute at the default --demo-rate of 200 lines/s).
// Both fire within the first minute and notify the terminal.

export const demoRules = [
	{name: 'demo-critical', when: 'level>=critical', groupBy: 'service', cooldown: '1m', match: {}, severity: 'critical', description: 'a CRITICAL line'},
	{name: 'demo-5xx-rate', when: 'type=apache-request level>=error', rate: {above: '30/min', window: '30s', for: '10s'}, cooldown: '5m', description: 'Apache answered 5xx more than 30 times a minute for 10 s'},
];
