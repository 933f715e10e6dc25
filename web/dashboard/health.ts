import {ago, bodyOf, byId, count, el} from './dom.js';
import {type HealthAnswer} from './types.js';

// Source health: each source's state and counters, the history's state, logmon's version; the
// forwarders' state and counts, in a table of their own shown only when there are any.

export function renderHealth(answer: HealthAnswer): void {
	const now = Date.now();
	const rows = answer.sources.map(s => el('tr', {className: `state-${s.state}`},
		el('td', {className: 'source', text: s.id}),
		el('td', {text: s.kind}),
		el('td', {className: 'state', text: s.state, title: s.reason ?? ''}),
		el('td', {className: 'num', text: count(s.events)}),
		el('td', {className: 'num', text: count(s.drops)}),
		el('td', {className: 'num', text: count(s.parseErrors)}),
		el('td', {className: 'num', text: count(s.reconnects)}),
		el('td', {text: s.lastEventAt === undefined ? '–' : ago(Date.parse(s.lastEventAt), now)}),
	));
	bodyOf('health').replaceChildren(...rows);
	const history = answer.history.state === 'off' ? 'history off (answers from memory)' : `history ${answer.history.state}${answer.history.reason ? `: ${answer.history.reason}` : ''}`;
	renderForwarders(answer.forward ?? [], now);
	byId('health-note').textContent = `logmon ${answer.version}, up ${ago(now - (answer.uptimeSeconds * 1000), now).replace(' ago', '')}, ${history}, ${count(answer.memory.events)} events in memory`;
}

function renderForwarders(forwarders: NonNullable<HealthAnswer['forward']>, now: number): void {
	byId('forward-section').hidden = forwarders.length === 0;
	bodyOf('forward').replaceChildren(...forwarders.map(f => {
		const retryIn = f.state === 'retrying' && f.retryAt !== undefined ? Math.max(0, Math.ceil((Date.parse(f.retryAt) - now) / 1000)) : undefined;
		return el('tr', {className: `state-${f.state}`},
			el('td', {className: 'source', text: f.name}),
			el('td', {className: 'state', text: retryIn === undefined ? f.state : `retrying in ${retryIn} s`, title: f.reason ?? ''}),
			el('td', {className: 'num', text: count(f.sent ?? 0)}),
			el('td', {className: 'num', text: count(f.queued ?? 0)}),
			el('td', {className: 'num', text: count(f.spooled ?? 0)}),
			el('td', {className: 'num', text: count(f.dropped ?? 0)}),
			el('td', {className: 'num', text: count(f.deadLettered ?? 0)}),
		);
	}));
}
