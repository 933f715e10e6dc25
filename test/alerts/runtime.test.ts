import {afterEach, describe, expect, test} from 'vitest';
import {type AlertsRuntime, startAlerts} from '../../source/alerts/run.js';
import {parseConfig} from '../../source/config/load.js';
import {toRule} from '../../source/config/alerts.js';
import {Bus} from '../../source/core/bus.js';
import {type LogEvent} from '../../source/core/event.js';
import {compileFilter, parseFilterExpression} from '../../source/core/filter.js';
import {Receiver} from '../support/alert-peers.js';
import {until} from '../support/logmon.js';

// The rule engine on a real bus with a real webhook peer: alert events come after the
// batch that fired them, stdout's queue never sees them, a silenced rule reaches no
// sink, and the sinks' state is in the health of the "alerts" source.

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
	for (const c of cleanup.splice(0).reverse()) {
		await c();
	}
});

async function setup(rules: unknown[]): Promise<{bus: Bus; alerts: AlertsRuntime; hook: Receiver; seen: LogEvent[]; publish: (message: string, level?: LogEvent['level']) => void}> {
	const hook = await new Receiver().listen();
	const config = parseConfig({alerts: {rules, sinks: {hook: {type: 'webhook', url: hook.url}}}}, 'c.json', {});
	const bus = new Bus();
	const seen: LogEvent[] = [];
	bus.subscribe(batch => {
		seen.push(...batch);
	});
	const alerts = await startAlerts(bus, {rules: config.alerts.rules.map(r => toRule(r, config.alerts.defaults)), sinks: config.alerts.sinks, bell: true});
	cleanup.push(async () => hook.close(), async () => alerts.stop(100));
	const source = bus.addSource('feed', 'stdin');
	const publish = (message: string, level: LogEvent['level'] = 'CRITICAL'): void => {
		const now = Date.now();
		source.publish([{time: now, receivedAt: now, sourceId: 'feed', sourceKind: 'stdin', service: 'api', host: 'h', proc: '', type: '', level, message, raw: message}]);
	};

	return {bus, alerts, hook, seen, publish};
}

describe('alerts at run time', () => {
	test('alert events follow their batch on the bus; stdout\'s queue never gets them; health has the sinks', async () => {
		const {bus, alerts, hook, seen, publish} = await setup([{name: 'crit', when: 'level>=critical', groupBy: 'service', notify: ['hook', 'terminal']}]);
		const stdout = bus.queue('stdout', {filter: compileFilter(parseFilterExpression('')), alerts: false});
		const history = bus.queue('history');
		const terminal: string[] = [];
		alerts.setTerminal(n => terminal.push(`${n.status} ${n.rule}`));
		publish('db down');
		await until(() => seen.some(e => e.marker === 'alert'), 'the alert event');
		expect(seen.map(e => e.marker ?? e.message)).toEqual(['db down', 'alert']);
		expect(seen[1]!.seq).toBeGreaterThan(seen[0]!.seq);
		expect(seen[1]).toMatchObject({type: 'alert', sourceId: 'alerts', service: 'api', level: 'WARN'});
		expect(terminal).toEqual(['firing crit']);
		expect(stdout.take().map(e => e.message)).toEqual(['db down']);
		expect(history.take().map(e => e.marker ?? e.message)).toEqual(['db down', 'alert']);
		await until(() => hook.received.length === 1, 'the webhook');
		await until(() => (bus.source('alerts')!.health.details['sinks'] as Array<{sent: number}>)[0]!.sent === 1, 'health to show the delivery');
		const health = bus.source('alerts')!.health;
		expect(health.state).toBe('live');
		expect(health.details).toMatchObject({rules: 1, firing: 1, sinks: [{name: 'hook', kind: 'webhook', state: 'idle', sent: 1, failed: 0}]});
		const snapshot = alerts.alertsSnapshot();
		expect(snapshot.firing).toMatchObject([{rule: 'crit', group: {service: 'api'}}]);
		expect(snapshot.sinks).toMatchObject([{name: 'hook', sent: 1}]);
	});

	test('a silenced rule is recorded and shown, not sent', async () => {
		const {alerts, hook, seen, publish} = await setup([{name: 'crit', when: 'level>=critical', notify: ['hook']}, {name: 'err', when: 'level>=error', notify: ['hook']}]);
		alerts.engine.silence('crit', Date.now() + 60_000);
		publish('db down');
		await until(() => hook.received.length === 1, 'the other rule\'s notice');
		await until(() => seen.filter(e => e.marker === 'alert').length === 2, 'both alert events');
		const bodies = hook.bodies<{alerts: Array<{rule: string}>}>();
		expect(bodies.flatMap(b => b.alerts.map(a => a.rule))).toEqual(['err']);
		expect(alerts.alertsSnapshot().firing.find(f => f.rule === 'crit')?.silenced).toBe(true);
	});
});
